"""The receipts in Django's admin: listed, searched by consent id, shown, never edited; an
unmanaged model over ``SQLReceipts``' own table, so Django needs no migration for it.

The site runs in its own process (``tests/support/receipts_admin.py``): Django's settings are
configured once per process and the other Django tests run without the admin.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from consentware.receipts._sql import TABLE_NAME, receipts_table

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    directory = tmp_path_factory.mktemp("admin")
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.receipts_admin", str(directory)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return seen


def rows(page: str) -> list[str]:
    """The rows of the admin's result table."""
    table = re.search(r'<table id="result_list">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert table is not None, "no result table"
    return re.findall(r"<tr.*?</tr>", table[1], re.S)


def test_the_model_is_the_store_s_table(site: dict[str, Any]) -> None:
    assert site["table"] == TABLE_NAME
    assert site["columns"] == [column.name for column in receipts_table.columns]
    assert site["nullable"] == [c.name for c in receipts_table.columns if c.nullable]


def test_django_needs_no_migration_for_it(site: dict[str, Any]) -> None:
    assert site["migrations_needed"] is False
    assert "No changes detected" in site["makemigrations"]


def test_the_listing_shows_every_receipt_newest_first(site: dict[str, Any]) -> None:
    assert site["stored"] == 4
    assert site["listing_status"] == 200
    listed = rows(site["listing"])
    assert len(listed) == 4
    assert all(any(i in row for i in site["consent_ids"]) for row in listed)
    # The visitor's three changes, newest first: reject_all, save, accept_all.
    actions = [re.search(r"accept_all|reject_all|save", row)[0] for row in listed]  # type: ignore[index]
    visitor = [a for a, row in zip(actions, listed, strict=True) if site["visitor_id"] in row]
    assert visitor == ["reject_all", "save", "accept_all"]


def test_a_search_by_consent_id_gives_one_visitor_s_history(site: dict[str, Any]) -> None:
    assert site["search_status"] == 200
    found = rows(site["search"])
    assert len(found) == 3
    assert all(site["visitor_id"] in row for row in found)


def test_a_receipt_is_shown_read_only(site: dict[str, Any]) -> None:
    assert site["detail_status"] == 200
    assert site["receipt_id"] in site["detail"]
    assert '<input type="text" name="consent_id"' not in site["detail"]
    assert 'name="_save"' not in site["detail"]


def test_nothing_can_be_added_changed_or_deleted(site: dict[str, Any]) -> None:
    assert site["add_status"] == 403
    assert site["change_post_status"] == 403
    assert site["delete_status"] == 403
    assert site["after"] == 4
