"""``response.cookies`` as consentware hands it back to Django: a jar of rendered lines.

Django's handlers write each entry of ``response.cookies`` with ``output(header="")``. The core
decided on those exact lines, so the jar holds them rendered (a morsel's rendering costs as much
as all of consentware's decision): a kept line keeps its morsel's key and attributes, a line
consentware wrote (a deletion) is keyed by its cookie's name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http.cookies import Morsel, SimpleCookie
from typing import Any, cast

from ..core._log import log_safely
from ..core.cookies import classification_name

__all__ = ["rendered_jar"]


def rendered_jar(lines: Sequence[str], rendered: Sequence[tuple[str, Any, str]]) -> _RenderedJar:
    """A ``response.cookies`` whose entries write ``lines`` as they are, in order.

    A kept line keeps its morsel's key and attributes; a line consentware wrote is keyed by its
    cookie's name (``name#1``... when several delete one name in several places).
    """
    origins = {line: (key, morsel) for key, morsel, line in rendered}
    jar = _RenderedJar()
    for line in lines:
        origin = origins.pop(line, None)
        if origin is not None:
            key, morsel = origin
            cookie = _RenderedCookie(morsel.key, morsel.value, morsel.coded_value, line, morsel)
        elif not line.isascii():
            # Django's ASGI handler encodes response.cookies as ASCII: a deletion naming a
            # latin-1 Path would crash the whole response. The refused line is gone already.
            log_safely(
                logging.WARNING,
                "consentware could not write the deletion %r (not ASCII); it is left out",
                line[:80],
            )
            continue
        else:
            key, cookie = _new_cookie(line)
        _put(jar, key, cookie)
    return jar


class _RenderedCookie:
    """One ``Set-Cookie`` line, rendered already, where ``response.cookies`` holds a morsel.

    Django's handlers write each entry with ``output(header="")``; so does this, without
    rendering again (a morsel's rendering costs as much as all of consentware's decision).
    ``key``, ``value`` and ``coded_value`` serve Django's test client, and a kept cookie's
    attributes stay readable (``cookie["max-age"]``).
    """

    __slots__ = ("_attributes", "coded_value", "key", "line", "value")

    def __init__(
        self,
        key: str,
        value: str,
        coded_value: str,
        line: str,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        self.key = key
        self.value = value
        self.coded_value = coded_value
        self.line = line
        self._attributes: Mapping[str, Any] = attributes if attributes is not None else {}

    def OutputString(self, attrs: Any = None) -> str:  # noqa: N802 (the stdlib's name)
        return self.line

    def output(self, attrs: Any = None, header: str = "Set-Cookie:") -> str:
        return f"{header} {self.line}"

    def __getitem__(self, attribute: str) -> Any:
        return self._attributes[attribute]

    def __setitem__(self, attribute: str, value: Any) -> None:
        # A middleware outside consentware may still edit a kept cookie (forcing Secure, say):
        # the edit goes to its morsel, and the line is rendered again from it.
        morsel = self._attributes
        if not isinstance(morsel, Morsel):
            raise TypeError(
                f"cannot set {attribute!r} on the cookie line consentware wrote ({self.line!r}); "
                "set the cookie again with response.set_cookie() instead"
            )
        morsel[attribute] = value
        self.line = morsel.OutputString()

    def get(self, attribute: str, default: Any = None) -> Any:
        return self._attributes.get(attribute, default)

    def __reduce__(self) -> tuple[Any, ...]:
        attributes = dict(self._attributes)
        return (_RenderedCookie, (self.key, self.value, self.coded_value, self.line, attributes))

    def __repr__(self) -> str:
        return f"<_RenderedCookie {self.line!r}>"


def _new_cookie(line: str) -> tuple[str, _RenderedCookie]:
    name = classification_name(line)
    pair = line.split(";", 1)[0]
    value = pair.split("=", 1)[1].strip() if "=" in pair else ""
    return name or "consentware-line", _RenderedCookie(name, value, value, line)


class _RenderedJar(SimpleCookie):
    """``response.cookies`` holding rendered lines: a :class:`_RenderedCookie` is kept as it is
    (``SimpleCookie`` would encode anything but a Morsel as a new cookie's value), also when
    the response is pickled and restored (Django's cache)."""

    def __setitem__(self, key: str, value: Any) -> None:
        if isinstance(value, _RenderedCookie):
            dict.__setitem__(cast("dict[str, Any]", self), key, value)
            return
        if isinstance(self.get(key), _RenderedCookie):
            # set_cookie() of a name already here (a middleware outside consentware): the
            # stdlib would update the entry in place, so the rendered line makes room for it.
            dict.__delitem__(cast("dict[str, Any]", self), key)
        super().__setitem__(key, value)


def _put(jar: _RenderedJar, key: str, cookie: _RenderedCookie) -> None:
    unique, index = key, 1
    while unique in jar:
        unique = f"{key}#{index}"
        index += 1
    jar[unique] = cookie
