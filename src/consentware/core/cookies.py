"""Wire-level cookie handling: ``Cookie`` parsing, browser name derivation, deletion lines.

Name derivation follows RFC 6265bis, section 5.6 ("The Set-Cookie Header Field"): the
name-value pair is the text before the first ``;``; without ``=`` the name is empty and
the whole pair is the value; name and value are trimmed of spaces and tabs. A comma does
not split a ``Set-Cookie`` line.

A refused line is never forwarded, not even one that looks as if it only deletes: browsers
disagree about dates and attributes, so a guess is a leak. :func:`refusal_deletion` writes
consentware's own deletion of the line's cookie instead, in the one shape every browser reads
the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from werkzeug.sansio.http import parse_cookie

__all__ = [
    "CookiePlace",
    "browser_name_value",
    "classification_name",
    "classification_names",
    "cookie_place",
    "cookie_values",
    "default_path",
    "deletion_header",
    "has_control",
    "is_safe_name",
    "parse_cookie_pairs",
    "read_attributes",
    "refusal_deletion",
]

_WSP: Final = " \t"
_COOKIE_SEGMENT: Final = re.compile(r"[;,]")
# Control characters other than HTAB: RFC 6265bis makes a browser ignore such a line; older
# browsers cut the line there. Cutting gives the same name in both worlds where a name exists.
_CTL: Final = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# RFC 6265bis section 5.6: an attribute value over 1024 octets is ignored.
_MAX_ATTRIBUTE_OCTETS: Final = 1024
# Names consentware writes into a deletion line: visible ASCII without ; = , quotes or
# backslash, so no line it writes can be read two ways.
_SAFE_NAME: Final = re.compile(r"[!#$%&'()*+\-./0-9:<>?@A-Z\[\]^_`a-z{|}~]+")
_PAST: Final = "Thu, 01 Jan 1970 00:00:00 GMT"


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
    """:func:`classification_name` of each line, in one call.

    The usual line's fast path is inlined here (no Python call per line): this is the
    per-response hot path of the rows "Raw ASGI app, in process" and "Raw WSGI app, in process".
    """
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


def has_control(line: str) -> bool:
    """Whether ``line`` holds a control character other than HTAB (browsers ignore it)."""
    return not line.isprintable() and _CTL.search(line) is not None


def is_safe_name(name: str) -> bool:
    """Whether consentware may write ``name`` into a deletion line it emits."""
    return _SAFE_NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class CookiePlace:
    """Where a ``Set-Cookie`` line would store its cookie, as a browser reads the line.

    ``path`` is the effective ``Path`` attribute when it is valid (starts with ``/``), else
    ``""`` (the browser then uses the request's default path); ``domain`` is the effective
    ``Domain`` value as written (``""`` when absent: a host-only cookie). The last of each
    attribute counts, and one over 1024 octets is ignored, as RFC 6265bis says.
    """

    name: str
    path: str
    domain: str
    secure: bool
    http_only: bool
    partitioned: bool

    @property
    def host_prefixed(self) -> bool:
        """``__Host-``: host-only at ``/`` whatever the line says (browsers enforce it)."""
        return self.name[:7].lower() == "__host-"

    def default_path_from(self, request_path: str) -> str:
        """The path the cookie is stored under for a request to ``request_path``."""
        if self.host_prefixed:
            return "/"
        return self.path or default_path(request_path)

    def domain_key(self) -> str:
        """The domain as a policy declares it: lowercase, no leading dot, ``""`` host-only."""
        return "" if self.host_prefixed else self.domain.lstrip(".").lower()


def cookie_place(
    set_cookie: str, attributes_of: Callable[[str], Attributes] | None = None
) -> CookiePlace | None:
    """The :class:`CookiePlace` of a line, or ``None`` when consentware could not write a
    deletion for it: a nameless cookie, a name outside visible ASCII tokens, or a line with a
    control character (which browsers ignore whole).

    ``attributes_of`` reads the attribute text (:func:`read_attributes` when not given); a
    caller may pass a memo of it.
    """
    if not set_cookie.isprintable() and _CTL.search(set_cookie):
        return None
    pair, _, attributes = set_cookie.partition(";")
    name, eq, _ = pair.partition("=")
    name = name.strip(_WSP)
    if not eq or not _SAFE_NAME.fullmatch(name):
        return None
    return CookiePlace(name, *(attributes_of or read_attributes)(attributes))


#: (path, domain, secure, http_only, partitioned) of an attribute text.
Attributes = tuple[str, str, bool, bool, bool]


def read_attributes(attributes: str) -> Attributes:
    """What a browser reads from the text after a line's first ``;``: the effective ``Path``
    (``""`` unless it starts with ``/``) and ``Domain``, and the three flags."""
    path = domain = ""
    secure = http_only = partitioned = False
    if attributes:
        for attribute in attributes.split(";"):
            key, _, value = attribute.partition("=")
            key = key.strip(_WSP).lower()
            if key == "secure":
                secure = True
            elif key == "httponly":
                http_only = True
            elif key == "partitioned":
                partitioned = True
            elif key in ("path", "domain"):
                value = value.strip(_WSP)
                if len(value) > _MAX_ATTRIBUTE_OCTETS:
                    continue  # the browser ignores it, so an earlier one stands
                if key == "path":
                    path = value
                else:
                    domain = value
    if not path.startswith("/"):
        path = ""
    return path, domain, secure, http_only, partitioned


def default_path(request_path: str) -> str:
    """RFC 6265bis section 5.1.4: the directory of the request path, ``/`` at the top."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rfind("/")]


def refusal_deletion(set_cookie: str) -> str | None:
    """The line that replaces a refused ``Set-Cookie``: a deletion of the same cookie.

    It names the cookie the browser would have stored (the browser's name, the line's
    effective ``Path`` and ``Domain``, its ``Secure``, ``HttpOnly`` and ``Partitioned`` flags,
    and what the ``__Host-``, ``__Secure-`` and ``__Http-`` prefixes require), so an app's own
    deletion still deletes, and nothing the line could have stored survives. ``None`` when
    :func:`cookie_place` finds no deletion can be written safely.

    >>> refusal_deletion("_ga=GA1.2; Path=/shop; Expires=Fri, 01 Jan 2100 00:00:00 GMT")
    '_ga=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/shop'
    """
    place = cookie_place(set_cookie)
    if place is None:
        return None
    # Without a valid Path the browser uses the request's default path; so does the deletion,
    # sent on the same response.
    return deletion_header(
        place.name,
        domain=place.domain,
        path=place.path,
        secure=place.secure,
        http_only=place.http_only,
        partitioned=place.partitioned,
    )


def parse_cookie_pairs(header: str | None) -> list[tuple[str, str]]:
    """All (name, value) pairs of a request ``Cookie`` header, in order, duplicates kept."""
    if not header:
        return []
    return list(parse_cookie(header).items(multi=True))


def cookie_values(
    header: str, name: str, pairs: Sequence[tuple[str, str]], *, commas_in_values: bool = False
) -> list[str]:
    """Every value of cookie ``name`` in a ``Cookie`` header, each copy counted.

    ``pairs`` is :func:`parse_cookie_pairs` of ``header``. When ``name`` occurs more often than
    the parser found it, a copy is hidden in a quoted value planted around it
    (``a="x; <name>=...; b=y"``) or behind a server's comma join of split ``Cookie`` headers;
    the values of every ``name=`` segment cut at ``;`` and ``,`` are added, so that a reader
    taking the least consent over the copies sees each one. ``commas_in_values`` adds each
    ``name=`` occurrence's value cut at ``;`` alone too, for formats whose values hold commas
    (CookieYes); a candidate that is no valid value is no decision to the reader.
    """
    values = [value for key, value in pairs if key == name]
    if header.count(name) > len(values):
        for segment in _COOKIE_SEGMENT.split(header):
            key, eq, value = segment.partition("=")
            if eq and key.strip(_WSP) == name:
                values.append(value.strip(_WSP))
        if commas_in_values:
            occurrence = re.compile(rf"(?<![^;, \t]){re.escape(name)}[ \t]*=([^;]*)")
            values.extend(match[1].strip(_WSP) for match in occurrence.finditer(header))
    return values


def deletion_header(
    name: str,
    *,
    domain: str = "",
    path: str = "/",
    secure: bool = False,
    http_only: bool = False,
    partitioned: bool = False,
) -> str:
    """A ``Set-Cookie`` value that deletes cookie ``name`` set with this Domain and Path.

    ``Max-Age=0`` and an ``Expires`` in 1970, which every browser reads as a deletion. The
    prefixes are honoured as browsers match them, case-insensitively: ``__Host-`` cookies are
    deleted with ``Secure; Path=/`` and no Domain, ``__Secure-`` ones with ``Secure``, and
    ``__Http-`` / ``__Host-Http-`` ones with ``Secure; HttpOnly``. An empty ``path`` leaves the
    attribute out (the browser's default path). ``name`` must satisfy :func:`is_safe_name`.
    """
    lowered = name[:13].lower()
    if lowered.startswith("__host-"):
        domain, path, secure = "", "/", True
        http_only = http_only or lowered.startswith("__host-http-")
    elif lowered.startswith("__secure-"):
        secure = True
    elif lowered.startswith("__http-"):
        secure = http_only = True
    line = f"{name}=; Expires={_PAST}; Max-Age=0"
    if path:
        line += f"; Path={path}"
    if domain:
        line += f"; Domain={domain}"
    if secure:
        line += "; Secure"
    if http_only:
        line += "; HttpOnly"
    if partitioned:
        line += "; Partitioned" if secure else "; Secure; Partitioned"
    return line
