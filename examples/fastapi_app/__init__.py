"""A small FastAPI app under consentware: a session, one analytics and one advertising cookie.

Run it with ``.venv/bin/python -m examples.fastapi_app`` and open http://127.0.0.1:8004/.
Every page sets Starlette's session cookie, ``_ga`` and ``_fbp``; consentware lets ``_ga``
and ``_fbp`` out only when the visitor consented to their category.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from consentware import ConsentState, Policy
from consentware.starlette import ConsentMiddleware, get_consent, install_templates

HERE = Path(__file__).resolve().parent
#: A fixed development key; read it from the environment in production.
DEV_SECRET_KEY = "dev-only-fastapi-example-key"

POLICY = Policy.from_dict(
    {
        "categories": {
            "statistical": {"title": "Statistics", "consent_mode": ["analytics_storage"]},
            "third_party": {
                "title": "Advertising",
                "gpc_opt_out": True,
                "consent_mode": ["ad_storage", "ad_user_data", "ad_personalization"],
            },
        },
        "cookies": [
            {"name": "session", "category": "necessary", "function": "Session"},
            {"name": "_ga", "category": "statistical", "provider": "Google"},
            {"name": "_fbp", "category": "third_party", "provider": "Meta"},
        ],
    }
)

Consent = Annotated[ConsentState, Depends(get_consent)]


def create_app(policy: Policy = POLICY, secret_key: str = DEV_SECRET_KEY) -> FastAPI:
    """The app: consentware outermost, so it also sees the session middleware's cookie."""
    app = FastAPI()
    templates = install_templates(Jinja2Templates(directory=HERE / "templates"))

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request, consent: Consent) -> Response:
        visits = request.session["visits"] = request.session.get("visits", 0) + 1
        context = {"visits": visits, "statistics": consent.allows("statistical")}
        response = templates.TemplateResponse(request, "index.html", context)
        _set_trackers(response)
        return response

    @app.get("/state")
    def state(request: Request, consent: Consent) -> Response:
        visits = request.session["visits"] = request.session.get("visits", 0) + 1
        response = JSONResponse(
            {
                "visits": visits,
                "decided": consent.decided,
                "granted": sorted(consent.granted),
                "statistics": request.state.consent.allows("statistical"),
            }
        )
        _set_trackers(response)
        return response

    # add_middleware wraps what is already there: the last added runs first (outermost).
    app.add_middleware(SessionMiddleware, secret_key=secret_key)
    app.add_middleware(ConsentMiddleware, policy=policy, secret_key=secret_key)
    return app


def _set_trackers(response: Any) -> None:
    # The view sets them unconditionally: deciding is consentware's job, not the view's.
    response.set_cookie("_ga", "GA1.1.123456789.1700000000", max_age=400 * 86400)
    response.set_cookie("_fbp", "fb.1.1700000000.123456789", max_age=90 * 86400)


app = create_app()
