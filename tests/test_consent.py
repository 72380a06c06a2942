"""The consent cookie codec, ConsentState, and get_consent."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from itsdangerous import URLSafeSerializer

from consentware import ENVIRON_KEY, NECESSARY, ConsentCookie, ConsentState, Policy, get_consent
from consentware.core.codec import CLOCK_SKEW_SECONDS, MAX_VALUE_BYTES, SALT
from consentware.core.state import ReadWitness

NOW = 1_764_400_000  # a fixed clock: 2025-11-29T07:06:40Z
DAY = 86_400
ALL_OPTIONAL = ("statistical", "first_party", "third_party")
# RFC 6265 cookie-octet: what a cookie value may hold without quoting.
COOKIE_OCTETS = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")


def _raw(payload: Any) -> str:
    """An unsigned consent value holding any JSON, as a page script could write it."""
    return quote(json.dumps(payload, separators=(",", ":")), safe="")


def _payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "c": {"statistical": 1, "first_party": 0, "third_party": 1},
        "rev": 1,
        "ts": NOW,
        "id": "abc",
    }
    payload.update(changes)
    return payload


@pytest.fixture
def policy() -> Policy:
    return Policy.default()


@pytest.fixture
def codec(policy: Policy) -> ConsentCookie:
    return ConsentCookie(policy)


# -- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "granted",
    [
        pytest.param([], id="nothing"),
        pytest.param(["statistical"], id="statistical"),
        pytest.param(["statistical", "third_party"], id="two"),
        pytest.param(list(ALL_OPTIONAL), id="all"),
        pytest.param([NECESSARY, "first_party"], id="necessary-named-too"),
    ],
)
@pytest.mark.parametrize(
    "secret_key",
    [
        pytest.param(None, id="unsigned"),
        pytest.param("s3cret", id="signed-str"),
        pytest.param(b"s3cret", id="signed-bytes"),
        pytest.param(["old", "new"], id="signed-rotating"),
    ],
)
def test_round_trip(policy: Policy, granted: list[str], secret_key: Any) -> None:
    codec = ConsentCookie(policy, secret_key=secret_key)
    value = codec.dumps(granted, now=NOW, consent_id="id-1")
    state = codec.loads(value, now=NOW + 10)
    assert state.decided
    assert state.granted == frozenset(granted) | {NECESSARY}
    assert state.pending == ()
    assert state.revision == 1
    assert state.given_at == datetime.fromtimestamp(NOW, UTC)
    assert state.consent_id == "id-1"
    assert state.gpc is False
    assert codec.signed is (secret_key is not None)


def test_unsigned_value_is_readable_json(codec: ConsentCookie) -> None:
    value = codec.dumps(["statistical"], now=NOW, consent_id="abc")
    from urllib.parse import unquote

    assert json.loads(unquote(value)) == {
        "c": {"statistical": 1, "first_party": 0, "third_party": 0},
        "rev": 1,
        "ts": NOW,
        "id": "abc",
    }


def test_a_page_script_can_write_the_unsigned_value(codec: ConsentCookie) -> None:
    state = codec.loads(_raw(_payload()), now=NOW)
    assert state.decided
    assert state.granted == {NECESSARY, "statistical", "third_party"}


def test_signed_value_is_itsdangerous_with_its_own_salt(policy: Policy) -> None:
    value = ConsentCookie(policy, secret_key="k").dumps(["statistical"], now=NOW)
    payload = URLSafeSerializer("k", salt=SALT).loads(value)
    assert payload["c"] == {"statistical": 1, "first_party": 0, "third_party": 0}
    # The same key without the salt does not verify: the signature is for this purpose only.
    assert not URLSafeSerializer("k").loads_unsafe(value)[0]


def test_each_dump_gets_a_fresh_random_consent_id(codec: ConsentCookie) -> None:
    ids = {codec.loads(codec.dumps([])).consent_id for _ in range(20)}
    assert len(ids) == 20
    assert all(i and len(i) >= 16 for i in ids)


def test_dumps_rejects_an_undeclared_category(codec: ConsentCookie) -> None:
    with pytest.raises(ValueError, match="unknown category 'stats'") as caught:
        codec.dumps(["stats"])
    assert f"(known: {', '.join(codec.policy.categories)})" in str(caught.value)


@pytest.mark.parametrize(
    "secret_key",
    [
        pytest.param("", id="empty-str"),
        pytest.param([], id="empty-list"),
        pytest.param(["a", b""], id="one-empty-in-list"),
    ],
)
def test_empty_keys_are_refused(policy: Policy, secret_key: Any) -> None:
    with pytest.raises(ValueError, match="secret_key"):
        ConsentCookie(policy, secret_key=secret_key)


# -- key rotation ----------------------------------------------------------------------------


def test_rotation_last_key_signs_all_verify(policy: Policy) -> None:
    rotating = ConsentCookie(policy, secret_key=["old", "new"])
    value = rotating.dumps(["statistical"], now=NOW)
    assert ConsentCookie(policy, secret_key="new").loads(value, now=NOW).decided
    assert not ConsentCookie(policy, secret_key="old").loads(value, now=NOW).decided


def test_rotation_values_signed_with_the_old_key_still_verify(policy: Policy) -> None:
    old_value = ConsentCookie(policy, secret_key="old").dumps(["statistical"], now=NOW)
    state = ConsentCookie(policy, secret_key=["old", "new"]).loads(old_value, now=NOW)
    assert state.decided
    assert state.allows("statistical")


def test_rotation_a_removed_key_no_longer_verifies(policy: Policy) -> None:
    old_value = ConsentCookie(policy, secret_key="old").dumps(["statistical"], now=NOW)
    state = ConsentCookie(policy, secret_key=["new", "newer"]).loads(old_value, now=NOW)
    assert not state.decided
    assert state.granted == {NECESSARY}


# -- every invalid value is undecided ------------------------------------------------------

INVALID_UNSIGNED = [
    pytest.param(None, id="none"),
    pytest.param("", id="empty"),
    pytest.param("garbage", id="not-json"),
    pytest.param("%7B", id="truncated-json"),
    pytest.param(_raw(_payload())[:-5], id="truncated-value"),
    pytest.param("%FF%FE", id="invalid-utf8"),
    pytest.param("%ZZ", id="bad-percent-escape"),
    pytest.param(_raw([1, 2]), id="json-list"),
    pytest.param(_raw("yes"), id="json-string"),
    pytest.param(_raw(1), id="json-number"),
    pytest.param(_raw(None), id="json-null"),
    pytest.param(_raw({}), id="json-empty-object"),
    pytest.param(_raw({k: v for k, v in _payload().items() if k != "c"}), id="missing-c"),
    pytest.param(_raw({k: v for k, v in _payload().items() if k != "rev"}), id="missing-rev"),
    pytest.param(_raw({k: v for k, v in _payload().items() if k != "ts"}), id="missing-ts"),
    pytest.param(_raw(_payload(c=["statistical"])), id="c-is-a-list"),
    pytest.param(_raw(_payload(c="statistical")), id="c-is-a-string"),
    pytest.param(_raw(_payload(c={"statistical": 2})), id="decision-2"),
    pytest.param(_raw(_payload(c={"statistical": -1})), id="decision-minus-1"),
    pytest.param(_raw(_payload(c={"statistical": "1"})), id="decision-string"),
    pytest.param(_raw(_payload(c={"statistical": 1.0})), id="decision-float"),
    pytest.param(_raw(_payload(c={"statistical": None})), id="decision-null"),
    pytest.param(_raw(_payload(c={"statistical": [1]})), id="decision-list"),
    pytest.param(_raw(_payload(rev="1")), id="rev-string"),
    pytest.param(_raw(_payload(rev=True)), id="rev-boolean"),
    pytest.param(_raw(_payload(rev=1.0)), id="rev-float"),
    pytest.param(_raw(_payload(rev=None)), id="rev-null"),
    pytest.param(_raw(_payload(rev=2)), id="other-revision-newer"),
    pytest.param(_raw(_payload(rev=0)), id="other-revision-older"),
    pytest.param(_raw(_payload(ts=str(NOW))), id="ts-string"),
    pytest.param(_raw(_payload(ts=True)), id="ts-boolean"),
    pytest.param(_raw(_payload(ts=float(NOW))), id="ts-float"),
    pytest.param(_raw(_payload(ts=-1)), id="ts-negative"),
    pytest.param(_raw(_payload(ts=10**400)), id="ts-huge"),
    pytest.param(_raw(_payload(ts=-(10**400))), id="ts-huge-negative"),
    pytest.param(_raw(_payload(ts=NOW - 180 * DAY - 1)), id="older-than-max-age"),
    pytest.param(_raw(_payload(ts=NOW - 400 * DAY)), id="much-older-than-max-age"),
    pytest.param(_raw(_payload(ts=NOW + CLOCK_SKEW_SECONDS + 1)), id="future-beyond-skew"),
    pytest.param(_raw(_payload(ts=NOW + 365 * DAY)), id="far-future"),
    pytest.param(_raw(_payload(id=7)), id="id-number"),
    pytest.param(_raw(_payload(id=None)), id="id-null"),
    pytest.param(_raw(_payload(id="x" * 65)), id="id-too-long"),
    pytest.param(_raw(_payload(pad="x" * MAX_VALUE_BYTES)), id="oversized"),
    pytest.param("[" * 3000 + "]" * 3000, id="deeply-nested-json-oversized"),
    pytest.param("%5B" * 1000 + "%5D" * 300, id="deeply-nested-json"),
    pytest.param(
        ConsentCookie(Policy.default(), secret_key="k").dumps(["statistical"], now=NOW),
        id="signed-value-to-an-unsigned-codec",
    ),
]


@pytest.mark.parametrize("value", INVALID_UNSIGNED)
def test_invalid_values_are_undecided(codec: ConsentCookie, value: str | None) -> None:
    state = codec.loads(value, now=NOW)
    assert not state.decided
    assert state.granted == {NECESSARY}
    assert state.pending == ALL_OPTIONAL
    assert state.revision is None
    assert state.given_at is None
    assert state.consent_id is None
    assert not state.allows("statistical")
    assert state.allows(NECESSARY)


@pytest.mark.parametrize(
    ("ts", "decided"),
    [
        pytest.param(NOW - 180 * DAY, True, id="exactly-max-age"),
        pytest.param(NOW - 180 * DAY - 1, False, id="one-second-too-old"),
        pytest.param(NOW + CLOCK_SKEW_SECONDS, True, id="future-within-skew"),
        pytest.param(NOW + CLOCK_SKEW_SECONDS + 1, False, id="future-beyond-skew"),
        pytest.param(NOW, True, id="now"),
    ],
)
def test_age_boundaries(codec: ConsentCookie, ts: int, decided: bool) -> None:
    assert codec.loads(_raw(_payload(ts=ts)), now=NOW).decided is decided


def test_max_age_days_comes_from_the_policy() -> None:
    policy = Policy.from_dict({"consent_cookie": {"max_age_days": 30}})
    codec = ConsentCookie(policy)
    value = codec.dumps([], now=NOW)
    assert codec.loads(value, now=NOW + 30 * DAY).decided
    assert not codec.loads(value, now=NOW + 30 * DAY + 1).decided


def test_a_revision_bump_voids_earlier_choices() -> None:
    v1 = Policy.from_dict({"categories": {"statistical": {}}})
    v2 = Policy.from_dict({"categories": {"statistical": {}}, "consent_cookie": {"revision": 2}})
    value = ConsentCookie(v1).dumps(["statistical"], now=NOW)
    assert ConsentCookie(v1).loads(value, now=NOW).decided
    assert not ConsentCookie(v2).loads(value, now=NOW).decided


def test_the_cache_does_not_freeze_the_age_check(codec: ConsentCookie) -> None:
    value = codec.dumps(["statistical"], now=NOW)
    assert codec.loads(value, now=NOW).decided
    assert not codec.loads(value, now=NOW + 181 * DAY).decided
    assert codec.loads(value, now=NOW + DAY).decided


def test_a_value_just_under_the_size_limit_is_read(codec: ConsentCookie) -> None:
    base = _raw(_payload(pad=""))
    value = _raw(_payload(pad="x" * (MAX_VALUE_BYTES - len(base))))
    assert len(value) == MAX_VALUE_BYTES
    assert codec.loads(value, now=NOW).decided


def _signed(policy: Policy) -> tuple[ConsentCookie, str]:
    codec = ConsentCookie(policy, secret_key="right")
    return codec, codec.dumps(["statistical"], now=NOW)


def _tamper_signature(value: str) -> str:
    # A middle character: the last base64 character of a signature also holds unused bits, so
    # changing it can leave the decoded signature the same.
    position = value.rindex(".") + 5
    swapped = "A" if value[position] != "A" else "B"
    return value[:position] + swapped + value[position + 1 :]


def _forged(value: str) -> str:
    """The payload swapped for one granting everything, the signature kept."""
    _, signature = value.rsplit(".", 1)
    everything = URLSafeSerializer("attacker", salt=SALT).dumps(
        _payload(c=dict.fromkeys(ALL_OPTIONAL, 1))
    )
    return everything.rsplit(".", 1)[0] + "." + signature


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda v: _raw(_payload()), id="unsigned-where-a-key-is-set"),
        pytest.param(
            lambda v: ConsentCookie(Policy.default(), secret_key="wrong").dumps(
                ["statistical"], now=NOW
            ),
            id="wrong-key",
        ),
        pytest.param(
            lambda v: URLSafeSerializer("right").dumps(_payload()), id="right-key-without-salt"
        ),
        pytest.param(_forged, id="forged-payload"),
        pytest.param(_tamper_signature, id="tampered-signature"),
        pytest.param(lambda v: v.rsplit(".", 1)[0], id="signature-missing"),
        pytest.param(lambda v: v[: len(v) // 2], id="truncated"),
        pytest.param(lambda v: v + "x" * MAX_VALUE_BYTES, id="oversized"),
        pytest.param(
            lambda v: URLSafeSerializer("right", salt=SALT).dumps(_payload(rev=2)),
            id="validly-signed-other-revision",
        ),
        pytest.param(
            lambda v: URLSafeSerializer("right", salt=SALT).dumps(_payload(ts=NOW - 200 * DAY)),
            id="validly-signed-too-old",
        ),
        pytest.param(
            lambda v: URLSafeSerializer("right", salt=SALT).dumps([1]),
            id="validly-signed-wrong-shape",
        ),
    ],
)
def test_invalid_signed_values_are_undecided(make: Any) -> None:
    codec, value = _signed(Policy.default())
    assert codec.loads(value, now=NOW).decided  # the untouched value is fine
    state = codec.loads(make(value), now=NOW)
    assert not state.decided
    assert state.granted == {NECESSARY}


# -- header safety and size ----------------------------------------------------------------

REALISTIC_CATEGORIES = [
    "statistical",
    "first_party",
    "third_party",
    "advertising",
    "personalisation",
    "social_media",
    "video_embeds",
    "maps_and_location",
    "live_chat_support",
    "ab_testing",
    "heatmaps",
    "session_replay",
    "affiliate_tracking",
    "fraud_prevention",
    "customer_feedback",
    "newsletter_signup",
    "product_recommendations",
    "retargeting",
    "audience_measurement",
    "crash_reporting",
]


@pytest.mark.parametrize(
    "names",
    [
        pytest.param(REALISTIC_CATEGORIES, id="20-realistic-names"),
        pytest.param([f"c{i:02d}_" + "x" * 60 for i in range(20)], id="20-names-of-64-chars"),
    ],
)
@pytest.mark.parametrize(
    "secret_key", [pytest.param(None, id="unsigned"), pytest.param(["k1", "k2"], id="signed")]
)
def test_value_is_header_safe_and_small(names: list[str], secret_key: Any) -> None:
    assert len(names) == 20
    policy = Policy.from_dict({"categories": {name: {} for name in names}})
    codec = ConsentCookie(policy, secret_key=secret_key)
    for granted in ([], names, names[::2]):
        value = codec.dumps(granted, now=NOW)
        assert COOKIE_OCTETS.fullmatch(value), value
        assert len(value.encode("ascii")) < 4096
        assert codec.loads(value, now=NOW).granted == frozenset(granted) | {NECESSARY}


# -- pending categories, GPC, stored oddities ---------------------------------------------


def test_a_category_added_after_the_choice_is_pending_and_not_granted() -> None:
    before = Policy.from_dict({"categories": {"statistical": {}}})
    after = Policy.from_dict({"categories": {"statistical": {}, "marketing": {}, "chat": {}}})
    value = ConsentCookie(before).dumps(["statistical"], now=NOW)
    state = ConsentCookie(after).loads(value, now=NOW)
    assert state.decided
    assert state.granted == {NECESSARY, "statistical"}
    assert state.pending == ("marketing", "chat")
    assert not state.allows("marketing")
    assert not state.allows("chat")


def test_a_refused_category_is_not_pending(codec: ConsentCookie) -> None:
    state = codec.loads(codec.dumps([], now=NOW), now=NOW)
    assert state.decided
    assert state.pending == ()
    assert state.granted == {NECESSARY}


def test_decisions_for_undeclared_categories_are_ignored(codec: ConsentCookie) -> None:
    state = codec.loads(_raw(_payload(c={"statistical": 1, "gone": 1})), now=NOW)
    assert state.decided
    assert state.granted == {NECESSARY, "statistical"}
    assert state.pending == ("first_party", "third_party")


def test_a_stored_refusal_of_necessary_changes_nothing(codec: ConsentCookie) -> None:
    state = codec.loads(_raw(_payload(c={NECESSARY: 0})), now=NOW)
    assert state.decided
    assert state.allows(NECESSARY)


def test_gpc_denies_opt_out_categories_whatever_the_cookie_says(codec: ConsentCookie) -> None:
    value = codec.dumps(list(ALL_OPTIONAL), now=NOW)
    state = codec.loads(value, gpc=True, now=NOW)
    assert state.gpc
    assert state.decided
    assert state.granted == {NECESSARY, "statistical", "first_party"}
    assert codec.loads(None, gpc=True).gpc


# -- ConsentState ---------------------------------------------------------------------------


def test_consent_state_is_immutable() -> None:
    state = ConsentState(decided=True, granted=["statistical"])
    for attribute in ("decided", "granted", "gpc", "pending", "revision", "consent_id", "x"):
        with pytest.raises(AttributeError):
            setattr(state, attribute, None)
    with pytest.raises(AttributeError):
        del state.gpc
    assert isinstance(state.granted, frozenset)
    assert isinstance(state.pending, tuple)


@pytest.mark.parametrize(
    ("category", "allowed"),
    [
        pytest.param(NECESSARY, True, id="necessary"),
        pytest.param("statistical", True, id="granted"),
        pytest.param("third_party", False, id="not-granted"),
        pytest.param("no-such-category", False, id="unknown"),
        pytest.param("", False, id="empty"),
        pytest.param("Statistical", False, id="case-sensitive"),
    ],
)
def test_allows(category: str, allowed: bool) -> None:
    state = ConsentState(decided=True, granted=["statistical"])
    assert state.allows(category) is allowed


def test_undecided_grants_only_necessary() -> None:
    state = ConsentState.undecided(gpc=True, pending=["statistical"])
    assert not state.decided
    assert state.granted == {NECESSARY}
    assert state.allows(NECESSARY)
    assert not state.allows("statistical")
    assert state.gpc
    assert state.pending == ("statistical",)
    assert ConsentState().granted == {NECESSARY}


def test_equality_hash_and_dict() -> None:
    given = datetime.fromtimestamp(NOW, UTC)
    a = ConsentState(decided=True, granted=["x"], revision=1, given_at=given, consent_id="i")
    b = ConsentState(
        decided=True, granted=["x", NECESSARY], revision=1, given_at=given, consent_id="i"
    )
    assert a == b
    assert hash(a) == hash(b)
    assert a != ConsentState(decided=True, granted=["y"], revision=1)
    assert a.to_dict() == {
        "decided": True,
        "granted": [NECESSARY, "x"],
        "pending": [],
        "gpc": False,
        "revision": 1,
        "given_at": "2025-11-29T07:06:40+00:00",
        "consent_id": "i",
        "sources": ["consentware"],
    }
    assert "decided=True" in repr(a)
    assert "sources=['consentware']" in repr(a)


def test_sources_default_to_consentwares_own_cookie_and_count_in_equality() -> None:
    own = ConsentState(decided=True, granted=["x"])
    assert own.sources == ("consentware",)
    assert ConsentState().sources == ()
    assert ConsentState.undecided().to_dict()["sources"] == []
    both = ConsentState(decided=True, granted=["x"], sources=["consentware", "onetrust"])
    assert both.sources == ("consentware", "onetrust")
    assert both != own
    with pytest.raises(AttributeError):
        both.sources = ()  # type: ignore[misc]
    watched = both.watched(ReadWitness())
    assert watched == both
    assert watched.sources == both.sources


# -- get_consent ----------------------------------------------------------------------------

STATE = ConsentState(decided=True, granted=["statistical"])


@pytest.mark.parametrize(
    "carrier",
    [
        pytest.param({ENVIRON_KEY: STATE}, id="wsgi-environ"),
        pytest.param({"type": "http", ENVIRON_KEY: STATE}, id="asgi-scope"),
        pytest.param(SimpleNamespace(environ={ENVIRON_KEY: STATE}), id="werkzeug-request"),
        pytest.param(SimpleNamespace(scope={ENVIRON_KEY: STATE}), id="starlette-request"),
        pytest.param(SimpleNamespace(consent=STATE), id="django-request"),
    ],
)
def test_get_consent_finds_the_state(carrier: Any) -> None:
    assert get_consent(carrier) is STATE


@pytest.mark.parametrize(
    "carrier",
    [
        pytest.param({}, id="empty-environ"),
        pytest.param({ENVIRON_KEY: "forged"}, id="not-a-state"),
        pytest.param({"consent": STATE}, id="wrong-key"),
        pytest.param(SimpleNamespace(environ={}), id="request-without-state"),
        pytest.param(SimpleNamespace(environ="x"), id="environ-not-a-dict"),
        pytest.param(SimpleNamespace(consent={"granted": ["x"]}), id="consent-not-a-state"),
        pytest.param(object(), id="object"),
        pytest.param(None, id="none"),
    ],
)
def test_get_consent_without_a_state_raises_lookup_error(carrier: Any) -> None:
    with pytest.raises(LookupError, match="ConsentMiddleware"):
        get_consent(carrier)
