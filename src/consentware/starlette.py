"""Starlette and FastAPI helpers around consentware's pure ASGI middleware.

The middleware is :class:`consentware.asgi.ConsentMiddleware`, re-exported here; it puts the
request's :class:`~consentware.ConsentState` at ``request.state.consent``. This module adds
:func:`get_consent` (a FastAPI dependency too) and the template helpers: :func:`consent_context`
builds the context a template needs, :func:`install_templates` adds it to every
``Jinja2Templates`` response.

Example::

    from typing import Annotated
    from fastapi import Depends, FastAPI, Request
    from fastapi.templating import Jinja2Templates
    from consentware import ConsentState
    from consentware.starlette import ConsentMiddleware, get_consent, install_templates

    app = FastAPI()
    app.add_middleware(ConsentMiddleware, policy=policy, secret_key="…")
    templates = install_templates(Jinja2Templates(directory="templates"))

    @app.get("/")
    def home(request: Request, consent: Annotated[ConsentState, Depends(get_consent)]):
        stats = consent.allows("statistical")
        return templates.TemplateResponse(request, "home.html", {"stats": stats})

In the template: ``{{ consent.granted }}``, ``{{ consent_banner() }}`` and
``{{ consent_mode_script(nonce=...) }}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from starlette.requests import HTTPConnection

from ._request import Settings, with_framework_cookies
from ._templates import template_context
from .asgi import ConsentMiddleware
from .core import state as _state
from .core.policy import Policy
from .core.state import POLICY_KEY, ConsentState
from .web.endpoint import DEFAULT_PREFIX, PREFIX_KEY

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.templating import Jinja2Templates

__all__ = [
    "ConsentMiddleware",
    "consent_context",
    "get_consent",
    "get_policy",
    "install",
    "install_templates",
]


def install(app: Starlette, **options: Any) -> Starlette:
    """Put consentware outside every layer of a Starlette or FastAPI app; returns the app.

    ``app.add_middleware(ConsentMiddleware, ...)`` places it inside Starlette's
    ``ServerErrorMiddleware``, so the response of an ``Exception`` or ``500`` handler would leave
    without consentware; this wraps the app's whole middleware stack instead (routes and
    middlewares added later still count). The session cookie of every ``SessionMiddleware``
    added to the app is declared necessary unless the policy categorises it. ``options`` are
    those of :class:`~consentware.asgi.ConsentMiddleware`, checked here.

    Every middleware of the app then runs inside consentware, a ``GZipMiddleware`` too: with
    ``inject_banner=True``, serve ``GZipMiddleware(app)`` so that the banner goes in before
    the page is compressed.
    """
    policy = Settings(**options).policy  # a wrong option fails now, not on the first request
    build = app.build_middleware_stack

    def build_with_consent() -> Any:
        declared = with_framework_cookies(policy, "Starlette", _session_cookies(app))
        return ConsentMiddleware(build(), **{**options, "policy": declared})

    app.build_middleware_stack = build_with_consent  # type: ignore[method-assign]
    app.middleware_stack = None  # rebuilt on the next request, with consentware outermost
    return app


def _session_cookies(app: Starlette) -> dict[str, str]:
    """The cookie of each ``SessionMiddleware`` in the app's stack."""
    from starlette.middleware.sessions import SessionMiddleware

    cookies: dict[str, str] = {}
    for entry in app.user_middleware:
        if cast("object", entry.cls) is SessionMiddleware:
            cookies[str(entry.kwargs.get("session_cookie", "session"))] = "the session"
    return cookies


def get_consent(request: HTTPConnection) -> ConsentState:
    """The request's :class:`~consentware.ConsentState`; use it as a FastAPI dependency::

        def view(consent: Annotated[ConsentState, Depends(get_consent)]) -> ...

    Raises :class:`LookupError` when the middleware is not installed.
    """
    return _state.get_consent(request.scope)


def get_policy(request: HTTPConnection) -> Policy:
    """The :class:`~consentware.Policy` of the middleware that saw this request."""
    policy = request.scope.get(POLICY_KEY)
    if not isinstance(policy, Policy):
        raise LookupError(
            "no consentware policy on this request: is consentware's ConsentMiddleware installed?"
        )
    return policy


def consent_context(request: HTTPConnection, *, prefix: str | None = None) -> dict[str, Any]:
    """The template context of this request: ``consent``, ``consent_banner`` and
    ``consent_mode_script``.

    ``consent_banner(next_url=None, nonce=None, language=None)`` renders
    ``consentware.banner_html`` posting to ``prefix`` (by default the middleware's) and returning
    to the current page, in ``language`` or else the one ``Accept-Language`` asks for;
    ``consent_mode_script(nonce=None)`` renders the Google Consent Mode v2 defaults.
    """
    url = request.url
    return template_context(
        get_consent(request),
        get_policy(request),
        # The middleware's own answer: its mount point joined to its prefix (routes_url).
        action=str(request.scope.get(PREFIX_KEY, DEFAULT_PREFIX)) if prefix is None else prefix,
        here=url.path + (f"?{url.query}" if url.query else ""),
        accept_language=lambda: request.headers.get("accept-language", ""),
    )


def install_templates(templates: Jinja2Templates, *, prefix: str | None = None) -> Jinja2Templates:
    """Add :func:`consent_context` to every response ``templates`` renders; returns ``templates``.

    Starlette applies context processors after the view's context, so these three names are
    reserved in templates rendered by ``templates``.
    """

    def processor(request: Any) -> dict[str, Any]:
        return consent_context(request, prefix=prefix)

    templates.context_processors.append(processor)
    return templates
