"""Datasette behind consentware's ASGI middleware, under uvicorn: its POST forms keep working.

Datasette (through asgi-csrf) checks a POST form's ``csrftoken`` against its ``ds_csrftoken``
cookie whenever the request carries any cookie, so once a visitor has chosen (the consent
cookie is then sent) a blocked ``ds_csrftoken`` makes every form answer ``403``. Its flash
messages travel in ``ds_messages``.

consentware has no ``datasette`` preset yet, so this policy declares Datasette's cookies itself,
as a site would: ``ds_csrftoken``, ``ds_messages`` and ``ds_actor`` (the signed-in actor) are
necessary.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from consentware import Policy, Report
from consentware.asgi import ConsentMiddleware
from tests.support.cookies import deleted_names, set_names
from tests.support.servers import RunningServer, serve_asgi

datasette_app = pytest.importorskip("datasette.app")

pytestmark = pytest.mark.e2e

POLICY = Policy.from_dict(
    {
        "categories": {"statistical": {"title": "Statistics"}},
        "cookies": [
            {"name": "ds_csrftoken", "category": "necessary", "provider": "Datasette"},
            {"name": "ds_messages", "category": "necessary", "provider": "Datasette"},
            {"name": "ds_actor", "category": "necessary", "provider": "Datasette"},
        ],
    }
)
FORM = "/data/add_name"
TIMEOUT = httpx.Timeout(10.0)
REPORTS: list[Report] = []


@pytest.fixture(scope="module")
def datasette(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Path]]:
    """A database with a writable canned query (a POST form) served by Datasette."""
    database = tmp_path_factory.mktemp("datasette") / "data.db"
    with sqlite3.connect(database) as connection:
        connection.execute("create table names (name text)")
    queries = {"add_name": {"sql": "insert into names (name) values (:name)", "write": True}}
    ds = datasette_app.Datasette(
        [str(database)], metadata={"databases": {"data": {"queries": queries}}}
    )
    app = ConsentMiddleware(ds.app(), policy=POLICY, on_report=REPORTS.append)
    with serve_asgi(app) as server:
        yield server, database


def post_the_form(client: httpx.Client, name: str) -> httpx.Response:
    """GET the form (its token, and ``ds_csrftoken``), POST it, follow to the message."""
    page = client.get(FORM)
    assert page.status_code == 200
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert token is not None, page.text[:500]
    posted = client.post(FORM, data={"name": name, "csrftoken": token[1]})
    assert posted.status_code == 302, (posted.status_code, posted.text[:300])
    lines = posted.headers.get_list("set-cookie")
    assert "ds_messages" in set_names(lines), lines
    return client.get(posted.headers["location"])


def names_in(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("select name from names order by rowid")]


@pytest.mark.parametrize("choice", [None, "accept_all", "reject_all"])
def test_post_forms_work_before_and_after_the_visitor_chooses(
    datasette: tuple[RunningServer, Path], choice: str | None
) -> None:
    server, database = datasette
    name = f"visitor-{choice}"
    REPORTS.clear()
    with httpx.Client(base_url=server.url, timeout=TIMEOUT) as client:
        if choice is not None:
            chosen = client.post("/_consent", data={"action": choice})
            assert chosen.status_code == 303
            assert "cookies_preferences" in client.cookies
        form = client.get(FORM)
        lines = form.headers.get_list("set-cookie")
        assert "ds_csrftoken" in set_names(lines), lines
        assert not deleted_names(lines), lines
        shown = post_the_form(client, name)
    assert "Query executed, 1 row affected" in shown.text
    assert name in names_in(database)
    assert not any(report.blocked for report in REPORTS), [r.blocked for r in REPORTS]
