"""The public contract (README, "Use it"; docs/architecture.md) imports and behaves as
documented: the names outside code relies on, and the small public surface."""

from __future__ import annotations

import consentware
from consentware import ConsentCookie, ConsentState, Policy, Report, get_consent
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware


def test_public_names_are_exported() -> None:
    for name in ("Policy", "ConsentState", "ConsentCookie", "Report", "get_consent"):
        assert name in consentware.__all__
    assert callable(AsgiMiddleware)
    assert callable(WsgiMiddleware)
    assert Report().blocked == ()
    assert callable(get_consent)


def test_round_trip_grants_what_was_dumped() -> None:
    policy = Policy.default()
    codec = ConsentCookie(policy)
    state = codec.loads(codec.dumps(["statistical"]))
    assert isinstance(state, ConsentState)
    assert state.decided
    assert state.granted == {"necessary", "statistical"}
    assert state.allows("necessary")
    assert not state.allows("third_party")
    assert not state.allows("no-such-category")


def test_the_public_surface_is_small_and_documented() -> None:
    import consentware.asgi
    import consentware.django
    import consentware.flask
    import consentware.starlette
    import consentware.wsgi

    modules = [
        consentware,
        consentware.wsgi,
        consentware.asgi,
        consentware.flask,
        consentware.starlette,
        consentware.django,
    ]
    names = [(module, name) for module in modules for name in module.__all__]
    assert len(names) <= 40
    for module, name in names:
        value = getattr(module, name)
        if callable(value):
            assert value.__doc__, f"{module.__name__}.{name} has no docstring"
