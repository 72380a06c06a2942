"""The receipt itself: its checks, its JSON round trip, its hashes, and no room for an IP."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentware.receipts import (
    ACTIONS,
    FIELD_NAMES,
    METHODS,
    InvalidReceipt,
    LogReceipts,
    MemoryReceipts,
    Receipt,
    ReceiptError,
    ReceiptSink,
    ReceiptStore,
    canonical_sha256,
    hash_user_agent,
    new_consent_id,
)
from tests.support.receipts import POLICY_HASH, make_receipt

# -- strategies ---------------------------------------------------------------------------

category = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,20}", fullmatch=True)
# The same examples on every run (as the suite's other property tests in CI).
STABLE = settings(max_examples=200, deadline=None, derandomize=True, database=None)
hex_digits = st.text("0123456789abcdef", min_size=32, max_size=32)
PATH = r"/([A-Za-z0-9._~%!$&'()*+,;=:@-][A-Za-z0-9/._~%!$&'()*+,;=:@-]{0,60})?"


@st.composite
def receipts(draw: st.DrawFn) -> Receipt:
    names = draw(st.lists(category, unique=True, max_size=8))
    split = draw(st.integers(0, len(names)))
    offset = draw(st.integers(-14 * 60, 14 * 60))
    moment = draw(
        st.datetimes(
            min_value=datetime(1971, 1, 1),
            max_value=datetime(9998, 12, 31),
            timezones=st.just(timezone(timedelta(minutes=offset))),
        )
    )
    return Receipt(
        receipt_id=draw(hex_digits),
        consent_id=draw(st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)),
        action=draw(st.sampled_from(sorted(ACTIONS))),
        granted=tuple(sorted(names[:split])),
        refused=tuple(sorted(names[split:])),
        revision=draw(st.integers(0, 2**31 - 1)),
        policy_hash=draw(st.text("0123456789abcdef", min_size=64, max_size=64)),
        method=draw(st.sampled_from(sorted(METHODS))),
        recorded_at=moment,
        page=draw(st.none() | st.from_regex(PATH, fullmatch=True)),
        gpc=draw(st.booleans()),
        language=draw(st.none() | st.from_regex(r"[a-z]{2,3}(-[A-Z]{2})?", fullmatch=True)),
        user_agent_hash=draw(st.none() | hex_digits),
    )


# -- round trip ---------------------------------------------------------------------------


@STABLE
@given(receipts())
def test_to_dict_from_dict_round_trips(receipt: Receipt) -> None:
    document = receipt.to_dict()
    assert Receipt.from_dict(document) == receipt
    # JSON-safe: through a real JSON text and back.
    assert Receipt.from_dict(json.loads(json.dumps(document))) == receipt
    assert Receipt.from_json(receipt.to_json()) == receipt


@STABLE
@given(receipts())
def test_recorded_at_is_kept_in_utc(receipt: Receipt) -> None:
    assert receipt.recorded_at.tzinfo is UTC
    assert receipt.to_dict()["recorded_at"].endswith("+00:00")


def test_new_mints_an_id_and_the_time_and_sorts_the_categories() -> None:
    before = datetime.now(UTC)
    receipt = Receipt.new(
        consent_id=new_consent_id(),
        action="save",
        granted=["third_party", "statistical", "statistical"],
        refused=iter(["first_party"]),
        revision=2,
        policy_hash=POLICY_HASH,
        method="json",
    )
    assert len(receipt.receipt_id) == 32
    assert before <= receipt.recorded_at <= datetime.now(UTC)
    assert receipt.granted == ("statistical", "third_party")
    assert receipt.refused == ("first_party",)
    assert Receipt.new(**_fields(receipt)).receipt_id != receipt.receipt_id


def test_to_dict_has_every_field_in_order() -> None:
    assert tuple(make_receipt().to_dict()) == FIELD_NAMES
    assert tuple(f.name for f in dataclasses.fields(Receipt)) == FIELD_NAMES


def test_receipts_are_frozen() -> None:
    receipt = make_receipt()
    with pytest.raises(dataclasses.FrozenInstanceError):
        receipt.granted = ()  # type: ignore[misc]


# -- checks -------------------------------------------------------------------------------

BAD_FIELDS: list[tuple[str, Any]] = [
    ("receipt_id", "not-hex"),
    ("receipt_id", "A" * 32),
    ("consent_id", ""),
    ("consent_id", "x" * 65),
    ("consent_id", "has space"),
    ("action", "accept"),
    ("method", "xml"),
    ("granted", ["statistical"]),
    ("granted", ("b", "a")),
    ("granted", ("a", "a")),
    ("granted", ("1digit",)),
    ("refused", ("first_party", "statistical", "third_party")),  # overlaps granted below
    ("revision", -1),
    ("revision", True),
    ("revision", "1"),
    ("policy_hash", "abc"),
    ("policy_hash", "A" * 64),
    ("recorded_at", datetime(2025, 1, 1)),
    ("recorded_at", "2025-01-01T00:00:00+00:00"),
    ("page", "https://example.org/"),
    ("page", "//evil.example/"),
    ("page", "/search?q=me@example.org"),
    ("page", "/a#b"),
    ("page", "/a b"),
    ("page", "/a\nb"),
    ("page", "relative"),
    ("page", "/" + "a" * 2048),
    ("gpc", 1),
    ("language", "english please"),
    ("language", "e"),
    ("language", "x" * 36),
    ("user_agent_hash", "Mozilla/5.0"),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_a_bad_field_is_named(field: str, value: Any) -> None:
    good = make_receipt(0, granted=["statistical"], refused=["first_party"])
    fields = {**dataclasses.asdict(good), field: value}
    if field == "refused":
        fields["granted"] = ("statistical",)
    with pytest.raises(InvalidReceipt, match=field if field != "refused" else "both name"):
        Receipt(**fields)


def test_invalid_receipt_is_a_value_error_and_a_receipt_error() -> None:
    assert issubclass(InvalidReceipt, ValueError)
    assert issubclass(InvalidReceipt, ReceiptError)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("gpc"), "gpc: missing"),
        (lambda d: d.update(ip="203.0.113.7"), "'ip': not a receipt field"),
        (lambda d: d.update(granted="statistical"), "granted: a list"),
        (lambda d: d.update(recorded_at="yesterday"), "recorded_at"),
        (lambda d: d.update(recorded_at=1735689600), "recorded_at"),
    ],
)
def test_from_dict_names_the_bad_key(change: Any, message: str) -> None:
    document = make_receipt().to_dict()
    change(document)
    with pytest.raises(InvalidReceipt, match=message):
        Receipt.from_dict(document)


def test_from_json_refuses_what_is_not_json() -> None:
    with pytest.raises(InvalidReceipt, match="not JSON"):
        Receipt.from_json("{")
    with pytest.raises(InvalidReceipt, match="JSON object"):
        Receipt.from_json("[]")


# -- no IP address, anywhere --------------------------------------------------------------

IP_WORDS = ("ip", "addr", "address", "remote", "client", "forwarded", "host", "peer")
IP_LITERALS = [
    "203.0.113.7",
    "10.0.0.1",
    "2001:db8::1",
    "::ffff:203.0.113.7",
    "fe80::1%eth0",
    "[2001:db8::1]",
    "203.0.113.7:443",
]


def test_no_field_is_named_for_an_address() -> None:
    for name in FIELD_NAMES:
        assert not any(word in name.split("_") for word in IP_WORDS), name


@pytest.mark.parametrize("literal", IP_LITERALS)
@pytest.mark.parametrize("field", [f for f in FIELD_NAMES if f not in ("gpc", "revision")])
def test_no_text_field_takes_an_ip_literal(field: str, literal: str) -> None:
    good = dataclasses.asdict(make_receipt())
    value: Any = (literal,) if field in ("granted", "refused") else literal
    if field == "recorded_at":
        value = literal
    with pytest.raises(InvalidReceipt):
        Receipt(**{**good, field: value})


@STABLE
@given(receipts())
def test_no_value_in_a_receipt_parses_as_an_ip_address(receipt: Receipt) -> None:
    for value in _leaves(receipt.to_dict()):
        if isinstance(value, str):
            with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
                ipaddress.ip_address(value)


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


# -- hashes -------------------------------------------------------------------------------

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def test_hash_user_agent_is_keyed_and_short() -> None:
    first = hash_user_agent(UA, "key-1")
    assert len(first) == 32
    assert first == hash_user_agent(UA, b"key-1")
    assert first != hash_user_agent(UA, "key-2")
    assert first != hash_user_agent(UA + " ", "key-1")
    assert UA not in first


def test_hash_user_agent_is_not_a_plain_hash_nor_a_plain_hmac() -> None:
    import hashlib
    import hmac

    value = hash_user_agent(UA, "key-1")
    assert not hashlib.sha256(UA.encode()).hexdigest().startswith(value)
    assert not hmac.new(b"key-1", UA.encode(), "sha256").hexdigest().startswith(value)


def test_hash_user_agent_needs_a_key_and_takes_any_text() -> None:
    with pytest.raises(ValueError, match="key"):
        hash_user_agent(UA, "")
    assert len(hash_user_agent("\udcff odd \u2603", "k")) == 32


def test_canonical_sha256_ignores_key_order_and_spacing() -> None:
    one = canonical_sha256({"b": [1, 2], "a": {"y": "é", "x": None}})
    two = canonical_sha256({"a": {"x": None, "y": "é"}, "b": [1, 2]})
    assert one == two
    assert len(one) == 64
    assert one != canonical_sha256({"a": {"x": None, "y": "e"}, "b": [1, 2]})


# -- the simple sinks ---------------------------------------------------------------------


def test_log_receipts_writes_one_json_line_at_info(caplog: pytest.LogCaptureFixture) -> None:
    sink = LogReceipts()
    receipt = make_receipt()
    with caplog.at_level(logging.INFO, logger="consentware.receipts"):
        sink.submit(receipt)
    (record,) = caplog.records
    assert record.name == "consentware.receipts"
    assert record.levelno == logging.INFO
    assert "\n" not in record.getMessage()
    assert Receipt.from_json(record.getMessage()) == receipt
    assert record.consentware_receipt == receipt.to_dict()  # type: ignore[attr-defined]
    assert sink.flush() is True
    sink.close()


def test_log_receipts_warns_once_when_nobody_listens(caplog: pytest.LogCaptureFixture) -> None:
    sink = LogReceipts()
    with caplog.at_level(logging.WARNING, logger="consentware.receipts"):
        sink.submit(make_receipt())
        sink.submit(make_receipt())
    (warning,) = caplog.records
    assert warning.levelno == logging.WARNING
    assert "not kept" in warning.getMessage()


def test_log_receipts_never_raises_even_with_a_broken_logger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sink = LogReceipts()

    class Broken:
        name = "broken"
        handlers: ClassVar[list[logging.Handler]] = []

        def log(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("no")

    sink.logger = Broken()  # type: ignore[assignment]
    receipt = make_receipt()
    sink.submit(receipt)
    assert receipt.to_json() in capsys.readouterr().err


def test_sinks_satisfy_the_protocols() -> None:
    assert isinstance(LogReceipts(), ReceiptSink)
    assert not isinstance(LogReceipts(), ReceiptStore)
    assert isinstance(MemoryReceipts(), ReceiptStore)


def test_memory_receipts_find_export_prune() -> None:
    store = MemoryReceipts(retention_days=10)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    old = make_receipt(1, consent_id="a", recorded_at=now - timedelta(days=11))
    mid = make_receipt(2, consent_id="a", recorded_at=now - timedelta(days=5))
    new = make_receipt(3, consent_id="b", recorded_at=now)
    for receipt in (new, old, mid):
        store.submit(receipt)
    assert store.find("a") == [old, mid]
    assert list(store.export(since=now - timedelta(days=6))) == [mid, new]
    assert store.prune(now=now) == 1
    assert list(store.export()) == [mid, new]
    assert len(store) == 2


def _fields(receipt: Receipt) -> dict[str, Any]:
    fields = dataclasses.asdict(receipt)
    del fields["receipt_id"]
    return fields


def test_the_package_its_command_and_the_middlewares_import_without_sqlalchemy() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['sqlalchemy'] = None\n"
        "import consentware.receipts as r\n"
        "import consentware.cli, consentware.wsgi, consentware.asgi\n"
        "consentware.wsgi.ConsentMiddleware(None).recorder.sink\n"
        "assert consentware.cli.main(['receipts', '--db', 'sqlite://', 'find', 'x']) == 2\n"
        "r.LogReceipts().submit\n"
        "try:\n"
        "    r.SQLReceipts\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "pip install 'consentware[receipts]'" in done.stdout
