"""The Flask extension: init_app, options from app.config, the proxy and the templates."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask
import httpx
import pytest
from flask import Flask, render_template_string, session

import consentware
from consentware import ConsentCookie, Policy, get_consent
from consentware.core.codec import derive_secret_key
from consentware.flask import EXTENSION_KEY, Consentware, FlaskConsent, consent
from consentware.wsgi import ConsentMiddleware
from tests.support.cookies import set_names
from tests.support.servers import serve_wsgi

SECRET = "flask-test-secret"

POLICY_DATA: dict[str, Any] = {
    "categories": {
        "statistical": {"title": "Statistics", "consent_mode": ["analytics_storage"]},
        "third_party": {"title": "Advertising", "consent_mode": ["ad_storage"]},
    },
    "cookies": [
        {"name": "session", "category": "necessary"},
        {"name": "_ga", "category": "statistical"},
        {"name": "_fbp", "category": "third_party"},
    ],
}
POLICY = Policy.from_dict(POLICY_DATA)


def consent_value(granted: list[str], key: Any = None, policy: Policy = POLICY) -> str:
    return ConsentCookie(policy, key).dumps(granted)


def derived(secret: str = SECRET) -> Any:
    return derive_secret_key(secret)


def make_app(extension: Consentware | None = None, **config: Any) -> Flask:
    """A small app: a session, ``_ga`` set in the view and ``_fbp`` in after_request."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET, CONSENTWARE_POLICY=POLICY_DATA)
    app.config.update(config)
    (extension or Consentware()).init_app(app)

    @app.get("/")
    def index() -> flask.Response:
        session["n"] = 1
        response = flask.jsonify(granted=sorted(consent.granted))
        response.set_cookie("_ga", "GA1.1")
        return response

    @app.after_request
    def advertise(response: flask.Response) -> flask.Response:
        response.set_cookie("_fbp", "fb.1")
        return response

    return app


def extends(policy: Policy, given: Policy) -> bool:
    """``policy`` is ``given`` with Flask's own cookies declared after its rules (Flask-Login's
    ``remember_token`` too where Flask-Login is installed)."""
    return policy.rules[: len(given.rules)] == given.rules and all(
        rule.category == "necessary" for rule in policy.rules[len(given.rules) :]
    )


def set_cookie_names(headers: Any) -> set[str]:
    values = headers.getlist("Set-Cookie") if hasattr(headers, "getlist") else headers
    return set_names(values)


@pytest.mark.parametrize(
    ("granted", "expected"),
    [
        pytest.param(None, {"session"}, id="undecided"),
        pytest.param([], {"session"}, id="rejected"),
        pytest.param(["statistical"], {"session", "_ga"}, id="statistics"),
        pytest.param(["third_party"], {"session", "_fbp"}, id="advertising-after-request"),
        pytest.param(["statistical", "third_party"], {"session", "_ga", "_fbp"}, id="all"),
    ],
)
def test_view_after_request_and_session_cookies_are_enforced(
    granted: list[str] | None, expected: set[str]
) -> None:
    client = make_app().test_client()
    if granted is not None:
        client.set_cookie("cookies_preferences", consent_value(granted, derived()))
    response = client.get("/")
    assert response.status_code == 200
    assert set_cookie_names(response.headers) == expected
    assert response.json == {"granted": sorted({"necessary", *(granted or [])})}
    assert "Cookie" in response.headers.get("Vary", "")


def test_flasks_session_is_declared_necessary_when_the_policy_is_silent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = {**POLICY_DATA, "cookies": POLICY_DATA["cookies"][1:]}  # no rule for "session"
    with caplog.at_level(logging.INFO, logger="consentware"):
        app = make_app(CONSENTWARE_POLICY=data)
    assert any(
        "session" in r.getMessage() and "necessary" in r.getMessage() for r in caplog.records
    )
    response = app.test_client().get("/")
    assert set_cookie_names(response.headers) == {"session"}


def test_a_session_the_policy_makes_optional_is_enforced_and_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rules = [{"name": "session", "category": "statistical"}, *POLICY_DATA["cookies"][1:]]
    with caplog.at_level(logging.WARNING, logger="consentware"):
        app = make_app(CONSENTWARE_POLICY={**POLICY_DATA, "cookies": rules})
    assert any(
        "'session'" in r.getMessage() and "'statistical'" in r.getMessage() for r in caplog.records
    )
    response = app.test_client().get("/")
    # Written after after_request, still decided: not consented, so only its deletion leaves.
    assert set_cookie_names(response.headers) == set()


def test_init_app_wraps_wsgi_app_and_keeps_per_app_data_on_the_app() -> None:
    extension = Consentware()
    app = make_app(extension)
    assert isinstance(app.wsgi_app, ConsentMiddleware)
    data = app.extensions[EXTENSION_KEY]
    assert isinstance(data, FlaskConsent)
    assert data.middleware is app.wsgi_app
    assert data.policy.category_of("_ga") == "statistical"
    assert vars(extension) == {"options": {}}
    with pytest.raises(RuntimeError, match="already initialised"):
        extension.init_app(app)


def test_app_given_to_the_constructor_is_initialised() -> None:
    app = Flask(__name__)
    Consentware(app, policy=POLICY)
    assert extends(app.extensions[EXTENSION_KEY].policy, POLICY)


def test_two_apps_with_different_policies_in_one_process_over_http() -> None:
    extension = Consentware()  # one instance, an app factory, two apps
    strict = make_app(extension)
    lenient_data = {
        **POLICY_DATA,
        "cookies": [*POLICY_DATA["cookies"][:1], {"name": "_ga", "category": "necessary"}],
        "unknown_cookies": "allow",
    }
    lenient = make_app(extension, CONSENTWARE_POLICY=lenient_data, SECRET_KEY="another secret")
    with serve_wsgi(strict) as one, serve_wsgi(lenient) as two:
        first = httpx.get(one.url + "/")
        second = httpx.get(two.url + "/")
        assert set_cookie_names(first.headers.get_list("set-cookie")) == {"session"}
        assert set_cookie_names(second.headers.get_list("set-cookie")) == {
            "session",
            "_ga",
            "_fbp",
        }
        # A consent signed for the first app's key grants nothing on the second, and back.
        value = consent_value(["statistical", "third_party"], derived())
        cookie = {"Cookie": f"cookies_preferences={value}"}
        assert httpx.get(one.url + "/", headers=cookie).json()["granted"] == [
            "necessary",
            "statistical",
            "third_party",
        ]
        assert httpx.get(two.url + "/", headers=cookie).json()["granted"] == ["necessary"]


@pytest.mark.parametrize(
    ("config", "key", "decided"),
    [
        pytest.param({}, derived(), True, id="derived-from-secret-key"),
        pytest.param({}, SECRET, False, id="raw-secret-never-signs"),
        pytest.param({}, None, False, id="unsigned-refused-when-derived"),
        pytest.param({"CONSENTWARE_SECRET_KEY": "explicit"}, "explicit", True, id="explicit"),
        pytest.param({"CONSENTWARE_SECRET_KEY": None}, None, True, id="none-means-unsigned"),
        pytest.param(
            {"SECRET_KEY_FALLBACKS": ["old secret"]},
            derive_secret_key("old secret"),
            True,
            id="fallback-secret-still-verifies",
        ),
        pytest.param({"SECRET_KEY": None}, None, True, id="no-app-secret-unsigned"),
    ],
)
def test_secret_key(config: dict[str, Any], key: Any, decided: bool) -> None:
    app = make_app(**config)
    client = app.test_client()
    client.set_cookie("cookies_preferences", consent_value(["statistical"], key))

    @app.get("/decided")
    def is_decided() -> dict[str, bool]:
        return {"decided": consent.decided}

    assert client.get("/decided").json == {"decided": decided}


def test_rotation_signs_with_the_current_secret() -> None:
    app = make_app(SECRET_KEY_FALLBACKS=["old secret"])
    keys = app.extensions[EXTENSION_KEY].middleware.enforcer.codec
    value = keys.dumps(["statistical"])
    assert ConsentCookie(POLICY, derived()).loads(value).decided
    assert not ConsentCookie(POLICY, derive_secret_key("old secret")).loads(value).decided


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("policy", id="policy-object"),
        pytest.param("dict", id="dict"),
        pytest.param("path", id="toml-path-str"),
        pytest.param("pathlib", id="toml-pathlib"),
    ],
)
def test_policy_sources(source: str, tmp_path: Path) -> None:
    toml = tmp_path / "cookies.toml"
    toml.write_text(
        '[categories.statistical]\n[[cookies]]\nname = "session"\ncategory = "necessary"\n'
        '[[cookies]]\nname = "_ga"\ncategory = "statistical"\n'
    )
    value: Any = {
        "policy": POLICY,
        "dict": POLICY_DATA,
        "path": str(toml),
        "pathlib": toml,
    }[source]
    app = make_app(CONSENTWARE_POLICY=value)
    assert app.extensions[EXTENSION_KEY].policy.category_of("_ga") == "statistical"


def test_no_policy_means_the_default_policy() -> None:
    app = Flask(__name__)
    Consentware(app)
    assert app.extensions[EXTENSION_KEY].policy.category_of("csrftoken") == "necessary"


def test_arguments_win_over_app_config() -> None:
    extension = Consentware(policy=Policy.default())
    app = make_app(extension)  # app.config holds POLICY_DATA
    assert app.extensions[EXTENSION_KEY].policy.category_of("sessionid") == "necessary"
    other = Flask(__name__)
    extension.init_app(other, policy=POLICY)
    assert extends(other.extensions[EXTENSION_KEY].policy, POLICY)


