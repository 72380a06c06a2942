"""The visitor's consent for one request: :class:`ConsentState`, and where adapters keep it.

A state is immutable. Reading ``decided``, ``granted`` or ``allows()`` on the copy a request's
app sees tells that request's :class:`ReadWitness`, so the response gets ``Vary: Cookie``: a page
whose content depends on the consent must not be served from a shared cache to someone else.

Example::

    state = get_consent(environ)        # WSGI environ, ASGI scope, or a framework request
    if state.allows("statistical"):
        ...
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Final

from .policy import NECESSARY

__all__ = [
    "ENVIRON_KEY",
    "OWN_SOURCE",
    "POLICY_KEY",
    "ConsentState",
    "ReadWitness",
    "get_consent",
    "gpc_signal",
    "vary_on_language",
]

_NECESSARY_ONLY: Final = frozenset({NECESSARY})
#: consentware's own cookie, as a state names it among its ``sources``.
OWN_SOURCE: Final = "consentware"
_OWN: Final = (OWN_SOURCE,)


class ReadWitness:
    """Shared by a request's state and its exchange: did the app look at the consent, and did
    it render consentware's texts in a language ``Accept-Language`` chose?"""

    __slots__ = ("language", "read")

    def __init__(self) -> None:
        self.read = False
        self.language = False


