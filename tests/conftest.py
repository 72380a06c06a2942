"""Shared fixtures: the shared data folder and a clean unknown-name warning memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from consentware.enforcer import unknown_names

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(autouse=True)
def _fresh_unknown_names() -> Iterator[None]:
    unknown_names.reset()
    yield
    unknown_names.reset()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder absent: {SHARED_DATA}")
    return SHARED_DATA