def test_on_report_from_config() -> None:
    reports: list[Any] = []
    app = make_app(CONSENTWARE_ON_REPORT=reports.append)
    app.test_client().get("/")
    assert [r.blocked for r in reports] == [("_ga", "_fbp")]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param({"CONSENTWARE_COLOUR": "red"}, "CONSENTWARE_COLOUR", id="unknown-option"),
        pytest.param({"CONSENTWARE_APP": None}, "CONSENTWARE_APP", id="app-is-not-an-option"),
        pytest.param(
            {"CONSENTWARE_POLICY": {"cookies": [{"name": "_ga", "category": "stats"}]}},
            "cookies[0].category",
            id="bad-policy",
        ),
        pytest.param({"CONSENTWARE_POLICY": 42}, "policy", id="policy-of-wrong-type"),
    ],
)
def test_bad_options_fail_at_init(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        make_app(**config)


def test_consent_proxy_and_get_consent_outside_a_request() -> None:
    make_app()
    with pytest.raises(RuntimeError):
        consent.decided  # noqa: B018


def test_state_reaches_views_through_proxy_and_get_consent() -> None:
    app = make_app()
    seen: list[Any] = []

    @app.get("/both")
    def both() -> str:
        seen.append((consent._get_current_object(), get_consent(flask.request)))
        return "ok"

    client = app.test_client()
    client.set_cookie("cookies_preferences", consent_value(["statistical"], derived()))
    client.get("/both")
    proxied, direct = seen[0]
    assert proxied is direct
    assert direct.granted == {"necessary", "statistical"}


TEMPLATE = (
    "{{ consent.decided }}|{{ consent.granted | sort | join(',') }}|"
    "{{ consent_mode_script(nonce='abc') }}"
)


@pytest.mark.parametrize(
    ("granted", "text", "analytics"),
    [
        pytest.param(None, "False|necessary|", "denied", id="undecided"),
        pytest.param(["statistical"], "True|necessary,statistical|", "granted", id="statistics"),
    ],
)
def test_templates_get_consent_and_consent_mode(
    granted: list[str] | None, text: str, analytics: str
) -> None:
    app = make_app()

    @app.get("/page")
    def page() -> str:
        return render_template_string(TEMPLATE)

    client = app.test_client()
    if granted is not None:
        client.set_cookie("cookies_preferences", consent_value(granted, derived()))
    body = client.get("/page").get_data(as_text=True)
    assert body.startswith(text)
    assert '<script nonce="abc">' in body
    assert f'"analytics_storage":"{analytics}"' in body
    assert '"ad_storage":"denied"' in body


@pytest.fixture
def banner_html() -> Callable[..., Any]:
    render = getattr(consentware, "banner_html", None)
    if render is None:
        pytest.skip("consentware.banner_html is not available yet")
    return render  # type: ignore[no-any-return]


def test_consent_banner_renders_banner_html_for_the_request(
    banner_html: Callable[..., Any],
) -> None:
    app = make_app(CONSENTWARE_SECRET_KEY="k")

    @app.get("/page")
    def page() -> str:
        return render_template_string("{{ consent_banner(nonce='n0') }}")

    body = app.test_client().get("/page?x=1").get_data(as_text=True)
    expected = banner_html(
        ConsentCookie(POLICY, "k").loads(None),
        POLICY,
        prefix="/_consent",
        next_url="/page?x=1",
        nonce="n0",
    )
    assert body == str(expected)
    assert 'action="/_consent"' in body


def test_consent_banner_under_a_script_root(banner_html: Callable[..., Any]) -> None:
    app = make_app()

    @app.get("/page")
    def page() -> str:
        return render_template_string("{{ consent_banner() }}")

    body = app.test_client().get("/page", environ_overrides={"SCRIPT_NAME": "/shop"}).text
    assert 'action="/shop/_consent"' in body
    assert 'name="next" value="/shop/page"' in body


def test_prefix_option_moves_the_consent_routes_and_the_banner(
    banner_html: Callable[..., Any],
) -> None:
    app = make_app(CONSENTWARE_PREFIX="/privacy")

    @app.get("/page")
    def page() -> str:
        return render_template_string("{{ consent_banner() }}")

    client = app.test_client()
    assert 'action="/privacy"' in client.get("/page").text
    assert client.get("/privacy").json["granted"] == ["necessary"]
    with pytest.raises(ValueError, match="prefix"):
        make_app(CONSENTWARE_PREFIX="privacy/")


def test_inject_banner_reaches_a_flask_page() -> None:
    """Flask's body is a ClosingIterator, not a list: the banner still goes in."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=SECRET)
    Consentware(app, policy=POLICY, inject_banner=True)

    @app.get("/page")
    def page() -> str:
        return "<html><body><p>shop</p></body></html>"

    response = app.test_client().get("/page")
    body = response.get_data()
    assert b"consentware__form" in body
    assert body.endswith(b"</body></html>")
    assert response.headers["Content-Length"] == str(len(body))


def test_an_app_without_a_secret_key_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    app = Flask(__name__)
    with caplog.at_level(logging.WARNING, logger="consentware"):
        Consentware(app, policy=POLICY)
    assert any("no SECRET_KEY" in r.getMessage() for r in caplog.records)
