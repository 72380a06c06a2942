"""consentware audit against live sites on loopback, in headless Chromium."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from examples.demo import create_app

from consentware.audit import UsageError
from consentware.audit._browser import find_chromium
from tests.support.audit_apps import script_tracker
from tests.support.browser import CHROMIUM
from tests.support.cli import invoke
from tests.support.servers import serve_wsgi

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)")
    pytest.importorskip("playwright.async_api")
    monkeypatch.setenv("CONSENTWARE_CHROMIUM", str(CHROMIUM))


def audit(url: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = invoke("audit", url, "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_the_demo_audits_itself() -> None:
    with serve_wsgi(create_app()) as server:
        code, document = audit(server.url, "--crawl", "5")
    assert code == 0, document
    assert document["summary"] == {"cookies": 7, "violations": 0, "undeclared": 0}
    assert document["unreached_states"] == []
    assert document["pages"] == ["/", "/article"]
    assert document["audit"]["policy_source"] == "/_consent/policy?format=json"
    by_name = {c["name"]: c for c in document["cookies"]}
    # Its one documented script-set cookie, and nothing else set by a script.
    scripted = {name for name, c in by_name.items() if "script" in c["set_by"]}
    assert scripted == {"demo_layout"}
    layout = by_name["demo_layout"]
    assert layout["set_by"] == ["script"]
    assert layout["seen_in"] == ["only:first_party", "all", "gpc"]
    assert {e["source"] for e in layout["evidence"]} == {"/static/demo.js"}
    assert {e["api"] for e in layout["evidence"]} == {"document.cookie"}
    # The server's cookies arrive only with their consent.
    assert by_name["sessionid"]["seen_in"] == document["states"]
    assert by_name["_fbp"]["seen_in"] == ["only:third_party", "all"]  # GPC refuses advertising
    assert by_name["_ga"]["seen_in"] == ["only:statistical", "all", "gpc"]


def test_a_page_script_tracker_the_server_cannot_block_is_caught() -> None:
    with serve_wsgi(script_tracker) as server:
        code, document = audit(server.url, "--states", "none,reject,only:statistical,all,gpc")
    assert code == 1
    tracker = next(c for c in document["cookies"] if c["name"] == "_tracker")
    assert tracker["set_by"] == ["script"]
    assert tracker["category"] == "third_party"
    assert tracker["violations"] == ["none", "reject", "only:statistical", "gpc"]
    assert tracker["evidence"][0]["source"] == "/static/tracker.js"
    assert tracker["evidence"][0]["api"] == "document.cookie"
    # What the server sets stays consented; only the script's cookie breaks consent.
    assert [c["name"] for c in document["cookies"] if c["violations"]] == ["_tracker"]


def test_a_site_without_a_consent_route_is_audited_as_it_is() -> None:
    from tests.support.audit_apps import unguarded_wsgi

    with serve_wsgi(unguarded_wsgi) as server:
        code, document = audit(server.url + "/shop")
    assert code == 1
    assert document["pages"] == ["/shop"]
    assert {s["state"] for s in document["unreached_states"]} == set(document["states"]) - {"none"}
    assert document["summary"]["undeclared"] == document["summary"]["cookies"] == 5


class _FakeChromium:
    executable_path = "/nonexistent/playwright/chromium"


class _FakePlaywright:
    chromium = _FakeChromium()


def test_no_browser_is_a_usage_error_naming_every_place(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import consentware.audit._browser as browser

    monkeypatch.delenv("CONSENTWARE_CHROMIUM")
    monkeypatch.setattr(browser, "SYSTEM_CHROMIUM", str(tmp_path / "chromium"))
    with pytest.raises(UsageError) as caught:
        find_chromium(_FakePlaywright(), str(tmp_path / "mine"))  # type: ignore[arg-type]
    message = str(caught.value)
    for place in ("--browser-path", "$CONSENTWARE_CHROMIUM", "Playwright's Chromium", "chromium"):
        assert place in message
    monkeypatch.setenv("CONSENTWARE_CHROMIUM", str(CHROMIUM))
    assert find_chromium(_FakePlaywright(), None) == str(CHROMIUM)  # type: ignore[arg-type]
    result = invoke("audit", "http://127.0.0.1:9/", "--browser-path", str(tmp_path / "nope"))
    # An explicit path that does not exist falls back to the next place, here the env.
    assert result.exit_code in (0, 1, 2)
