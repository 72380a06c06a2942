"""The template context every integration gives its templates: one builder, three frameworks.

``consent`` is the request's state; ``consent_banner()`` renders :func:`consentware.banner_html`
posting to ``action`` (the mount point joined to the prefix, :func:`~consentware.web.messages.
routes_url`) and returning to ``here``; ``consent_mode_script()`` renders the Google Consent
Mode v2 defaults. Both take ``nonce=`` (a page's CSP nonce) and default to the one given here.
"""

from __future__ import annotations

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
) -> dict[str, Any]:
    """``consent``, ``consent_banner`` and ``consent_mode_script`` for one request."""
    page_nonce = nonce

    def consent_banner(*, next_url: str | None = None, nonce: str | None = None) -> Markup:
        return banner_html(
            state,
            policy,
            prefix=action,
            next_url=here if next_url is None else next_url,
            nonce=nonce or page_nonce,
        )

    def consent_mode_script(*, nonce: str | None = None) -> Markup:
        return gtag_consent_script(state, policy, nonce=nonce or page_nonce)

    return {
        "consent": state,
        "consent_banner": consent_banner,
        "consent_mode_script": consent_mode_script,
    }
