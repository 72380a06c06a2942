"""The wiring: the one call the consent route makes, which never raises nor blocks."""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consentware.receipts import (
    LogReceipts,
    MemoryReceipts,
    Receipt,
    ReceiptBuilder,
    ReceiptRecorder,
    hash_user_agent,
    same_site_path,
)
from tests.support.receipts import POLICY_HASH

NOW = datetime(2025, 5, 4, 3, 2, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[1]
UA = "Mozilla/5.0 (Macintosh) Safari/605.1.15"


def record(recorder: ReceiptRecorder, **overrides: object) -> Receipt | None:
    fields: dict[str, object] = {
        "consent_id": "mQ3x0Yb2vTq8LrZc",
        "action": "save",
        "granted": ["statistical"],
        "refused": ["third_party", "first_party"],
        "revision": 3,
        "policy_hash": POLICY_HASH,
        "method": "form",
        "page": "/pricing?utm_source=mail&email=me@example.org#plans",
        "gpc": True,
        "language": "fr-FR",
        "user_agent": UA,
    }
    fields.update(overrides)
    return recorder.record(**fields)  # type: ignore[arg-type]


def test_record_builds_submits_and_returns_one_receipt() -> None:
    store = MemoryReceipts()
    recorder = ReceiptRecorder(store, user_agent_key="site-secret", clock=lambda: NOW)
    receipt = record(recorder)
    assert store.all() == [receipt]
    assert receipt is not None
    assert receipt.consent_id == "mQ3x0Yb2vTq8LrZc"
    assert receipt.granted == ("statistical",)
    assert receipt.refused == ("first_party", "third_party")
    assert receipt.recorded_at == NOW
    # Only the path: a query can carry personal data, and proves nothing.
    assert receipt.page == "/pricing"
    assert receipt.gpc is True
    assert receipt.language == "fr-FR"
    assert receipt.user_agent_hash == hash_user_agent(UA, "site-secret")


def test_without_a_key_there_is_no_user_agent_hash() -> None:
    store = MemoryReceipts()
    receipt = record(ReceiptRecorder(store))
    assert receipt is not None
    assert receipt.user_agent_hash is None


@pytest.mark.parametrize(
    ("page", "language"),
    [
        ("https://other.example/x", "not a tag!"),
        ("//other.example/x", ""),
        ("javascript:alert(1)", None),
        ("/a\r\nSet-Cookie: x", "x" * 40),
    ],
)
def test_doubtful_page_and_language_become_none(page: str, language: str | None) -> None:
    store = MemoryReceipts()
    receipt = record(ReceiptRecorder(store), page=page, language=language)
    assert receipt is not None
    assert receipt.page is None
    assert receipt.language is None


def test_a_receipt_that_cannot_be_built_is_an_error_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryReceipts()
    recorder = ReceiptRecorder(store, user_agent_key="k")
    with caplog.at_level(logging.ERROR, logger="consentware.receipts"):
        assert record(recorder, action="maybe", granted=(g for g in ["statistical"])) is None
    assert store.all() == []
    (line,) = caplog.records
    assert line.levelno == logging.ERROR
    assert "action" in line.getMessage()
    shown = json.loads(line.getMessage().split("): ", 1)[1])
    assert shown["granted"] == ["statistical"]
    assert shown["consent_id"] == "mQ3x0Yb2vTq8LrZc"
    assert shown["page"] == "/pricing"
    assert shown["user_agent_hash"] == hash_user_agent(UA, "k")
    assert UA not in line.getMessage()


def test_garbage_from_the_route_is_an_error_line_not_an_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="consentware.receipts"):
        assert record(ReceiptRecorder(MemoryReceipts()), granted=None, page=3) is None
    assert "mQ3x0Yb2vTq8LrZc" in caplog.text


