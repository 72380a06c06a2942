"""A small Flask app under consentware: a session, one analytics and one advertising cookie.

Run it with ``.venv/bin/python -m examples.flask_app`` and open http://127.0.0.1:8003/.
Every page sets Flask's session cookie, ``_ga`` and ``_fbp``; consentware lets ``_ga`` and
``_fbp`` out only when the visitor consented to their category.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template, session
from flask.typing import ResponseReturnValue

from consentware.flask import Consentware, consent

HERE = Path(__file__).resolve().parent
POLICY_PATH = HERE / "cookies.toml"
#: A fixed development key; set ``SECRET_KEY`` from the environment in production.
DEV_SECRET_KEY = "dev-only-flask-example-key"

consentware = Consentware()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The app factory: ``config`` overrides the defaults (e.g. another policy)."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY=DEV_SECRET_KEY, CONSENTWARE_POLICY=str(POLICY_PATH))
    app.config.update(config or {})
    consentware.init_app(app)

    @app.get("/")
    def index() -> ResponseReturnValue:
        visits = session["visits"] = session.get("visits", 0) + 1
        response = app.make_response(render_template("index.html", visits=visits))
        _set_trackers(response)
        return response

    @app.get("/state")
    def state() -> ResponseReturnValue:
        visits = session["visits"] = session.get("visits", 0) + 1
        response = jsonify(
            visits=visits,
            decided=consent.decided,
            granted=sorted(consent.granted),
            statistics=consent.allows("statistical"),
        )
        _set_trackers(response)
        return response

    return app


def _set_trackers(response: Any) -> None:
    # The view sets them unconditionally: deciding is consentware's job, not the view's.
    response.set_cookie("_ga", "GA1.1.123456789.1700000000", max_age=400 * 86400)
    response.set_cookie("_fbp", "fb.1.1700000000.123456789", max_age=90 * 86400)
