"""The template context every integration gives its templates: one builder, three frameworks.

``consent`` is the request's state; ``consent_banner()`` renders :func:`consentware.banner_html`
posting to ``action`` (the mount point joined to the prefix, :func:`~consentware.web.messages.
routes_url`) and returning to ``here``; ``consent_mode_script()`` renders the Google Consent
Mode v2 defaults. Both take ``nonce=`` (a page's CSP nonce) and default to the one given here;
``consent_banner()`` takes ``language=`` too (a language the page is in, which wins).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from markupsafe import Markup

from .core.policy import Policy
from .core.state import ConsentState
from .web.banner import banner_html
from .web.consent_mode import gtag_consent_script

__all__ = ["template_context"]


def template_context(
    state: ConsentState,
    policy: Policy,
    *,
    action: str,
    here: str,
    nonce: str | None = None,
    language: Callable[[], str | None] | None = None,
    accept_language: Callable[[], str | None] | None = None,
) -> dict[str, Any]:
    """``consent``, ``consent_banner`` and ``consent_mode_script`` for one request.

    ``language`` gives the app's own language (Django's active language, Flask-Babel's
    locale) and ``accept_language`` the request's header (``""`` when absent); both are called
    only when a banner is rendered.
    """
    page_nonce = nonce
    app_language = language

    def consent_banner(
        *, next_url: str | None = None, nonce: str | None = None, language: str | None = None
    ) -> Markup:
        return banner_html(
            state,
            policy,
            prefix=action,
            next_url=here if next_url is None else next_url,
            nonce=nonce or page_nonce,
            language=language or (app_language() if app_language else None),
            accept_language=accept_language() if accept_language else None,
        )

    def consent_mode_script(*, nonce: str | None = None) -> Markup:
        return gtag_consent_script(state, policy, nonce=nonce or page_nonce)

    return {
        "consent": state,
        "consent_banner": consent_banner,
        "consent_mode_script": consent_mode_script,
    }