class ConsentState:
    """What one visitor has consented to, for one request. Immutable.

    ``granted`` always contains ``"necessary"``. ``pending`` lists the optional categories
    the stored choice does not mention (declared after it was made), in policy order.
    ``sources`` names the sources that decided: ``"consentware"`` (its own cookie) and the
    policy's ``consent_sources`` (``"onetrust"``, ...); a decided state built without it came
    from consentware's own cookie.
    Reading ``decided``, ``granted`` or ``allows()`` marks the response as depending on the
    ``Cookie`` header, so the middleware adds ``Vary: Cookie``.
    """

    # The data lives in one tuple so that the per-request copy the middleware makes (to record
    # whether the app read the state) costs two slot writes, not one per field.
    __slots__ = ("_data", "_flag")

    _data: tuple[
        bool,
        frozenset[str],
        tuple[str, ...],
        bool,
        int | None,
        datetime | None,
        str | None,
        tuple[str, ...],
    ]
    _flag: ReadWitness | None

    def __init__(
        self,
        *,
        decided: bool = False,
        granted: Iterable[str] = (),
        pending: Iterable[str] = (),
        gpc: bool = False,
        revision: int | None = None,
        given_at: datetime | None = None,
        consent_id: str | None = None,
        sources: Iterable[str] | None = None,
    ) -> None:
        if sources is None:
            sources = _OWN if decided else ()
        data = (
            decided,
            frozenset(granted) | _NECESSARY_ONLY,
            tuple(pending),
            gpc,
            revision,
            given_at,
            consent_id,
            tuple(sources),
        )
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_flag", None)

    @classmethod
    def undecided(cls, *, gpc: bool = False, pending: Iterable[str] = ()) -> ConsentState:
        """A visitor with no valid choice: only ``necessary`` is granted."""
        return cls(decided=False, pending=pending, gpc=gpc)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ConsentState is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("ConsentState is immutable")

    @property
    def _decided(self) -> bool:
        return self._data[0]

    @property
    def _granted(self) -> frozenset[str]:
        return self._data[1]

    @property
    def pending(self) -> tuple[str, ...]:
        """Optional categories the stored choice does not mention, in policy order."""
        return self._data[2]

    @property
    def gpc(self) -> bool:
        """The request carried ``Sec-GPC: 1``."""
        return self._data[3]

    @property
    def revision(self) -> int | None:
        """The policy revision the choice was made under (``None`` if undecided)."""
        return self._data[4]

    @property
    def given_at(self) -> datetime | None:
        """When the choice was made (UTC), or ``None``."""
        return self._data[5]

    @property
    def consent_id(self) -> str | None:
        """The random id recorded with the choice, or ``None``."""
        return self._data[6]

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources that decided, consentware's own cookie first (empty if undecided)."""
        return self._data[7]

    @property
    def decided(self) -> bool:
        """A valid choice exists: consentware's own for the current revision, or a source's."""
        self._mark()
        return self._decided

    @property
    def granted(self) -> frozenset[str]:
        """The granted categories, always including ``"necessary"``."""
        self._mark()
        return self._granted

    def allows(self, category: str) -> bool:
        """Whether ``category`` is granted; unknown categories are not, ``necessary`` always."""
        self._mark()
        return category in self._granted

    def _mark(self) -> None:
        flag = self._flag
        if flag is not None:
            flag.read = True

    def watched(self, witness: ReadWitness) -> ConsentState:
        """The same state, telling ``witness`` when it is read (one copy per request)."""
        clone = object.__new__(ConsentState)
        object.__setattr__(clone, "_data", self._data)
        object.__setattr__(clone, "_flag", witness)
        return clone

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for the consent endpoint and page scripts)."""
        return {
            "decided": self.decided,
            "granted": sorted(self.granted),
            "pending": list(self.pending),
            "gpc": self.gpc,
            "revision": self.revision,
            "given_at": self.given_at.isoformat() if self.given_at else None,
            "consent_id": self.consent_id,
            "sources": list(self.sources),
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConsentState):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[Any, ...]:
        return (
            self._decided,
            self._granted,
            self.pending,
            self.gpc,
            self.revision,
            self.given_at,
            self.consent_id,
            self.sources,
        )

    def __repr__(self) -> str:
        return (
            f"ConsentState(decided={self._decided}, granted={sorted(self._granted)}, "
            f"pending={list(self.pending)}, gpc={self.gpc}, revision={self.revision}, "
            f"sources={list(self.sources)})"
        )


#: Where the middlewares put the request's :class:`ConsentState` (WSGI environ, ASGI scope).
ENVIRON_KEY: Final = "consentware.consent"
#: Where the middlewares put their :class:`~consentware.Policy`, for template helpers.
POLICY_KEY: Final = "consentware.policy"


def get_consent(obj: Any) -> ConsentState:
    """The :class:`ConsentState` of a request the middleware has seen.

    ``obj`` is a WSGI environ, an ASGI scope, or a request object that carries one (Flask and
    Werkzeug requests have ``.environ``, Starlette requests ``.scope``, Django requests
    ``.consent``). Raises :class:`LookupError` when no consentware middleware saw the request.
    """
    state = _lookup(obj)
    if state is None:
        raise LookupError(
            "no consent state on this request: is consentware's ConsentMiddleware installed?"
        )
    state._mark()
    return state


def _lookup(obj: Any) -> ConsentState | None:
    if isinstance(obj, dict):
        found = obj.get(ENVIRON_KEY)
        return found if isinstance(found, ConsentState) else None
    for attribute in ("environ", "scope"):
        container = getattr(obj, attribute, None)
        if isinstance(container, dict):
            return _lookup(container)
    found = getattr(obj, "consent", None)
    return found if isinstance(found, ConsentState) else None


def vary_on_language(state: ConsentState) -> None:
    """Tell the request's middleware that the response holds text in a language chosen from
    ``Accept-Language``, so it adds ``Vary: Accept-Language`` (with ``Vary: Cookie``: what
    is rendered from a state has read it). A state no middleware watches ignores it."""
    flag = state._flag
    if flag is not None:
        flag.read = True
        flag.language = True


def gpc_signal(header: str | None) -> bool:
    """Whether ``Sec-GPC`` headers (joined with commas) carry the opt-out ``1``.

    Only the exact value ``1`` counts; a repeated header counts if any copy is ``1``, so a
    proxy's or server's join of two copies never loses the opt-out.
    """
    if header is None:
        return False
    return any(part.strip(" \t") == "1" for part in header.split(","))
