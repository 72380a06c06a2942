"""Wire-level cookie handling: ``Cookie`` parsing, browser name derivation, expiry headers.

Name derivation follows RFC 6265bis, section 5.6 ("The Set-Cookie Header Field"): the
name-value pair is the text before the first ``;``; without ``=`` the name is empty and
the whole pair is the value; name and value are trimmed of spaces and tabs. A comma does
not split a ``Set-Cookie`` line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from werkzeug.http import dump_cookie
from werkzeug.sansio.http import parse_cookie

__all__ = [
    "browser_name_value",
    "classification_name",
    "classification_names",
    "cookie_date",
    "deletion_header",
    "is_deletion",
    "parse_cookie_pairs",
]

_WSP: Final = " \t"
# Control characters other than HTAB: RFC 6265bis makes a browser ignore such a line; older
# browsers cut the line there. Cutting gives the same name in both worlds where a name exists.
_CTL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_MAX_AGE: Final = re.compile(r"-?[0-9]+")
_MAX_ATTRIBUTE_OCTETS: Final = 1024
# RFC 6265bis section 5.1.1, the cookie-date grammar.
_DATE_DELIMITERS: Final = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_TIME_TOKEN: Final = re.compile(r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9]|\Z)")
_DAY_TOKEN: Final = re.compile(r"([0-9]{1,2})(?:[^0-9]|\Z)")
_YEAR_TOKEN: Final = re.compile(r"([0-9]{2,4})(?:[^0-9]|\Z)")
_MONTHS: Final = (
    "jan",
    "feb",
    "mar",
    "apr",
    "may",
    "jun",
    "jul",
    "aug",
    "sep",
    "oct",
    "nov",
    "dec",
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
    """Whether every browser would take this line as deleting its cookie (a past expiry).

    ``Max-Age`` wins over ``Expires``. Browsers disagree on an attribute they cannot read:
    Chromium takes the last one of a name whatever it holds (``Max-Age=0; Max-Age=x`` sets a
    session cookie), RFC 6265bis skips it, and values over 1024 octets are skipped. So a line
    deletes here only if every ``Max-Age`` is valid and the last is at most 0, or, without
    ``Max-Age``, every ``Expires`` is a date both RFC 6265bis section 5.1.1 and HTTP-date
    parsing read, and the last is past. Anything else is not a deletion, and is blocked unless
    consented: wrongly blocking a deletion loses nothing, wrongly passing one sets a cookie.
    """
    # A browser that cuts the line at a control character never sees the attributes after
    # it: "_ga=1\x00; Max-Age=0" stores _ga=1 there, so it is not a deletion. (isprintable is
    # false for every control character: the search runs only when there may be one.)
    if not set_cookie.isprintable():
        ctl = _CTL.search(set_cookie)
        if ctl is not None:
            set_cookie = set_cookie[: ctl.start()]
    _, sep, attributes = set_cookie.partition(";")
    if not sep:
        return False
    lowered = attributes.lower()
    if "max-age" not in lowered and "expires" not in lowered:
        return False
    max_ages: list[str] = []
    expires: list[str] = []
    for attribute in attributes.split(";"):
        key, _, value = attribute.partition("=")
        key = key.strip(_WSP).lower()
        if key == "max-age":
            max_ages.append(value.strip(_WSP))
        elif key == "expires":
            expires.append(value.strip(_WSP))
    if max_ages:
        for value in max_ages:
            if not (_readable(value) and _MAX_AGE.fullmatch(value)):
                return False
        return int(max_ages[-1]) <= 0
    if not expires:
        return False
    times = [_expiry(value) for value in expires]
    last = times[-1]
    return last is not None and all(t is not None for t in times) and last < now - 60


def _readable(value: str) -> bool:
    """Whether an attribute value is within the 1024 octets browsers read."""
    return len(value) <= _MAX_ATTRIBUTE_OCTETS and (
        value.isascii() or len(value.encode("utf-8", "replace")) <= _MAX_ATTRIBUTE_OCTETS
    )


def _expiry(value: str) -> float | None:
    """The time an ``Expires`` value means when both date parsers agree it is a date."""
    if not _readable(value):
        return None
    cookie_time = cookie_date(value)
    if cookie_time is None:
        return None
    from werkzeug.http import parse_date  # rarely needed, so imported only here

    http_date = parse_date(value)
    if http_date is None:
        return None
    return max(cookie_time, http_date.timestamp())


def cookie_date(value: str) -> float | None:
    """The UTC timestamp a browser reads from an ``Expires`` value, or ``None`` if it cannot.

    RFC 6265bis section 5.1.1: tokens split at delimiters, the first time, day of month,
    month and year tokens found in that order; two-digit years are 1970-2069; a year before
    1601, an out-of-range field or a date that does not exist (31 February) fails.
    """
    hms: tuple[int, int, int] | None = None
    day: int | None = None
    month: int | None = None
    year: int | None = None
    for token in _DATE_DELIMITERS.split(value):
        if not token:
            continue
        if hms is None and (found := _TIME_TOKEN.match(token)) is not None:
            hms = (int(found[1]), int(found[2]), int(found[3]))
        elif day is None and (found := _DAY_TOKEN.match(token)) is not None:
            day = int(found[1])
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS.index(token[:3].lower()) + 1
        elif year is None and (found := _YEAR_TOKEN.match(token)) is not None:
            year = int(found[1])
    if hms is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif year <= 69:
        year += 2000
    hour, minute, second = hms
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
    except ValueError:
        return None


def parse_cookie_pairs(header: str | None) -> list[tuple[str, str]]:
    """All (name, value) pairs of a request ``Cookie`` header, in order, duplicates kept."""
    if not header:
        return []
    return list(parse_cookie(header).items(multi=True))


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
