"""Tampering with the consent cookie, through both middlewares.

A consent cookie that is forged, unsigned, signed with another key or salt, truncated,
replayed from an older policy revision, expired, dated in the future or oversized grants
nothing: the app's statistical, first-party and third-party cookies are all removed and
``get_consent`` says undecided. Several copies give the least consent, however they arrive
(one header, several ``Cookie`` fields, a comma join, a copy hidden in a planted quoted value),
so a copy planted by a sibling subdomain cannot widen what the visitor chose.
"""

from __future__ import annotations

import base64
import json
import random
import time
import zlib
from collections.abc import Sequence

import pytest
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer

from consentware import ConsentCookie, Policy
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.core.codec import SALT
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware
from tests.fuzz import drivers
from tests.fuzz.strategies import FUZZ_POLICY_DATA

KEY = "the-site-key"
NAME = "cookies_preferences"
#: The middleware's policy revision; every value below is made for it unless a case says not.
REVISION = 2
POLICY = Policy.from_dict({**FUZZ_POLICY_DATA, "consent_cookie": {"revision": REVISION}})
ALL = ("statistical", "first_party", "third_party")
LINES = (
    "sessionid=s; Path=/; HttpOnly",
    "_ga=GA1.2.3; Path=/",
    "prefs=dark; Path=/app",
    "_fbp=fb.1; Path=/",
)
CATEGORY_OF_LINE = {
    "sessionid": "necessary",
    "_ga": "statistical",
    "prefs": "first_party",
    "_fbp": "third_party",
}
NECESSARY_ONLY = frozenset({"necessary"})


def codec(key: object = KEY, **consent_cookie: object) -> ConsentCookie:
    data = {**FUZZ_POLICY_DATA, "consent_cookie": {"revision": REVISION, **consent_cookie}}
    return ConsentCookie(Policy.from_dict(data), key)  # type: ignore[arg-type]


SIGNED = codec()


def value(granted: Sequence[str] = ALL, *, key: object = KEY, now: float | None = None) -> str:
    """A consent value signed with ``key`` (the site's key unless said otherwise)."""
    return codec(key).dumps(granted, now=now)


def send(
    adapter: str,
    cookie_fields: Sequence[str],
    *,
    secret_key: object = KEY,
    policy: Policy = POLICY,
    gpc: bool = False,
) -> tuple[frozenset[str], frozenset[str], bool]:
    """One request with these ``Cookie`` fields: (categories whose cookie left, what the app saw
    as granted, whether it saw a decided visitor)."""
    headers: list[drivers.Header] = [("Cookie", field) for field in cookie_fields]
    if gpc:
        headers.append(("Sec-GPC", "1"))
    seen = drivers.Seen()
    result = drivers.run(
        adapter, LINES, headers=headers, seen=seen, policy=policy, secret_key=secret_key
    )
    assert result.status == 200
    assert not seen.reports[0].failed
    left = frozenset(
        CATEGORY_OF_LINE[line.split("=", 1)[0]] for line in result.set_cookies if line in LINES
    )
    # Necessary cookies always pass, byte-identical.
    assert LINES[0] in result.set_cookies
    state = seen.states[0]
    return left, state._granted, state._decided


def forge(signed: str, new_payload: dict[str, object]) -> str:
    """Replace the payload of a signed value and keep its signature."""
    _payload, signature = signed.rsplit(".", 1)
    raw = json.dumps(new_payload, separators=(",", ":")).encode()
    encoded = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return f"{encoded}.{signature}"


def decode_payload(signed: str) -> dict[str, object]:
    compressed = signed.startswith(".")
    body = signed.lstrip(".").rsplit(".", 1)[0]
    raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    loaded: dict[str, object] = json.loads(zlib.decompress(raw) if compressed else raw)
    return loaded


def _all_granted_payload() -> dict[str, object]:
    payload = decode_payload(value(()))
    payload["c"] = dict.fromkeys(ALL, 1)
    return payload


def _incompressible_oversized() -> str:
    pad = random.Random(7).randbytes(4000).hex()
    payload = {
        "c": dict.fromkeys(ALL, 1),
        "rev": REVISION,
        "ts": int(time.time()),
        "id": "x",
        "p": pad,
    }
    return URLSafeSerializer(KEY, salt=SALT).dumps(payload)


