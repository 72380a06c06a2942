"""What a response's ``Set-Cookie`` lines do, read independently of consentware's own code.

Since a refused line leaves as consentware's deletion of its cookie, a test that asks "which
cookies did this response set?" must tell a deletion from a cookie. :func:`deletion_name`
recognises consentware's deletion shape (``name=; Expires=<1970>; Max-Age=0`` and optional
``Path``, ``Domain``, ``Secure``, ``HttpOnly``, ``Partitioned``, in that order); anything else
sets a cookie.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["deleted_names", "deletion_name", "set_names"]

_DELETION = re.compile(
    r"(?P<name>[!#$%&'()*+\-./0-9:<>?@A-Z\[\]^_`a-z{|}~]+)=; "
    r"Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
    r"(; Path=/[^;]*)?(; Domain=[^;]+)?(; Secure)?(; HttpOnly)?(; Partitioned)?"
)


def deletion_name(line: str) -> str | None:
    """The cookie a line of consentware's deletion shape deletes, or ``None``."""
    found = _DELETION.fullmatch(line.strip())
    return None if found is None else found["name"]


def set_names(lines: Iterable[str]) -> set[str]:
    """The names of the cookies these lines set (not those they delete)."""
    return {line.split("=", 1)[0].strip() for line in lines if deletion_name(line) is None}


def deleted_names(lines: Iterable[str]) -> set[str]:
    """The names of the cookies these lines delete with consentware's deletion shape."""
    return {name for line in lines if (name := deletion_name(line)) is not None}
