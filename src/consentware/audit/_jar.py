"""A cookie jar kept the way a browser keeps it: RFC 6265bis, "Storage Model", sans I/O.

The in-process audit needs to know what a *browser* would hold after each response, not what a
server meant to set: a line the browser ignores sets nothing, a ``Max-Age`` beats an
``Expires``, a cookie set for ``Path=/shop`` is not sent to ``/``. :class:`CookieJar` stores
``Set-Cookie`` lines received for a URL and answers the ``Cookie`` header a browser would send
to another URL. Time is always passed in (``now``, UNIX seconds), so the jar is a pure value.

Where RFC 6265bis leaves a choice, the jar does what Chromium does (the audit's browser, and the
oracle of ``tests/test_audit_jar_chromium.py``): the last ``Domain``/``Path`` attribute wins and
an empty last ``Domain`` makes a host-only cookie, a nameless cookie whose value holds ``=`` is
refused (``=_ga=1`` would come back as ``_ga=1``), ``SameSite=None`` needs ``Secure``, expiry
is capped at 400 days, ``localhost`` is a secure origin. What it does not know: the public
suffix list (only single-label domains such as ``com`` are refused as a ``Domain``),
partitioned cookies, and ``SameSite`` enforcement (every request the audit makes is same-site).

Example::

    jar = CookieJar()
    jar.store("_ga=GA1.1; Max-Age=3600; Domain=example.org", "https://www.example.org/", now=0)
    jar.cookie_header("https://shop.example.org/cart", now=60)   # "_ga=GA1.1"
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final, Literal
from urllib.parse import urlsplit

__all__ = [
    "CookieJar",
    "JarChange",
    "StoredCookie",
    "cookie_date",
    "default_path",
    "domain_match",
    "is_secure_origin",
    "parse_set_cookie",
    "path_match",
]

SameSite = Literal["strict", "lax", "none", "default"]
ChangeKind = Literal["stored", "replaced", "deleted", "ignored"]

_WSP: Final = " \t"
_CTL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: RFC 6265bis section 5.7: name plus value at most 4096 octets, an attribute value 1024.
MAX_NAME_VALUE_OCTETS: Final = 4096
MAX_ATTRIBUTE_OCTETS: Final = 1024
#: RFC 6265bis caps a cookie's lifetime at 400 days; Chromium does.
MAX_AGE_SECONDS: Final = 400 * 86400
#: Chromium's limits: 180 cookies per domain, 3300 in all.
MAX_PER_DOMAIN: Final = 180
MAX_TOTAL: Final = 3300
_SECURE_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

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
_DAYS_BEFORE_MONTH: Final = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)


@dataclass(frozen=True, slots=True)
class StoredCookie:
    """One cookie as the jar holds it.

    ``domain`` is the request's host for a host-only cookie, else the ``Domain`` attribute
    (lowercase, no leading dot). ``expires`` is ``None`` for a session cookie.
    """

    name: str
    value: str
    domain: str
    host_only: bool
    path: str
    secure: bool
    http_only: bool
    same_site: SameSite
    expires: float | None
    created: float
    partitioned: bool = False

    @property
    def key(self) -> tuple[str, str, bool, str]:
        """What makes two cookies the same cookie: a later one replaces an earlier one."""
        return (self.name, self.domain, self.host_only, self.path)

    @property
    def pair(self) -> str:
        """How the cookie is sent back: ``name=value``, or the bare value when nameless."""
        return f"{self.name}={self.value}" if self.name else self.value

    def expired(self, now: float) -> bool:
        """Whether the cookie has expired at ``now``."""
        return self.expires is not None and self.expires <= now


@dataclass(frozen=True, slots=True)
class JarChange:
    """What one ``Set-Cookie`` line did to the jar; ``reason`` says why it was ignored."""

    kind: ChangeKind
    cookie: StoredCookie | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Parsed:
    name: str
    value: str
    attributes: tuple[tuple[str, str], ...]  # (lowercase name, value), in order


class CookieJar:
    """The cookies one browser profile holds, changed only by :meth:`store`."""

    __slots__ = ("_cookies", "max_per_domain", "max_total")

    def __init__(self, *, max_per_domain: int = MAX_PER_DOMAIN, max_total: int = MAX_TOTAL):
        self._cookies: dict[tuple[str, str, bool, str], StoredCookie] = {}
        self.max_per_domain = max_per_domain
        self.max_total = max_total

    def __len__(self) -> int:
        return len(self._cookies)

    def __iter__(self) -> Iterator[StoredCookie]:
        return iter(list(self._cookies.values()))

    def cookies(self, *, now: float) -> list[StoredCookie]:
        """Every unexpired cookie, in creation order."""
        self._drop_expired(now)
        return sorted(self._cookies.values(), key=lambda c: c.created)

    def store(self, set_cookie: str, url: str, *, now: float, from_http: bool = True) -> JarChange:
        """Receive one ``Set-Cookie`` value (or a ``document.cookie`` write when not
        ``from_http``) from ``url``, and say what it did."""
        parsed = _parse(set_cookie)
        if isinstance(parsed, str):
            return JarChange("ignored", reason=parsed)
        parts = urlsplit(url)
        host = _canonical_host(parts.hostname or "")
        if host is None:
            return JarChange("ignored", reason="the request's host cannot hold cookies")
        secure_origin = is_secure_origin(url)
        built = self._build(parsed, host, parts.path, secure_origin, from_http, now)
        if isinstance(built, str):
            return JarChange("ignored", reason=built)
        return self._insert(built, from_http, now)

    def matching(self, url: str, *, now: float, from_http: bool = True) -> list[StoredCookie]:
        """The cookies a request to ``url`` carries, in the order a browser sends them."""
        parts = urlsplit(url)
        host = _canonical_host(parts.hostname or "")
        if host is None:
            return []
        secure = is_secure_origin(url)
        path = parts.path or "/"
        self._drop_expired(now)
        found = [
            cookie
            for cookie in self._cookies.values()
            if (host == cookie.domain if cookie.host_only else domain_match(host, cookie.domain))
            and path_match(path, cookie.path)
            and (secure or not cookie.secure)
            and (from_http or not cookie.http_only)
        ]
        # RFC 6265bis 5.8.3: longer paths first, then the earlier created.
        found.sort(key=lambda c: (-len(c.path), c.created))
        return found

    def cookie_header(self, url: str, *, now: float) -> str:
        """The ``Cookie`` header a browser sends to ``url`` (empty when it sends none)."""
        return "; ".join(cookie.pair for cookie in self.matching(url, now=now))

    def document_cookie(self, url: str, *, now: float) -> str:
        """What ``document.cookie`` reads on a page at ``url`` (no HttpOnly cookies)."""
        return "; ".join(c.pair for c in self.matching(url, now=now, from_http=False))

    # -- storage model ------------------------------------------------------------------

    def _build(
        self,
        parsed: _Parsed,
        host: str,
        request_path: str,
        secure_origin: bool,
        from_http: bool,
        now: float,
    ) -> StoredCookie | str:
        expires = _expiry(parsed.attributes, now)
        domain_attribute = _last(parsed.attributes, "domain")
        if domain_attribute is None or domain_attribute == "":
            domain, host_only = host, True
        else:
            domain_value = _canonical_host(domain_attribute.removeprefix("."))
            if domain_value is None:
                return f"Domain={domain_attribute} is not a host name"
            if domain_value != host and "." not in domain_value:
                return f"Domain={domain_attribute} is a public suffix"
            if not domain_match(host, domain_value):
                return f"Domain={domain_attribute} does not cover the host {host}"
            domain, host_only = domain_value, domain_value == host and _is_ip(host)
        path_attribute = _last(parsed.attributes, "path")
        if path_attribute is None or not path_attribute.startswith("/"):
            path = default_path(request_path)
        else:
            path = path_attribute
        secure = any(name == "secure" for name, _ in parsed.attributes)
        http_only = any(name == "httponly" for name, _ in parsed.attributes)
        same_site = _same_site(parsed.attributes)
        if secure and not secure_origin:
            return "Secure cookie from an insecure origin"
        if http_only and not from_http:
            return "HttpOnly cookie written by a script"
        if same_site == "none" and not secure:
            return "SameSite=None without Secure"
        prefix_problem = _prefix_problem(parsed.name, parsed.value, secure, host_only, path)
        if prefix_problem:
            return prefix_problem
        if not secure and not secure_origin and self._shadows_secure(parsed.name, domain, path):
            return "would overwrite a Secure cookie from an insecure origin"
        return StoredCookie(
            name=parsed.name,
            value=parsed.value,
            domain=domain,
            host_only=host_only,
            path=path,
            secure=secure,
            http_only=http_only,
            same_site=same_site,
            expires=expires,
            created=now,
            partitioned=any(name == "partitioned" for name, _ in parsed.attributes),
        )

    def _shadows_secure(self, name: str, domain: str, path: str) -> bool:
        return any(
            old.secure
            and old.name == name
            and (domain_match(domain, old.domain) or domain_match(old.domain, domain))
            and path_match(path, old.path)
            for old in self._cookies.values()
        )

    def _insert(self, cookie: StoredCookie, from_http: bool, now: float) -> JarChange:
        old = self._cookies.get(cookie.key)
        if old is not None:
            if old.http_only and not from_http:
                return JarChange("ignored", cookie, "a script cannot overwrite an HttpOnly cookie")
            del self._cookies[cookie.key]
            cookie = replace(cookie, created=old.created)
        if cookie.expired(now):
            return JarChange("deleted" if old is not None else "ignored", cookie, "expired")
        self._cookies[cookie.key] = cookie
        self._evict(cookie.domain, now)
        return JarChange("replaced" if old is not None else "stored", cookie)

    def _evict(self, domain: str, now: float) -> None:
        same_domain = [c for c in self._cookies.values() if c.domain == domain]
        if len(same_domain) > self.max_per_domain or len(self._cookies) > self.max_total:
            self._drop_expired(now)
        same_domain = [c for c in self._cookies.values() if c.domain == domain]
        for cookie in sorted(same_domain, key=lambda c: c.created)[: -self.max_per_domain]:
            del self._cookies[cookie.key]
        overflow = len(self._cookies) - self.max_total
        if overflow > 0:
            for cookie in sorted(self._cookies.values(), key=lambda c: c.created)[:overflow]:
                del self._cookies[cookie.key]

    def _drop_expired(self, now: float) -> None:
        for key in [key for key, c in self._cookies.items() if c.expired(now)]:
            del self._cookies[key]


# -- parsing (RFC 6265bis 5.6) ----------------------------------------------------------------


def parse_set_cookie(line: str) -> tuple[str, str, tuple[tuple[str, str], ...]] | None:
    """(name, value, attributes) of a ``Set-Cookie`` line, or ``None`` if a browser ignores
    it; attribute names are lowercase."""
    parsed = _parse(line)
    if isinstance(parsed, str):
        return None
    return parsed.name, parsed.value, parsed.attributes


def _parse(line: str) -> _Parsed | str:
    if _CTL.search(line):
        return "a control character: the whole line is ignored"
    pair, _, unparsed = line.partition(";")
    name, eq, value = pair.partition("=")
    if not eq:
        name, value = "", pair
    name, value = name.strip(_WSP), value.strip(_WSP)
    if len(name.encode()) + len(value.encode()) > MAX_NAME_VALUE_OCTETS:
        return f"name and value are over {MAX_NAME_VALUE_OCTETS} octets"
    if not name and not value:
        return "no name and no value"
    if not name and "=" in value:
        # Sent back as "a=b", it would pass for a cookie named "a": Chromium refuses it.
        return "a nameless cookie whose value holds '='"
    attributes = []
    for av in unparsed.split(";") if unparsed else ():
        key, _, av_value = av.partition("=")
        key, av_value = key.strip(_WSP).lower(), av_value.strip(_WSP)
        if len(av_value.encode()) > MAX_ATTRIBUTE_OCTETS:
            continue
        attributes.append((key, av_value))
    return _Parsed(name, value, tuple(attributes))


def _last(attributes: tuple[tuple[str, str], ...], name: str) -> str | None:
    found = None
    for key, value in attributes:
        if key == name:
            found = value
    return found


def _expiry(attributes: tuple[tuple[str, str], ...], now: float) -> float | None:
    """Max-Age beats Expires wherever each stands; the last readable one of each counts."""
    max_age: float | None = None
    expires: float | None = None
    for key, value in attributes:
        if key == "max-age":
            seconds = _delta_seconds(value)
            if seconds is not None:
                max_age = -math.inf if seconds <= 0 else now + min(seconds, MAX_AGE_SECONDS)
        elif key == "expires":
            when = cookie_date(value)
            if when is not None:
                expires = min(when, now + MAX_AGE_SECONDS)
    return max_age if max_age is not None else expires


def _delta_seconds(value: str) -> int | None:
    if not value or not (value[0].isdigit() or value[0] == "-"):
        return None
    digits = value[1:] if value[0] == "-" else value
    if not digits or not (digits.isascii() and digits.isdigit()):
        return None
    return int(value)


def _same_site(attributes: tuple[tuple[str, str], ...]) -> SameSite:
    value = _last(attributes, "samesite")
    if value is None:
        return "default"
    lowered = value.lower()
    if lowered in ("strict", "lax", "none"):
        return lowered  # type: ignore[return-value]
    return "default"


def _prefix_problem(name: str, value: str, secure: bool, host_only: bool, path: str) -> str:
    lowered = name[:9].lower()
    if not name:
        head = value[:9].lower()
        if head.startswith(("__secure-", "__host-")):
            return "a nameless cookie whose value starts with a cookie prefix"
        return ""
    if lowered.startswith("__secure-") and not secure:
        return "a __Secure- cookie without Secure"
    if lowered.startswith("__host-") and not (secure and host_only and path == "/"):
        return "a __Host- cookie needs Secure, no Domain and Path=/"
    return ""


# -- URLs, hosts and paths (RFC 6265bis 5.1) ----------------------------------------------------


def is_secure_origin(url: str) -> bool:
    """Whether ``url`` may set and receive ``Secure`` cookies (https, or loopback as in
    Chromium)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme in ("https", "wss") or host in _SECURE_HOSTS or host.endswith(".localhost")


