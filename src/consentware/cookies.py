"""Wire-level cookie handling: ``Cookie`` parsing, browser name derivation, expiry headers.

Name derivation follows RFC 6265bis, section 5.6 ("The Set-Cookie Header Field"): the
name-value pair is the text before the first ``;``; without ``=`` the name is empty and
the whole pair is the value; name and value are trimmed of spaces and tabs. A comma does
not split a ``Set-Cookie`` line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from werkzeug.http import dump_cookie
from werkzeug.sansio.http import parse_cookie

__all__ = [
    "browser_name_value",
    "classification_name",
    "classification_names",
    "deletion_header",
    "is_deletion",
    "parse_cookie_names",
    "parse_cookie_pairs",
]

_WSP: Final = " \t"
# Control characters other than HTAB: RFC 6265bis makes a browser ignore such a line; older
# browsers cut the line there. Cutting gives the same name in both worlds where a name exists.
_CTL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_MAX_AGE: Final = re.compile(r"-?[0-9]+")
# A valid Max-Age attribute, found in one scan where no Expires needs parsing: the same
# key/value trimming and value syntax as the attribute loop of is_deletion.
_MAX_AGE_ATTRIBUTE: Final = re.compile(
    r"(?:^|;)[ \t]*max-age[ \t]*=[ \t]*(-?[0-9]+)[ \t]*(?=;|\Z)", re.IGNORECASE
)


def browser_name_value(set_cookie: str) -> tuple[str, str]:
    """The (name, value) a browser derives from one ``Set-Cookie`` value.

    >>> browser_name_value("a=1, _ga=2; Path=/")
    ('a', '1, _ga=2')
    >>> browser_name_value("=_ga=1")
    ('', '_ga=1')
    """
    ctl = _CTL.search(set_cookie)
    if ctl is not None:
        set_cookie = set_cookie[: ctl.start()]
    pair = set_cookie.split(";", 1)[0]
    name, eq, value = pair.partition("=")
    if not eq:
        return "", pair.strip(_WSP)
    return name.strip(_WSP), value.strip(_WSP)


def classification_names(set_cookies: Iterable[str]) -> list[str]:
    """:func:`classification_name` of each line, in one call (the per-response hot path)."""
    names = []
    for line in set_cookies:
        eq = line.find("=")
        if eq > 0 and line.find(";", 0, eq) < 0:
            name = line[:eq]
            if name.isprintable():
                name = name.strip(" ")
                if name:
                    names.append(name)
                    continue
        names.append(classification_name(line))
    return names


def classification_name(set_cookie: str) -> str:
    """The name a ``Set-Cookie`` line is classified by.

    That is the browser's name, except for a nameless cookie: the browser sends it back as
    its bare value, so ``=_ga=1`` returns to the server as ``_ga=1`` and is classified as
    ``_ga``.
    """
    # Fast path for the usual line: an `=` before any `;`, and a name free of control
    # characters (isprintable is false for every one of them, and for HTAB, which the slow
    # path trims), so a control character later in the line cannot change the name.
    eq = set_cookie.find("=")
    if eq > 0 and set_cookie.find(";", 0, eq) < 0:
        name = set_cookie[:eq]
        if name.isprintable():
            name = name.strip(" ")
            if name:
                return name
    name, value = browser_name_value(set_cookie)
    if name:
        return name
    return value.split("=", 1)[0].strip(_WSP)


def is_deletion(set_cookie: str, now: float) -> bool:
    """Whether a browser would take this line as deleting its cookie (a past expiry).

    ``Max-Age`` wins over ``Expires`` and the last valid attribute of each kind counts, as in
    RFC 6265bis section 5.6. Only a line that surely deletes returns true.
    """
    # A browser that cuts the line at a control character never sees the attributes after
    # it: "_ga=1\x00; Max-Age=0" stores _ga=1 there, so it is not a deletion.
    ctl = _CTL.search(set_cookie)
    if ctl is not None:
        set_cookie = set_cookie[: ctl.start()]
    _, sep, attributes = set_cookie.partition(";")
    if not sep:
        return False
    if "expires" not in attributes.lower():
        ages = _MAX_AGE_ATTRIBUTE.findall(attributes)
        return bool(ages) and int(ages[-1]) <= 0
    max_age: int | None = None
    expires: str | None = None
    for attribute in attributes.split(";"):
        key, _, value = attribute.partition("=")
        key = key.strip(_WSP).lower()
        value = value.strip(_WSP)
        if key == "max-age":
            if _MAX_AGE.fullmatch(value):
                max_age = int(value)
        elif key == "expires":
            expires = value
    if max_age is not None:
        return max_age <= 0
    if expires is None:
        return False
    from werkzeug.http import parse_date  # rarely needed, so imported only here

    parsed = parse_date(expires)
    return parsed is not None and parsed.timestamp() < now - 60


def parse_cookie_pairs(header: str | None) -> list[tuple[str, str]]:
    """All (name, value) pairs of a request ``Cookie`` header, in order, duplicates kept."""
    if not header:
        return []
    return list(parse_cookie(header).items(multi=True))


def parse_cookie_names(header: str | None) -> Iterable[str]:
    """The distinct cookie names of a request ``Cookie`` header, in order."""
    if not header:
        return ()
    return parse_cookie(header).keys()


def deletion_header(name: str, *, domain: str = "", path: str = "/") -> str:
    """A ``Set-Cookie`` value that deletes cookie ``name`` set with this Domain and Path.

    ``__Host-`` cookies are deleted with ``Secure; Path=/`` and no Domain, ``__Secure-`` ones
    with ``Secure``; browsers match these prefixes case-insensitively.
    """
    lowered = name[:9].lower()
    secure = False
    if lowered.startswith("__host-"):
        domain, path, secure = "", "/", True
    elif lowered.startswith("__secure-"):
        secure = True
    return dump_cookie(
        name,
        "",
        max_age=0,
        expires=0,
        path=path,
        domain=domain or None,
        secure=secure,
    )
