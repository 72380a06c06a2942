"""Shared fixtures: the shared data folder, and the throwaway PostgreSQL server of the receipts
tests (``tests/support/postgres.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.postgres import missing_server, postgres_server, postgres_url, server_bindir
from tests.support.receipts import make_store, store_url

__all__ = ["make_store", "postgres_server", "postgres_url", "store_url"]

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder absent: {SHARED_DATA}")
    return SHARED_DATA


_POSTGRES_FIXTURES = frozenset({"postgres_server", "postgres_url"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that takes a PostgreSQL fixture is a postgres test, marked or not (-m filters).
    for item in items:
        if _POSTGRES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") is not None and server_bindir() is None:
        missing_server()
