"""A database outage in the middle of a run: submit never waits, nothing is lost or doubled.

PostgreSQL is really stopped (``pg_ctl stop``) and started again; SQLite is really locked by
another connection holding an exclusive transaction (as root, ``chmod`` would not stop a
write). The receipts are submitted one after another from one thread, without stopping, while
the database goes away and comes back, so "in order" has a meaning: the order in which receipts
were committed must be the order in which they were submitted.

That ``submit`` does not block is shown as a property of its code path: during the run no
database call (no connection attempt, no statement) and no spool write happens on the
submitting thread. The time each ``submit`` took is recorded and printed, not asserted.
"""

from __future__ import annotations

import logging
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from consentware.receipts import Receipt, SQLReceipts, StoreUnavailable
from tests.support.postgres import PostgresServer
from tests.support.receipts import by_id, make_receipt, rows

pytestmark = pytest.mark.e2e


@dataclass
class Watch:
    """What happened on which thread, and what reached the database, in order."""

    database_threads: set[int] = field(default_factory=set)
    spool_threads: set[int] = field(default_factory=set)
    spooled: list[Receipt] = field(default_factory=list)
    committed: list[Receipt] = field(default_factory=list)
    failed_writes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def watch(store: SQLReceipts) -> Watch:
    seen = Watch()

    def on_database(*_: Any) -> None:
        seen.database_threads.add(threading.get_ident())

    # do_connect runs before every connection attempt, failed ones included.
    event.listen(store.engine, "do_connect", on_database)
    event.listen(store.engine, "before_cursor_execute", on_database)

    spool = store._writer.spool
    append = spool.append

    def spool_append(receipts: Sequence[Receipt]) -> None:
        with seen.lock:
            seen.spool_threads.add(threading.get_ident())
        append(receipts)
        with seen.lock:
            seen.spooled.extend(receipts)

    spool.append = spool_append  # type: ignore[method-assign]

    write = store._writer._write

    def recorded_write(receipts: Iterable[Receipt]) -> None:
        batch = list(receipts)
        try:
            write(batch)
        except Exception:
            seen.failed_writes += 1
            raise
        seen.committed.extend(batch)

    store._writer._write = recorded_write
    return seen


@dataclass
class Run:
    submitted: list[Receipt]
    submit_ns: list[int]
    outage_ns: list[int]
    submitter: int


def run_through_an_outage(
    store: SQLReceipts,
    take_down: Callable[[], None],
    bring_back: Callable[[], None],
    *,
    per_phase: int = 100,
    pause: float = 0.002,
    during_outage: Callable[[], None] | None = None,
    timeout: float = 120.0,
) -> Run:
    """Submit receipts one by one, without stopping: ``per_phase`` before the outage, at least
    ``per_phase`` while the database is away (and until the writer has met the outage), and
    ``per_phase`` after it is back. Taking it down and bringing it back happen in other
    threads, so submitting never pauses for them."""
    submitted: list[Receipt] = []
    durations: list[int] = []
    outage: list[int] = []
    down, back = threading.Event(), threading.Event()
    helpers: list[threading.Thread] = []
    phase, in_phase = "before", 0
    deadline = time.monotonic() + timeout
    while True:
        if phase == "before" and in_phase >= per_phase:
            helpers.append(_in_thread(lambda: (take_down(), down.set())))
            phase, in_phase = "outage", 0
        elif phase == "outage" and in_phase >= per_phase and down.is_set() and store.down:
            if during_outage is not None:
                _in_thread(during_outage).join(60)
            helpers.append(_in_thread(lambda: (bring_back(), back.set())))
            phase, in_phase = "after", 0
        elif phase == "after" and in_phase >= per_phase and back.is_set():
            break
        assert time.monotonic() < deadline, f"stuck in phase {phase!r}"
        receipt = make_receipt()
        start = time.perf_counter_ns()
        store.submit(receipt)
        elapsed = time.perf_counter_ns() - start
        durations.append(elapsed)
        if down.is_set() and not back.is_set():
            outage.append(elapsed)
        submitted.append(receipt)
        in_phase += 1
        time.sleep(pause)
    for helper in helpers:
        helper.join(60)
    return Run(submitted, durations, outage, threading.get_ident())


