"""SQLReceipts on a real SQLite file and a real PostgreSQL server: what goes in comes out.

Every test here runs once per backend (``store_url``); none uses a fake database.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from consentware.receipts import Receipt, ReceiptStore, SQLReceipts, default_spool_path
from consentware.receipts._sql import TABLE_NAME
from tests.support.receipts import START, by_id, make_receipt, rows

MakeStore = Callable[..., SQLReceipts]


def test_the_table_and_its_indexes_are_made_on_first_use(make_store: MakeStore) -> None:
    store = make_store()
    assert isinstance(store, ReceiptStore)
    assert not inspect(store.engine).has_table(TABLE_NAME)
    store.submit(make_receipt())
    assert store.flush(10)
    inspector = inspect(store.engine)
    assert inspector.has_table(TABLE_NAME)
    assert inspector.get_pk_constraint(TABLE_NAME)["constrained_columns"] == ["receipt_id"]
    leading = {index["column_names"][0] for index in inspector.get_indexes(TABLE_NAME)}
    assert leading == {"consent_id", "recorded_at"}


def test_a_second_store_finds_the_table_already_there(make_store: MakeStore) -> None:
    first, second = make_store(), make_store()
    first.submit(make_receipt(1))
    assert first.flush(10)
    second.submit(make_receipt(2))
    assert second.flush(10)
    assert len(rows(first)) == 2


def test_every_field_comes_back_as_it_went_in(make_store: MakeStore) -> None:
    store = make_store()
    submitted = [make_receipt(n) for n in range(64)]
    for receipt in submitted:
        store.submit(receipt)
    assert store.flush(10)
    stored = rows(store)
    assert stored == sorted(submitted, key=lambda r: (r.recorded_at, r.receipt_id))
    assert {r.action for r in stored} == {"accept_all", "reject_all", "save", "withdraw"}
    assert all(r.recorded_at.tzinfo is not None for r in stored)


def test_200_receipts_from_50_threads(make_store: MakeStore) -> None:
    store = make_store()
    submitted = [make_receipt() for _ in range(200)]
    start = threading.Barrier(50)

    def post(chunk: list[Receipt]) -> None:
        start.wait()
        for receipt in chunk:
            store.submit(receipt)

    with ThreadPoolExecutor(50) as pool:
        list(pool.map(post, [submitted[i::50] for i in range(50)]))
    assert store.flush(20)
    stored = rows(store)
    assert len(stored) == 200
    assert by_id(stored) == by_id(submitted)


def test_200_receipts_from_asyncio_tasks(make_store: MakeStore) -> None:
    store = make_store()
    submitted = [make_receipt() for _ in range(200)]

    async def post(receipt: Receipt) -> None:
        await asyncio.sleep(0)
        store.submit(receipt)

    async def run() -> bool:
        await asyncio.gather(*(post(receipt) for receipt in submitted))
        return await asyncio.to_thread(store.flush, 20)

    assert asyncio.run(run())
    stored = rows(store)
    assert len(stored) == 200
    assert by_id(stored) == by_id(submitted)


def test_find_gives_one_visitors_history_oldest_first(make_store: MakeStore) -> None:
    store = make_store()
    history = [
        make_receipt(1, consent_id="alice", action="accept_all", recorded_at=START),
        make_receipt(2, consent_id="alice", action="save", recorded_at=START + timedelta(days=9)),
        make_receipt(3, consent_id="alice", action="withdraw", recorded_at=START + timedelta(9, 1)),
    ]
    others = [make_receipt(n, consent_id="bob") for n in range(5)]
    for receipt in [history[2], *others, history[0], history[1]]:
        store.submit(receipt)
    assert store.flush(10)
    assert store.find("alice") == history
    assert store.find("nobody") == []


def test_export_streams_everything_or_what_came_since(make_store: MakeStore) -> None:
    store = make_store()
    submitted = [make_receipt(n, recorded_at=START + timedelta(hours=n)) for n in range(30)]
    for receipt in reversed(submitted):
        store.submit(receipt)
    assert store.flush(10)
    assert list(store.export()) == submitted
    assert list(store.export(since=START + timedelta(hours=20))) == submitted[20:]
    with pytest.raises(ValueError, match="timezone"):
        store.export(since=START.replace(tzinfo=None))


def test_prune_deletes_what_is_past_retention(make_store: MakeStore) -> None:
    store = make_store(retention_days=30)
    now = START + timedelta(days=400)
    day = timedelta(days=1)
    ages = [0 * day, day, 30 * day, 30 * day + timedelta(microseconds=1), 31 * day, 365 * day]
    for n, age in enumerate(ages):
        store.submit(make_receipt(n, recorded_at=now - age))
    assert store.flush(10)
    assert store.prune(now=now) == 3
    # Exactly 30 days old is still within retention; a microsecond more is not.
    assert sorted(now - r.recorded_at for r in rows(store)) == ages[:3]
    assert store.prune(now=now) == 0
    assert store.prune(now=now + 365 * day) == 3


def test_prune_defaults_to_thirteen_months(make_store: MakeStore) -> None:
    store = make_store()
    assert store.retention_days == 395
    store.submit(make_receipt(1))  # recorded in 2025: long past 395 days by now
    assert store.flush(10)
    assert store.prune() == 1


def test_a_spool_left_at_start_up_is_replayed_on_first_use(
    make_store: MakeStore, tmp_path: Path
) -> None:
    spool = tmp_path / "spool" / "receipts.spool"
    spool.parent.mkdir()
    left = [make_receipt(n) for n in range(20)]
    # What a crashed process leaves: its own file, named after a pid that is gone.
    (spool.parent / "receipts.spool.999999-0badf00d").write_text(
        "".join(r.to_json() + "\n" for r in left[:12])
    )
    spool.write_text("".join(r.to_json() + "\n" for r in left[12:]))
    store = make_store(spool_path=spool)
    fresh = make_receipt(99)
    store.submit(fresh)
    assert store.flush(10)
    assert by_id(rows(store)) == by_id([*left, fresh])
    assert not [p for p in spool.parent.iterdir() if p.stat().st_size]


def test_a_replay_of_receipts_already_stored_adds_none(
    make_store: MakeStore, tmp_path: Path
) -> None:
    spool = tmp_path / "spool" / "receipts.spool"
    first = make_store(spool_path=spool)
    stored = [make_receipt(n) for n in range(10)]
    for receipt in stored:
        first.submit(receipt)
    assert first.flush(10)
    first.close()
    # A crash after the commit and before the spool was cut: the same lines are still there.
    extra = [make_receipt(n) for n in range(10, 15)]
    spool.parent.mkdir(exist_ok=True)
    spool.write_text("".join(r.to_json() + "\n" for r in [*stored, *extra]))
    second = make_store(spool_path=spool)
    assert second.flush(10)
    assert len(rows(second)) == 15
    assert by_id(rows(second)) == by_id([*stored, *extra])


def test_submit_after_close_is_spooled_and_replayed_by_the_next_store(
    make_store: MakeStore, tmp_path: Path
) -> None:
    spool = tmp_path / "spool" / "receipts.spool"
    first = make_store(spool_path=spool)
    first.close()
    late = make_receipt(7)
    first.submit(late)
    assert late in list(first._writer.spool.peek())
    second = make_store(spool_path=spool)
    assert second.flush(10)
    assert rows(second) == [late]


def _child(url: str, spool: str, receipts: list[Receipt], parent: SQLReceipts) -> None:
    # The inherited store, used in the child as a forking server's worker would.
    for receipt in receipts:
        parent.submit(receipt)
    ok = parent.flush(20)
    parent.close()
    os._exit(0 if ok else 1)


def test_a_forked_worker_gets_its_own_writer(make_store: MakeStore, store_url: str) -> None:
    store = make_store()
    before = [make_receipt(n) for n in range(10)]
    for receipt in before:
        store.submit(receipt)
    assert store.flush(10)
    assert store._writer._thread is not None
    children = [[make_receipt() for _ in range(25)] for _ in range(3)]
    context = multiprocessing.get_context("fork")
    processes = [
        context.Process(target=_child, args=(store_url, str(store.spool_path), chunk, store))
        for chunk in children
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    after = make_receipt()
    store.submit(after)
    assert store.flush(10)
    expected = [*before, *(r for chunk in children for r in chunk), after]
    assert by_id(rows(store)) == by_id(expected)


def test_default_spool_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "db" / "consent-receipts.db"
    assert default_spool_path(f"sqlite:///{database}") == Path(f"{database}.spool")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    one = default_spool_path("postgresql+psycopg://app:secret@db.internal/app")
    two = default_spool_path("postgresql://app:other@db.internal/app")
    three = default_spool_path("postgresql+psycopg://app@db.internal/other")
    assert one.parent == tmp_path / "state" / "consentware"
    assert one == two  # the password is no part of it; postgresql:// means psycopg 3
    assert one != three
    assert "secret" not in str(one)


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(ValueError, match="retention_days"):
        SQLReceipts(url, retention_days=0)
    with pytest.raises(ValueError, match="batch_size"):
        SQLReceipts(url, batch_size=0)
    with pytest.raises(ValueError, match="retry"):
        SQLReceipts(url, retry_min=2, retry_max=1)
