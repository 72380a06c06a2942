"""Helpers for the receipts tests: receipts to submit, and a store on each real backend.

``store_url`` is parametrised over SQLite (a file in the test's temporary directory) and
PostgreSQL (a fresh database on the session's throwaway server, see ``postgres``); tests that
take it run once per backend, the PostgreSQL run marked ``postgres``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from consentware.receipts import Receipt, SQLReceipts, canonical_sha256, hash_user_agent

POLICY_HASH = canonical_sha256({"categories": ["statistical", "first_party", "third_party"]})
OPTIONAL = ("first_party", "statistical", "third_party")
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
_counter = itertools.count()


def make_receipt(n: int | None = None, **overrides: Any) -> Receipt:
    """A valid receipt whose choice depends on ``n`` (so receipts differ field by field)."""
    n = next(_counter) if n is None else n
    granted = [c for i, c in enumerate(OPTIONAL) if (n >> i) & 1]
    fields: dict[str, Any] = {
        "consent_id": f"visitor-{n % 97:03d}",
        "action": ("accept_all", "reject_all", "save", "withdraw")[n % 4],
        "granted": granted,
        "refused": [c for c in OPTIONAL if c not in granted],
        "revision": 1 + n % 3,
        "policy_hash": POLICY_HASH,
        "method": ("form", "json")[n % 2],
        "page": f"/page/{n}",
        "gpc": n % 5 == 0,
        "language": ("en", "fr-FR", None)[n % 3],
        "user_agent_hash": hash_user_agent(f"Browser/{n}", "test-key"),
        "recorded_at": START + timedelta(seconds=n, microseconds=n),
    }
    fields.update(overrides)
    return Receipt.new(**fields)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty receipts database: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'receipts.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def make_store(tmp_path: Path, store_url: str) -> Iterator[Callable[..., SQLReceipts]]:
    """Factory: ``make_store(**options)`` on ``store_url`` with a spool in ``tmp_path``, quick
    retries; every store made is closed at teardown."""
    made: list[SQLReceipts] = []

    def make(**options: Any) -> SQLReceipts:
        options.setdefault("spool_path", tmp_path / "spool" / "receipts.spool")
        options.setdefault("retry_min", 0.05)
        options.setdefault("retry_max", 0.2)
        store = SQLReceipts(options.pop("url", store_url), **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close(timeout=10)


def rows(store: SQLReceipts) -> list[Receipt]:
    """What the database holds (the spool left out), oldest first."""
    with store.engine.connect() as connection:
        from consentware.receipts._sql import _receipt_from_row, receipts_table

        query = receipts_table.select().order_by(
            receipts_table.c.recorded_at, receipts_table.c.receipt_id
        )
        return [_receipt_from_row(row._mapping) for row in connection.execute(query)]


def by_id(receipts: list[Receipt]) -> dict[str, Receipt]:
    return {r.receipt_id: r for r in receipts}
