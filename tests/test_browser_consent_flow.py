"""The consent flow of the demo, in Debian's headless chromium, against the demo served for real.

Give, refuse and withdraw consent through the banner (with JavaScript and without it), under
``Sec-GPC: 1``, and from a page of another site, and check the browser's cookie jar each time.
Playwright drives ``/usr/bin/chromium`` (never ``playwright install``); skipped when absent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from examples.demo import create_app

from tests.support.browser import launch_chromium
from tests.support.cookies import deleted_names, set_names
from tests.support.servers import RunningServer, serve_wsgi

browser_test = pytest.mark.browser

NECESSARY = {"sessionid"}
CONSENT = "cookies_preferences"
STATISTICS = {"_ga", "_ga_DEMO42"}
BANNER = "[data-consentware-banner]"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as running:
        yield running


@pytest.fixture(scope="module")
def demo() -> Iterator[RunningServer]:
    with serve_wsgi(create_app()) as running:
        yield running


def attacker_page(demo_url: str) -> Any:
    """Another site's page with a form that posts "accept all" to the demo's consent route."""
    body = (
        "<!doctype html><title>win a prize</title>"
        f'<form method="post" action="{demo_url}/_consent">'
        '<input type="hidden" name="action" value="accept_all">'
        '<button type="submit" id="prize">Claim your prize</button></form>'
    ).encode()

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(
            "200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context()
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


def jar(ctx: Any) -> set[str]:
    return {cookie["name"] for cookie in ctx.cookies()}


def consent_value(ctx: Any) -> str | None:
    return next((c["value"] for c in ctx.cookies() if c["name"] == CONSENT), None)


def choose(page: Any, button: str, *, expect_hidden: bool = True) -> None:
    """Click a banner button (JavaScript on): the choice is posted with fetch, no reload."""
    with page.expect_response(
        lambda r: r.url.endswith("/_consent") and r.request.method == "POST"
    ) as posted:
        page.locator(BANNER).get_by_role("button", name=button).click()
    assert posted.value.status == 200
    if expect_hidden:
        page.locator(BANNER).wait_for(state="hidden")


@browser_test
def test_first_visit_holds_only_necessary_cookies(context: Any, demo: RunningServer) -> None:
    page = context.new_page()
    page.goto(demo.url + "/")
    page.locator(BANNER).wait_for(state="visible")
    page.wait_for_load_state("networkidle")
    assert jar(context) == NECESSARY
    page.goto(demo.url + "/article")
    assert jar(context) == NECESSARY
    assert "_ga" in page.locator("main").inner_text()  # the page did try


@browser_test
def test_reject_all_keeps_the_jar_necessary(context: Any, demo: RunningServer) -> None:
    page = context.new_page()
    page.goto(demo.url + "/")
    choose(page, "Reject all")
    assert jar(context) == NECESSARY | {CONSENT}
    page.reload()
    page.wait_for_load_state("networkidle")
    assert jar(context) == NECESSARY | {CONSENT}
    assert page.locator(BANNER).is_hidden()
    # The README's step 2: the very next page lists what the middleware blocked.
    first_blocked = page.locator("#blocked").inner_text()
    assert "_ga" in first_blocked
    assert "_fbp" in first_blocked
    # Re-opened from "Cookie settings", the banner can be closed without a new choice.
    page.get_by_role("link", name="Cookie settings").click()
    page.locator(BANNER).wait_for(state="visible")
    page.get_by_role("button", name="Close").click()
    page.locator(BANNER).wait_for(state="hidden")
    assert jar(context) == NECESSARY | {CONSENT}
    page.goto(demo.url + "/article")
    blocked = page.locator("#blocked").inner_text()  # what the reload's response lost
    assert "_ga" in blocked
    assert "_fbp" in blocked
    assert "sessionid" not in blocked


@browser_test
def test_save_statistics_then_withdraw(context: Any, demo: RunningServer) -> None:
    page = context.new_page()
    page.goto(demo.url + "/")
    page.get_by_text("Choose cookies").click()
    page.get_by_label("Statistics").check()
    choose(page, "Save choices")
    page.reload()
    page.wait_for_load_state("networkidle")
    held = jar(context)
    assert held >= STATISTICS
    assert "_fbp" not in held
    assert "demo_theme" not in held
    assert "demo_layout" not in held

    # Withdrawal: re-open the banner from "Cookie settings" and untick Statistics.
    page.get_by_role("link", name="Cookie settings").click()
    page.locator(BANNER).wait_for(state="visible")
    page.get_by_label("Statistics").uncheck()
    choose(page, "Save choices")
    assert jar(context) == NECESSARY | {CONSENT}  # the POST's response expired _ga
    page.reload()
    assert jar(context) == NECESSARY | {CONSENT}
    expired = page.locator("#expired").inner_text()  # what the withdrawal's response deleted
    assert "_ga" in expired
    assert "_ga_DEMO42" in expired


@browser_test
def test_the_same_flow_without_javascript(browser: Any, demo: RunningServer) -> None:
    ctx = browser.new_context(java_script_enabled=False)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        page.goto(demo.url + "/article")
        assert jar(ctx) == NECESSARY
        with page.expect_navigation():
            page.locator(BANNER).get_by_role("button", name="Reject all").click()
        assert page.url == demo.url + "/article"  # 303 back to the page it came from
        assert jar(ctx) == NECESSARY | {CONSENT}
        assert page.locator(BANNER).is_hidden()

        # Without JavaScript "Cookie settings" leads to the policy page and its form.
        page.get_by_role("link", name="Cookie settings").click()
        assert page.url.startswith(demo.url + "/_consent/policy")
        page.get_by_role("checkbox", name="Statistics").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Save choices").click()
        page.goto(demo.url + "/")
        held = jar(ctx)
        assert held >= STATISTICS
        assert "_fbp" not in held

        page.goto(demo.url + "/_consent/policy")
        page.get_by_role("checkbox", name="Statistics").uncheck()
        with page.expect_navigation():
            page.get_by_role("button", name="Save choices").click()
        assert jar(ctx) == NECESSARY | {CONSENT}
    finally:
        ctx.close()


@browser_test
def test_gpc_refuses_advertising_although_granted(browser: Any, demo: RunningServer) -> None:
    ctx = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        page.goto(demo.url + "/")
        choose(page, "Accept all")
        page.reload()
        page.wait_for_load_state("networkidle")
        held = jar(ctx)
        assert held >= STATISTICS
        assert "demo_theme" in held
        assert "_fbp" not in held
        assert "advertising is refused" in page.locator("main").inner_text()
    finally:
        ctx.close()


@browser_test
def test_cross_site_form_post_changes_nothing(context: Any, demo: RunningServer) -> None:
    page = context.new_page()
    page.goto(demo.url + "/")
    choose(page, "Reject all")
    before = consent_value(context)
    assert before is not None
    with serve_wsgi(attacker_page(demo.url)) as attacker:
        # localhost and 127.0.0.1 are different sites to the browser.
        page.goto(f"http://localhost:{attacker.port}/")
        with page.expect_navigation() as navigation:
            page.click("#prize")
        response = navigation.value
        assert response is not None
        assert response.status == 403
    assert consent_value(context) == before
    page.goto(demo.url + "/")
    page.wait_for_load_state("networkidle")
    assert jar(context) == NECESSARY | {CONSENT}


# -- the demo over HTTP, without a browser (runs where chromium is absent too) -------------------


def test_demo_over_http_lets_out_only_what_was_consented() -> None:
    import httpx

    with httpx.Client(
        transport=httpx.WSGITransport(app=create_app()), base_url="http://127.0.0.1:8000"
    ) as client:
        first = client.get("/")
        assert first.status_code == 200
        assert set_names(first.headers.get_list("set-cookie")) == {"sessionid"}
        assert deleted_names(first.headers.get_list("set-cookie")) == {
            "_ga",
            "_ga_DEMO42",
            "demo_theme",
            "_fbp",
        }
        assert "not yet" in first.text
        assert "data-consentware-banner" in first.text
        assert "Content-Security-Policy" in first.headers
        saved = client.post(
            "/_consent",
            data={"action": "save", "category": "statistical", "next": "/article"},
            headers={"Origin": "http://127.0.0.1:8000"},
        )
        assert saved.status_code == 303
        assert saved.headers["location"] == "/article"
        second = client.get("/article")
        names = set_names(second.headers.get_list("set-cookie"))
        assert names == {"sessionid", "_ga", "_ga_DEMO42"}
        withdrawn = client.post(
            "/_consent",
            data={"action": "reject_all"},
            headers={"Origin": "http://127.0.0.1:8000"},
        )
        expired = {c.split("=", 1)[0] for c in withdrawn.headers.get_list("set-cookie")}
        assert expired == {CONSENT, "_ga", "_ga_DEMO42"}
        third = client.get("/")
        assert 'id="expired"><code>_ga</code>, <code>_ga_DEMO42</code>' in third.text


def test_demo_visitor_memory_is_bounded() -> None:
    from examples.demo.app import VisitorMemory

    from consentware import Report

    memory = VisitorMemory(limit=3)
    for visitor in ["a", "b", "c", "d"]:
        memory.start(visitor)
        memory.remember(Report(blocked=(visitor,)))
    assert len(memory) == 3
    assert memory.last("a") is None
    assert memory.last("d") == Report(blocked=("d",))
    memory.start(None)
    memory.remember(Report(blocked=("ignored",)))
    assert memory.last("d") == Report(blocked=("d",))


@browser_test
def test_the_banner_works_from_the_keyboard_alone(context: Any, demo: RunningServer) -> None:
    page = context.new_page()
    page.goto(demo.url + "/")
    banner = page.locator(BANNER)
    banner.wait_for(state="visible")
    # Focus and keys only, no clicks: a control that is not focusable or ignores its keys
    # leaves the box unticked (it stays hidden in the closed disclosure) and nothing posted.
    banner.get_by_text("Choose cookies").focus()
    page.keyboard.press("Enter")  # opens the per-category choices
    statistics = banner.get_by_label("Statistics")
    statistics.focus()
    page.keyboard.press("Space")
    assert statistics.is_checked()
    banner.get_by_role("button", name="Save choices").focus()
    with page.expect_response(
        lambda r: r.url.endswith("/_consent") and r.request.method == "POST"
    ) as posted:
        page.keyboard.press("Enter")
    assert posted.value.status == 200
    banner.wait_for(state="hidden")
    page.reload()
    page.wait_for_load_state("networkidle")
    held = jar(context)
    assert held >= STATISTICS
    assert "_fbp" not in held
