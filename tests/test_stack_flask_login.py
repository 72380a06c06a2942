"""Flask-Login's "remember me" with ``Consentware(app)`` and no policy, under werkzeug's server.

The integration declares Flask's session cookie and Flask-Login's remember cookie necessary (by
the names the app configures), so a visitor who logged in with ``remember=True`` is still logged
in once the session cookie is gone, whether they chose nothing or refused every category.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from flask import Flask

from consentware import ConsentCookie, Policy
from consentware.flask import Consentware
from tests.support.cookies import deleted_names, set_names
from tests.support.servers import RunningServer, serve_wsgi

flask_login = pytest.importorskip("flask_login")

pytestmark = pytest.mark.e2e

REFUSED = ConsentCookie(Policy.default()).dumps([])
TIMEOUT = httpx.Timeout(10.0)


class User(flask_login.UserMixin):  # type: ignore[misc]
    def __init__(self, user_id: str) -> None:
        self.id = user_id


def create_app(config: dict[str, Any]) -> Flask:
    """A Flask-Login app as its documentation writes it, then ``Consentware(app)``."""
    app = Flask(__name__)
    app.secret_key = "flask-login-test"
    app.config.update(config)
    login_manager = flask_login.LoginManager(app)

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return User(user_id) if user_id == "alice" else None

    @app.post("/login")
    def login() -> str:
        flask_login.login_user(User("alice"), remember=True)
        return "logged in"

    @app.get("/me")
    def me() -> str:
        user = flask_login.current_user
        return str(user.get_id()) if user.is_authenticated else "anonymous"

    Consentware(app)
    return app


@pytest.fixture(
    scope="module",
    params=[
        pytest.param({}, id="default-names"),
        pytest.param(
            {"SESSION_COOKIE_NAME": "app_session", "REMEMBER_COOKIE_NAME": "keep_me"},
            id="configured-names",
        ),
    ],
)
def site(request: pytest.FixtureRequest) -> Any:
    config: dict[str, Any] = request.param
    with serve_wsgi(create_app(config)) as server:
        yield (
            server,
            config.get("SESSION_COOKIE_NAME", "session"),
            config.get("REMEMBER_COOKIE_NAME", "remember_token"),
        )


@pytest.mark.parametrize("consent", [None, REFUSED], ids=["undecided", "refused"])
def test_remember_me_survives_the_session(
    site: tuple[RunningServer, str, str], consent: str | None
) -> None:
    server, session, remember = site
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        if consent is not None:
            client.cookies.set("cookies_preferences", consent)
        response = client.post("/login")
        lines = response.headers.get_list("set-cookie")
        assert {session, remember} <= set_names(lines), lines
        assert not deleted_names(lines), lines
        assert client.get("/me").text == "alice"

        # The browser is closed: the session cookie is gone, the remember cookie stays.
        client.cookies.delete(session)
        assert set(client.cookies.keys()) >= {remember}
        response = client.get("/me")
        assert response.text == "alice"
        # Flask-Login restored the session from the remember cookie; it reaches the browser.
        assert session in set_names(response.headers.get_list("set-cookie"))
        assert client.get("/me").text == "alice"

    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as stranger:
        assert stranger.get("/me").text == "anonymous"  # not logged in by anything else