def _canonical_host(host: str) -> str | None:
    host = host.lower()
    if not host:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if any(c in host for c in ' \t"\\/:;,') and not _is_ip(host):
        return None
    if not _is_ip(host) and (".." in host or host.startswith(".")):
        return None
    return host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def domain_match(host: str, domain: str) -> bool:
    """RFC 6265bis 5.1.3: ``host`` is ``domain`` or a subdomain of it (never for an IP)."""
    if host == domain:
        return True
    return host.endswith("." + domain) and not _is_ip(host)


def default_path(request_path: str) -> str:
    """RFC 6265bis 5.1.4: the directory of the request's path."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def path_match(request_path: str, cookie_path: str) -> bool:
    """RFC 6265bis 5.1.4: ``cookie_path`` is ``request_path`` or a directory above it."""
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def cookie_date(value: str) -> float | None:
    """The UTC time an ``Expires`` value means (RFC 6265bis 5.1.1), or ``None``.

    Tokens split at delimiters; the first time, day of month, month and year found in that
    order count; two-digit years are 1970-2069; a year before 1601 or a day the month does
    not have fails.
    """
    hms: tuple[int, int, int] | None = None
    day = month = year = None
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
    if year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    if not 1 <= day <= _days_in_month(year, month):
        return None
    return float(_epoch_seconds(year, month, day, hour, minute, second))


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        return 29 if leap else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _epoch_seconds(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    # datetime cannot hold years past 9999; a cookie date may name them.
    years = year - 1
    days = years * 365 + years // 4 - years // 100 + years // 400 - 719162
    leap = month > 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days += _DAYS_BEFORE_MONTH[month - 1] + leap + day - 1
    return ((days * 24 + hour) * 60 + minute) * 60 + second
