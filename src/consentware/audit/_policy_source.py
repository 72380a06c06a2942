"""Where the audit's policy comes from: a file, the app itself, or the site's policy page.

In that order: ``--policy FILE``; for an app in process, the :class:`~consentware.Policy` of
consentware's middleware inside it (found by walking the wrappers' ``app``, ``wsgi_app`` and
``middleware_stack`` attributes, and Starlette's ``user_middleware`` options); else the
site's own ``{prefix}/policy?format=json``, when it carries the rules (``rules`` and
``unknown_cookies``, served since consentware 0.1). Without any, every cookie is undeclared.

Example::

    policy = policy_from_document(json.loads(body))   # None if the page lacks the rules
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Final

from consentware import Policy

from ._errors import UsageError

__all__ = ["load_policy_file", "policy_from_document", "policy_of_app"]

_WRAPPER_ATTRIBUTES: Final = ("app", "wsgi_app", "middleware_stack", "application", "_app")
_MAX_DEPTH: Final = 32


def load_policy_file(path: str | os.PathLike[str]) -> Policy:
    """``Policy.from_toml(path)``; a :class:`UsageError` naming the file and the bad key."""
    shown = os.fspath(path)
    try:
        return Policy.from_toml(path)
    except FileNotFoundError:
        raise UsageError(f"--policy {shown}: no such file") from None
    except OSError as exc:
        raise UsageError(f"--policy {shown}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        message = str(exc)
        prefix = "" if message.startswith(shown) else f"{shown}: "
        raise UsageError(f"{prefix}{message}") from None


def policy_of_app(app: Any) -> Policy | None:
    """The policy of the consentware middleware wrapped somewhere inside ``app``."""
    seen: set[int] = set()
    layer: list[Any] = [app]
    for _ in range(_MAX_DEPTH):
        following: list[Any] = []
        for obj in layer:
            if obj is None or id(obj) in seen:
                continue
            seen.add(id(obj))
            policy = getattr(obj, "policy", None)
            if isinstance(policy, Policy):
                return policy
            for name in _WRAPPER_ATTRIBUTES:
                following.append(getattr(obj, name, None))
            for middleware in getattr(obj, "user_middleware", None) or ():
                options = getattr(middleware, "kwargs", None) or getattr(
                    middleware, "options", None
                )
                found = options.get("policy") if isinstance(options, Mapping) else None
                if isinstance(found, Policy):
                    return found
        if not following:
            return None
        layer = following
    return None


def policy_from_document(document: Any) -> Policy | None:
    """The policy a ``{prefix}/policy?format=json`` document describes, if it has the rules."""
    if not isinstance(document, Mapping) or not isinstance(document.get("rules"), list):
        return None
    categories: dict[str, Any] = {}
    for category in document.get("categories") or ():
        if isinstance(category, Mapping) and isinstance(category.get("name"), str):
            categories[category["name"]] = {
                key: category[key]
                for key in ("title", "description", "gpc_opt_out")
                if key in category
            }
    data: dict[str, Any] = {"categories": categories, "cookies": document["rules"]}
    if document.get("unknown_cookies") in ("block", "allow"):
        data["unknown_cookies"] = document["unknown_cookies"]
    if isinstance(document.get("consent_cookie"), str):
        data["consent_cookie"] = {"name": document["consent_cookie"]}
    try:
        return Policy.from_dict(data)
    except ValueError:
        return None