def test_a_sink_that_raises_does_not_reach_the_route(caplog: pytest.LogCaptureFixture) -> None:
    class Raising(MemoryReceipts):
        def submit(self, receipt: Receipt) -> None:
            raise OSError("disk on fire")

    with caplog.at_level(logging.ERROR, logger="consentware.receipts"):
        receipt = record(ReceiptRecorder(Raising()))
    assert receipt is not None
    assert receipt.to_json() in caplog.text
    assert "disk on fire" in caplog.text


def test_the_default_sink_logs(caplog: pytest.LogCaptureFixture) -> None:
    recorder = ReceiptRecorder()
    assert isinstance(recorder.sink, LogReceipts)
    with caplog.at_level(logging.INFO, logger="consentware.receipts"):
        receipt = record(recorder)
    assert receipt is not None
    assert caplog.records[0].getMessage() == receipt.to_json()


def test_flush_and_close_for_wsgi_and_asgi() -> None:
    store = MemoryReceipts()
    recorder = ReceiptRecorder(store)
    assert recorder.flush(1.0) is True
    assert asyncio.run(recorder.aflush(1.0)) is True
    asyncio.run(recorder.aclose())
    recorder.close()


def test_the_route_cannot_hand_over_an_address() -> None:
    parameters = inspect.signature(ReceiptRecorder.record).parameters
    for name in parameters:
        assert not any(word in name for word in ("ip", "addr", "remote", "client", "forward"))


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("/", "/"),
        ("/a/b?x=1#y", "/a/b"),
        ("/a#b?c", "/a"),
        (None, None),
        ("", None),
        ("a/b", None),
        ("//host/a", None),
        ("/a\\b", None),
        ("/" + "x" * 2048, None),
    ],
)
def test_same_site_path(value: str | None, path: str | None) -> None:
    assert same_site_path(value) == path


def test_the_builder_builds_without_submitting_and_takes_the_route_s_time() -> None:
    builder = ReceiptBuilder(user_agent_key="k", clock=lambda: NOW)
    fields: dict[str, object] = {
        "consent_id": "abc",
        "action": "reject_all",
        "granted": [],
        "refused": ["statistical"],
        "revision": 1,
        "policy_hash": POLICY_HASH,
        "method": "json",
        "user_agent": UA,
    }
    built = builder.build(**fields)  # type: ignore[arg-type]
    assert built is not None
    assert built.recorded_at == NOW
    assert built.user_agent_hash == hash_user_agent(UA, "k")
    later = datetime(2026, 1, 1, tzinfo=UTC)
    assert builder.build(**fields, recorded_at=later).recorded_at == later  # type: ignore[arg-type, union-attr]
    assert builder.hashes_user_agents
    assert not ReceiptBuilder().hashes_user_agents


def test_submit_hands_a_built_receipt_over_and_never_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryReceipts()
    recorder = ReceiptRecorder(store, clock=lambda: NOW)
    receipt = record(recorder)
    assert receipt is not None
    recorder.submit(receipt)
    assert store.all() == [receipt, receipt]

    class Raising(MemoryReceipts):
        def submit(self, receipt: Receipt) -> None:
            raise OSError("full")

    with caplog.at_level(logging.ERROR, logger="consentware.receipts"):
        ReceiptRecorder(Raising()).submit(receipt)
    assert receipt.to_json() in caplog.text


def test_every_live_recorder_is_flushed_at_exit(tmp_path: Path) -> None:
    # A sink that keeps what it was given in memory until flushed, in a process that ends
    # without closing it: the exit hook is the only flush it gets.
    script = tmp_path / "exiting.py"
    out = tmp_path / "flushed.jsonl"
    script.write_text(
        "import sys\n"
        "from consentware.receipts import MemoryReceipts, ReceiptRecorder\n"
        "from tests.support.receipts import make_receipt\n"
        "class Held(MemoryReceipts):\n"
        "    def flush(self, timeout=None):\n"
        f"        with open({str(out)!r}, 'w') as f:\n"
        "            f.writelines(r.to_json() + '\\n' for r in self.all())\n"
        "        return True\n"
        "recorder = ReceiptRecorder(Held())\n"
        "for n in range(3):\n"
        "    recorder.submit(make_receipt(n))\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 3
