"""Talking to a site's consent route as its banner does, without I/O: requests and answers.

consentware serves ``GET {prefix}`` (the visitor's state and the categories, as JSON) and
``POST {prefix}`` (the consent form: ``action=accept_all|reject_all|save``, ``category``
repeated, ``next``). The audit detects the route by the first answer, and enters a state by
posting the second, with the same-origin headers a browser sends for a form on the site.

Example::

    site = read_state_document("/_consent", 200, body)
    site.optional                     # ("statistical", "third_party")
    consent_form(state, next_url="/") # b"action=save&category=statistical&next=%2F"
"""

from __future__ import annotations

import json
from urllib.parse import urlencode, urlsplit

from ._model import SiteConsent
from ._states import AuditState

__all__ = ["consent_form", "origin_of", "read_reported_granted", "read_state_document"]

DEFAULT_PREFIX = "/_consent"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, as an ``Origin`` header writes it."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def read_state_document(prefix: str, status: int, body: bytes) -> SiteConsent:
    """What ``GET {prefix}`` says: a consent route (JSON with ``categories``), or none."""
    if status != 200:
        return SiteConsent(prefix, False, reason=f"GET {prefix} answered {status}")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return SiteConsent(prefix, False, reason=f"GET {prefix} did not answer JSON")
    categories = document.get("categories") if isinstance(document, dict) else None
    if not isinstance(categories, list):
        return SiteConsent(prefix, False, reason=f"GET {prefix} has no 'categories'")
    names = [
        c["name"] for c in categories if isinstance(c, dict) and isinstance(c.get("name"), str)
    ]
    required = [c["name"] for c in categories if isinstance(c, dict) and c.get("required") is True]
    return SiteConsent(prefix, True, tuple(names), tuple(required))


def read_reported_granted(status: int, body: bytes) -> tuple[str, ...] | None:
    """The ``granted`` list of a ``GET {prefix}`` answer, or ``None``."""
    if status != 200:
        return None
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    granted = document.get("granted") if isinstance(document, dict) else None
    if isinstance(granted, list) and all(isinstance(g, str) for g in granted):
        return tuple(sorted(granted))
    return None


def consent_form(state: AuditState, next_url: str = "/") -> bytes:
    """The urlencoded body of the consent form that enters ``state``."""
    return urlencode([*state.form_fields(), ("next", next_url)]).encode("ascii")