def check_run(
    store: SQLReceipts, seen: Watch, run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    assert store.flush(60), "the spool was not replayed after recovery"
    # submit never touched the database nor the spool (the queue never filled).
    assert run.submitter not in seen.database_threads
    assert run.submitter not in seen.spool_threads
    assert seen.database_threads, "the writer thread did use the database"
    stored = rows(store)
    # Exactly what was submitted: the count, every field, and no duplicate.
    assert len(stored) == len(run.submitted)
    assert by_id(stored) == by_id(run.submitted)
    # The outage was real: writes failed and receipts went through the spool...
    assert seen.failed_writes >= 1
    assert seen.spooled
    # ...in submission order, and were committed in that order too.
    order = {r.receipt_id: i for i, r in enumerate(run.submitted)}
    positions = [order[r.receipt_id] for r in seen.spooled]
    assert positions == sorted(positions)
    assert _first_commits(seen.committed) == run.submitted
    # Nothing left behind.
    assert not list(store._writer.spool.peek())
    with capsys.disabled():
        later = run.submit_ns[1:]  # the first submit also starts the writer thread
        print(
            f"\n  {store.url.get_backend_name()} outage: {len(run.submitted)} submitted, "
            f"{len(seen.spooled)} through the spool, {seen.failed_writes} failed writes; "
            f"submit: first {run.submit_ns[0] / 1e3:.1f} µs, then median "
            f"{statistics.median(later) / 1e3:.1f} µs, p99 "
            f"{sorted(later)[int(0.99 * len(later))] / 1e3:.1f} µs, max {max(later) / 1e3:.1f} µs; "
            f"during the outage median {statistics.median(run.outage_ns) / 1e3:.1f} µs, max "
            f"{max(run.outage_ns) / 1e3:.1f} µs"
        )


@pytest.mark.postgres
def test_postgres_stopped_mid_run(
    postgres_server: PostgresServer,
    postgres_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = SQLReceipts(
        postgres_url,
        spool_path=tmp_path / "spool" / "pg.spool",
        batch_size=20,
        retry_min=0.05,
        retry_max=0.5,
        engine_options={"connect_args": {"connect_timeout": 2}},
    )
    try:
        seen = watch(store)
        store.submit(make_receipt())  # the table exists before the run
        assert store.flush(10)
        warmup = rows(store)
        seen.database_threads.clear()
        run = run_through_an_outage(store, postgres_server.stop, postgres_server.start)
        run.submitted[:0] = warmup
        check_run(store, seen, run, capsys)
    finally:
        if not postgres_server.running:
            postgres_server.start()
        store.close(timeout=10)


@contextmanager
def sqlite_locked(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holding the database's write lock until the block ends."""
    # It waits its turn: the writer may be in the middle of a transaction.
    connection = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    connection.execute("BEGIN EXCLUSIVE")
    try:
        yield connection
    finally:
        connection.execute("ROLLBACK")
        connection.close()


class SQLiteLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._held: Any = None

    def take(self) -> None:
        self._held = sqlite_locked(self.path)
        self._held.__enter__()

    def release(self) -> None:
        self._held.__exit__(None, None, None)


def test_sqlite_locked_mid_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "receipts.db"
    store = SQLReceipts(
        f"sqlite:///{database}",
        spool_path=tmp_path / "spool" / "sqlite.spool",
        batch_size=20,
        retry_min=0.05,
        retry_max=0.5,
        # The busy timeout: how long the writer waits on the lock before it calls it an outage.
        engine_options={"connect_args": {"timeout": 0.2}},
    )
    try:
        seen = watch(store)
        lock = SQLiteLock(database)
        found_during: list[Receipt] = []
        spooled_then: list[Receipt] = []

        def data_subject_request() -> None:
            # Readers are not blocked in WAL mode: find answers from the file and the spool.
            deadline = time.monotonic() + 30
            while not spooled_then and time.monotonic() < deadline:
                spooled_then.extend(store._writer.spool.peek())
                time.sleep(0.01)
            for receipt in spooled_then:
                found_during.extend(
                    r for r in store.find(receipt.consent_id) if r.receipt_id == receipt.receipt_id
                )

        run = run_through_an_outage(
            store, lock.take, lock.release, during_outage=data_subject_request
        )
        assert spooled_then
        assert found_during == spooled_then
        check_run(store, seen, run, capsys)
    finally:
        store.close(timeout=10)


# -- where nothing can keep a receipt: ERROR, with the receipt ------------------------------


def unwritable_spool(tmp_path: Path) -> Path:
    # Below a regular file: no directory can be made there, whoever we are (root included).
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    return blocker / "receipts.spool"


def error_receipts(caplog: pytest.LogCaptureFixture) -> list[Receipt]:
    found = []
    for record in caplog.records:
        if record.name == "consentware.receipts" and record.levelno == logging.ERROR:
            message = record.getMessage()
            assert message.startswith("receipt not kept (")
            found.append(Receipt.from_json(message[message.index("{") :]))
    return found


def test_queue_full_and_spool_unwritable_is_an_error_with_the_receipt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "receipts.db"
    store = SQLReceipts(
        f"sqlite:///{database}",
        spool_path=unwritable_spool(tmp_path),
        queue_size=2,
        batch_size=1,
        retry_min=0.05,
        retry_max=0.1,
        engine_options={"connect_args": {"timeout": 0.3}},
    )
    store.submit(make_receipt())
    assert store.flush(10)
    submitted = [make_receipt() for _ in range(20)]
    with caplog.at_level(logging.ERROR, logger="consentware.receipts"):
        with sqlite_locked(database):
            for receipt in submitted:
                store.submit(receipt)  # the writer is stuck on the lock: the queue fills
        store.flush(10)
    lost = error_receipts(caplog)
    kept = [r for r in rows(store) if r.receipt_id in by_id(submitted)]
    assert lost, "some receipts met a full queue and an unwritable spool"
    # Every receipt is in the database or in an ERROR line, whole; none in both, none missing.
    assert not set(by_id(lost)) & set(by_id(kept))
    assert by_id(lost) | by_id(kept) == by_id(submitted)
    assert any("queue is full" in r.getMessage() for r in caplog.records)
    store.close()


def test_after_close_with_an_unwritable_spool_the_receipt_is_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLReceipts(f"sqlite:///{tmp_path / 'r.db'}", spool_path=unwritable_spool(tmp_path))
    store.close()
    receipt = make_receipt()
    with caplog.at_level(logging.ERROR, logger="consentware.receipts"):
        store.submit(receipt)
    assert error_receipts(caplog) == [receipt]
    assert "closed" in caplog.records[0].getMessage()


def test_reads_name_the_outage(
    postgres_server: PostgresServer, postgres_url: str, tmp_path: Path
) -> None:
    store = SQLReceipts(postgres_url, spool_path=tmp_path / "s", retry_min=0.05)
    try:
        assert store.find("anyone") == []
        postgres_server.stop()
        with pytest.raises(StoreUnavailable, match="cannot read"):
            store.find("anyone")
        with pytest.raises(StoreUnavailable):
            list(store.export())
        with pytest.raises(StoreUnavailable, match="cannot prune"):
            store.prune()
    finally:
        postgres_server.start()
        store.close()


def _first_commits(committed: list[Receipt]) -> list[Receipt]:
    seen: set[str] = set()
    out = []
    for receipt in committed:
        if receipt.receipt_id not in seen:
            seen.add(receipt.receipt_id)
            out.append(receipt)
    return out


def _in_thread(target: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread
