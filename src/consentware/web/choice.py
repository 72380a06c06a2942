"""A consent post's body read as a :class:`Choice`, sans I/O: the banner's form or a JSON
document.

Each reader raises :class:`~consentware.web.messages.RefusalError` with the named reason for a
body the consent route refuses (``400``), and otherwise says what was granted, how, and where
the form returns to.

Example::

    choice = read_form(b"action=save&category=statistical&next=/pricing", policy)
    choice.granted, choice.action, choice.next_url     # ["statistical"], "save", "/pricing"
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import NamedTuple
from urllib.parse import parse_qsl

from ..core.policy import NECESSARY, Policy
from .messages import (
    ACTIONS,
    MAX_FORM_FIELDS,
    REASON_BAD_ACTION,
    REASON_BAD_GRANTED,
    REASON_BODY_NOT_UTF8,
    REASON_FORM_NOT_UTF8,
    REASON_NOT_AN_OBJECT,
    REASON_NOT_JSON,
    REASON_TOO_MANY_FIELDS,
    REASON_UNKNOWN_CATEGORY,
    REASON_UNKNOWN_KEY,
    RefusalError,
    safe_next,
    shown,
)

__all__ = ["Choice", "read_form", "read_json"]


class Choice(NamedTuple):
    """One consent post, as read.

    ``granted`` lists the optional categories granted (known, distinct, in the order given);
    ``action`` is the form's button (``accept_all``, ``reject_all``, ``save``; a JSON post is
    ``save``) and ``method`` ``form`` or ``json``. A form answers ``303`` to ``next_url``; JSON
    has none. ``page`` is the form's ``next`` when it named a same-site page as it is.
    """

    granted: list[str]
    action: str
    method: str
    next_url: str | None
    page: str | None


def read_form(body: bytes, policy: Policy) -> Choice:
    """The banner's form: ``action`` once, ``category`` repeated, optional ``next``."""
    try:
        text = body.decode("utf-8")
        fields = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
            separator="&",
        )
    except UnicodeDecodeError:
        raise RefusalError(400, REASON_FORM_NOT_UTF8) from None
    except ValueError:
        raise RefusalError(400, REASON_TOO_MANY_FIELDS) from None
    actions = [value for key, value in fields if key == "action"]
    if len(actions) != 1 or actions[0] not in ACTIONS:
        raise RefusalError(400, REASON_BAD_ACTION)
    nexts = [value for key, value in fields if key == "next"]
    next_url = safe_next(nexts[0] if len(nexts) == 1 else None)
    # "/" also stands for a missing or unsafe next: only a next given as it is names a page.
    page = next_url if nexts and next_url == nexts[0] else None
    action = actions[0]
    if action == "accept_all":
        granted = list(policy.optional_categories)
    elif action == "reject_all":
        granted = []
    else:
        granted = _known([value for key, value in fields if key == "category"], policy)
    return Choice(granted, action, "form", next_url, page)


def read_json(body: bytes, policy: Policy) -> Choice:
    """A JSON object ``{"granted": [...]}`` (what banner.js posts)."""
    try:
        document = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise RefusalError(400, REASON_BODY_NOT_UTF8) from None
    except (ValueError, RecursionError):
        raise RefusalError(400, REASON_NOT_JSON) from None
    if not isinstance(document, dict):
        raise RefusalError(400, REASON_NOT_AN_OBJECT)
    for key in document:
        if key != "granted":
            raise RefusalError(400, REASON_UNKNOWN_KEY.format(key=shown(key)))
    granted = document.get("granted")
    if not isinstance(granted, list) or not all(isinstance(g, str) for g in granted):
        raise RefusalError(400, REASON_BAD_GRANTED)
    return Choice(_known(granted, policy), "save", "json", None, None)


def _known(names: Sequence[str], policy: Policy) -> list[str]:
    categories = policy.categories
    for name in names:
        if name not in categories:
            raise RefusalError(400, REASON_UNKNOWN_CATEGORY.format(name=shown(name)))
    return [name for name in dict.fromkeys(names) if name != NECESSARY]
