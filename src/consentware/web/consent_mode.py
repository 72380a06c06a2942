"""Google Consent Mode v2: the ``gtag('consent', 'default', {...})`` call for a visitor.

Each category of the policy lists the Consent Mode types it stands for (``consent_mode`` in
the policy schema); a type is ``"granted"`` when a category the visitor granted lists it, and
``"denied"`` otherwise, so a type no category maps is always denied.

``security_storage`` is always granted: it covers storage for security (authentication, fraud
prevention), which is what the ``necessary`` category is, and necessary cookies are always
allowed. Map any other type to ``necessary`` to have it granted for every visitor.

Example (a Jinja template; every framework helper exposes ``consent_mode_script()``)::

    <head>
      {{ consent_mode_script() }}
      <script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>
    </head>

or in Python::

    from consentware.consent_mode import gtag_consent_script
    html = gtag_consent_script(state, policy, nonce=csp_nonce)
"""

from __future__ import annotations

import json
from typing import Final, Literal

from markupsafe import Markup, escape

from ..core.policy import CONSENT_MODE_TYPES, Policy
from ..core.state import ConsentState

__all__ = [
    "ALWAYS_GRANTED",
    "CONSENT_MODE_TYPES",
    "ConsentModeValue",
    "consent_mode_defaults",
    "gtag_consent_script",
]

ConsentModeValue = Literal["granted", "denied"]

#: Types granted whatever the visitor chose: necessary storage is always allowed.
ALWAYS_GRANTED: Final = frozenset({"security_storage"})

# Characters that could end the script element or break a JavaScript string, as JSON escapes.
_SCRIPT_SAFE: Final = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "'": "\\u0027",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def consent_mode_defaults(state: ConsentState, policy: Policy) -> dict[str, ConsentModeValue]:
    """Each of the seven Consent Mode v2 types, ``"granted"`` or ``"denied"``, for ``state``.

    A type is granted when a category the visitor granted maps it (``necessary`` is always
    granted), and ``security_storage`` always is; everything else is denied. Categories
    refused because of ``Sec-GPC: 1`` are not in ``state.granted``, so their types are denied.
    """
    granted_types = set(ALWAYS_GRANTED)
    for name in state.granted:
        category = policy.categories.get(name)
        if category is not None:
            granted_types.update(category.consent_mode)
    return {kind: ("granted" if kind in granted_types else "denied") for kind in CONSENT_MODE_TYPES}


def gtag_consent_script(state: ConsentState, policy: Policy, *, nonce: str | None = None) -> Markup:
    """An inline ``<script>`` that sets the Consent Mode defaults before any Google tag loads.

    Put it in ``<head>`` before the ``gtag.js`` or Tag Manager snippet. ``nonce`` is the
    Content-Security-Policy nonce of the page, written as the script's ``nonce`` attribute.
    The data is JSON with ``<``, ``>``, ``&``, quotes and line separators escaped, so it is
    safe inside a script element.
    """
    data = json.dumps(consent_mode_defaults(state, policy), separators=(",", ":"))
    data = data.translate(_SCRIPT_SAFE)
    nonce_attribute = Markup(' nonce="{}"').format(escape(nonce)) if nonce else ""
    return Markup(
        "<script{}>window.dataLayer=window.dataLayer||[];"
        "function gtag(){{dataLayer.push(arguments);}}"
        "gtag('consent','default',{});</script>"
    ).format(nonce_attribute, Markup(data))