# Each case: a consent cookie value that must grant nothing to a middleware with KEY.
GRANTS_NOTHING = [
    pytest.param(
        lambda: forge(value(()), _all_granted_payload()), id="forged-payload-old-signature"
    ),
    pytest.param(lambda: value(()).rsplit(".", 1)[0] + "." + "A" * 27, id="forged-signature"),
    pytest.param(lambda: codec(None).dumps(ALL), id="unsigned-where-key-set"),
    pytest.param(lambda: value(key="another-key"), id="wrong-key"),
    pytest.param(lambda: value(key=["another-key"]), id="wrong-key-list"),
    pytest.param(
        lambda: URLSafeSerializer(KEY, salt="other").dumps(_all_granted_payload()), id="wrong-salt"
    ),
    pytest.param(
        lambda: URLSafeTimedSerializer(KEY, salt="cookie-session").dumps(_all_granted_payload()),
        id="flask-session-format-same-key",
    ),
    pytest.param(lambda: value()[:-1], id="truncated-last-char"),
    pytest.param(lambda: value().rsplit(".", 1)[0], id="truncated-signature"),
    pytest.param(lambda: value()[: len(value()) // 2], id="truncated-half"),
    pytest.param(lambda: value() + "A", id="extended"),
    pytest.param(lambda: codec(KEY, revision=1).dumps(ALL), id="replayed-revision-1"),
    pytest.param(lambda: value(now=time.time() - 181 * 86400), id="expired"),
    pytest.param(lambda: value(now=time.time() + 3600), id="future-dated"),
    pytest.param(_incompressible_oversized, id="oversized-validly-signed"),
    pytest.param(lambda: value() + "\x00", id="nul-appended"),
    pytest.param(lambda: "", id="empty"),
]


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("make_value", GRANTS_NOTHING)
def test_tampered_consent_grants_nothing(adapter: str, make_value: object) -> None:
    tampered = make_value()  # type: ignore[operator]
    left, granted, decided = send(adapter, [f"{NAME}={tampered}"])
    assert left == NECESSARY_ONLY
    assert granted == NECESSARY_ONLY
    assert not decided


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_a_valid_value_grants_its_choice(adapter: str) -> None:
    """The control for the cases above: the same request with an intact value."""
    left, granted, decided = send(adapter, [f"{NAME}={value()}"])
    assert left == {"necessary", *ALL}
    assert granted == {"necessary", *ALL}
    assert decided


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize(
    ("signing_key", "middleware_key", "grants"),
    [
        pytest.param("old", ["old", "new"], True, id="old-key-still-verifies"),
        pytest.param("new", ["old", "new"], True, id="new-key-verifies"),
        pytest.param(["old", "new"], ["new"], True, id="last-key-signs"),
        pytest.param("old", ["new"], False, id="dropped-key-grants-nothing"),
        pytest.param(["new", "old"], ["new"], False, id="first-key-does-not-sign"),
    ],
)
def test_key_rotation(
    adapter: str, signing_key: object, middleware_key: object, grants: bool
) -> None:
    signed = value(key=signing_key)
    left, _, _ = send(adapter, [f"{NAME}={signed}"], secret_key=middleware_key)
    assert left == ({"necessary", *ALL} if grants else NECESSARY_ONLY)


# -- several copies ------------------------------------------------------------------------


def _wide() -> str:
    return value(ALL)


def _narrow() -> str:
    return value(("statistical",))


def _one_header(first: str, second: str) -> list[str]:
    return [f"{NAME}={first}; {NAME}={second}"]


DUPLICATES = [
    pytest.param(lambda: _one_header(_wide(), _narrow()), id="one-header-wide-first"),
    pytest.param(lambda: _one_header(_narrow(), _wide()), id="one-header-narrow-first"),
    pytest.param(lambda: [f"{NAME}={_wide()}", f"{NAME}={_narrow()}"], id="two-cookie-fields"),
    pytest.param(lambda: [f"{NAME}={_wide()}, {NAME}={_narrow()}"], id="comma-joined-fields"),
    pytest.param(
        lambda: [f"{NAME}={_wide()}; x=1, {NAME}={_narrow()}"], id="comma-joined-after-crumb"
    ),
    pytest.param(
        lambda: [f'{NAME}={_wide()}; a="x; {NAME}={_narrow()}; b=y"'],
        id="real-copy-hidden-in-planted-quotes",
    ),
    pytest.param(
        lambda: [f"{NAME}={_wide()}; sid=1; {NAME}={_narrow()}; {NAME}={_wide()}"],
        id="planted-twice",
    ),
    pytest.param(
        lambda: [f"{NAME}={_narrow()}; {NAME}={forge(_narrow(), _all_granted_payload())}"],
        id="plus-forged-wide-copy",
    ),
    pytest.param(
        lambda: [f"{NAME}={_narrow()}; {NAME}={codec(None).dumps(ALL)}"],
        id="plus-unsigned-wide-copy",
    ),
    pytest.param(
        lambda: [f"{NAME}={_narrow()}; {NAME}={value(ALL, now=time.time() - 200 * 86400)}"],
        id="plus-expired-wide-copy",
    ),
]


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("make_fields", DUPLICATES)
def test_duplicated_consent_gives_the_least_consent(adapter: str, make_fields: object) -> None:
    fields = make_fields()  # type: ignore[operator]
    left, granted, decided = send(adapter, fields)
    assert left == {"necessary", "statistical"}
    assert granted == {"necessary", "statistical"}
    assert decided


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
@pytest.mark.parametrize("planted_first", [True, False], ids=["planted-first", "planted-last"])
def test_sibling_subdomain_cannot_widen_a_refusal(
    adapter: str, signed: bool, planted_first: bool
) -> None:
    """evil.example.org sets ``cookies_preferences`` for ``Domain=example.org`` with an accept-all
    value (its own, replayed: validly signed); the visitor refused everything here. The browser
    sends both copies."""
    key = KEY if signed else None
    planted = codec(key).dumps(ALL)
    real = codec(key).dumps(())
    copies = [planted, real] if planted_first else [real, planted]
    header = "; ".join(f"{NAME}={c}" for c in copies)
    left, granted, decided = send(adapter, [header], secret_key=key)
    assert left == NECESSARY_ONLY
    assert granted == NECESSARY_ONLY
    assert decided


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_sibling_copy_cannot_undo_gpc(adapter: str) -> None:
    """A planted accept-all copy next to a GPC visitor's choice: third-party stays refused."""
    header = f"{NAME}={value(ALL)}; {NAME}={value(ALL)}"
    left, granted, _ = send(adapter, [header], gpc=True)
    assert "third_party" not in left
    assert "third_party" not in granted


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_refused_held_cookies_are_expired_under_the_least_consent(adapter: str) -> None:
    header = f"_ga=old; prefs=old; _fbp=old; {NAME}={_wide()}; {NAME}={_narrow()}"
    result = drivers.run(adapter, (), headers=[("Cookie", header)], policy=POLICY, secret_key=KEY)
    expired = {line.split("=", 1)[0] for line in result.set_cookies if "Max-Age=0" in line}
    assert expired == {"prefs", "_fbp"}


@pytest.mark.parametrize("adapter", drivers.ADAPTERS)
def test_a_host_prefixed_consent_cookie_works(adapter: str) -> None:
    """SECURITY.md's hardening for https sites: name the consent cookie ``__Host-...`` so no
    sibling subdomain can plant a copy at all. The route writes it as browsers require (Secure,
    Path=/, no Domain) and the middleware reads it back."""
    name = "__Host-cookies_preferences"
    data = {**FUZZ_POLICY_DATA, "consent_cookie": {"name": name}}
    policy = Policy.from_dict(data)
    site = "https://www.example.org"
    app = drivers.wsgi_cookie_app(LINES) if adapter == "wsgi" else drivers.asgi_cookie_app(LINES)
    middleware: object
    if adapter == "wsgi":
        middleware, call = WsgiMiddleware(app, policy, secret_key=KEY), drivers.call_wsgi
    else:
        middleware, call = AsgiMiddleware(app, policy, secret_key=KEY), drivers.call_asgi
    posted = call(
        middleware,
        method="POST",
        path="/_consent",
        scheme="https",
        headers=[
            ("Host", "www.example.org"),
            ("Origin", site),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        body=b"action=save&category=statistical",
    )
    [line] = [line for line in posted.set_cookies if line.startswith(f"{name}=")]
    attributes = [part.strip().lower() for part in line.split(";")[1:]]
    assert "secure" in attributes
    assert "path=/" in attributes
    assert not any(part.startswith("domain") for part in attributes)
    value = line.split(";", 1)[0].split("=", 1)[1]
    result = call(middleware, headers=[("Cookie", f"{name}={value}")], scheme="https")
    kept = {line.split("=", 1)[0] for line in result.set_cookies if line in LINES}
    assert kept == {"sessionid", "_ga"}
