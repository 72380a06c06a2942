"""Accessibility in Chromium: axe-core (WCAG 2.0, 2.1 and 2.2 A and AA, and best practices) finds
nothing on the demo with the banner collapsed and expanded, on a re-opened banner and on the
policy page, in every shipped language; and a keyboard alone reaches the banner first, accepts,
rejects, chooses and withdraws, Escape closes what it opened and gives the focus back, the focus
is always visible and never hidden under the banner.

axe-core comes from npm (``package.json``; ``.ci/run`` runs ``npm ci``, and the fixture runs it
when ``node_modules/`` lacks it). Skipped only where Chromium, Playwright or npm are absent. One
browser serves every test of the module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from examples.demo import create_app

from consentware.web.texts import SHIPPED_LANGUAGES, shipped_words
from tests.support.browser import launch_chromium
from tests.support.servers import RunningServer, serve_wsgi

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: What axe-core checks: every WCAG 2.x A and AA rule, up to 2.2, and its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BANNER = "[data-consentware-banner]"
TIMEOUT_MS = 10_000
NECESSARY_ONLY = {"sessionid", "cookies_preferences"}


def axe_source() -> str:
    """axe-core's script, installed by npm into the project's own ``node_modules/``."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is absent (apt-get install npm): axe-core cannot be installed")
        command = [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not AXE.exists():
            pytest.fail(f"npm ci could not install axe-core:\n{done.stdout}\n{done.stderr}")
    return AXE.read_text("utf-8")


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium() as running:
        yield running


@pytest.fixture(scope="module")
def demo() -> Iterator[RunningServer]:
    with serve_wsgi(create_app()) as running:
        yield running


def open_context(browser: Any, axe: str, language: str, **options: Any) -> Any:
    """A fresh visitor whose browser asks for ``language``, with axe-core loaded in every page
    (as an init script: the demo's Content-Security-Policy refuses inline scripts)."""
    context = browser.new_context(
        extra_http_headers={"Accept-Language": f"{language},en;q=0.5"}, **options
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(script=axe)
    return context


def violations(page: Any) -> list[str]:
    """axe-core's violations on the page as it is now, one line each (empty: none)."""
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    assert result["passes"], "axe-core checked nothing"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + json.dumps([node["target"] for node in v["nodes"]][:5])
        for v in result["violations"]
    ]


def words(language: str) -> Any:
    return shipped_words()[language]


def loaded(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")


VIEWS = ["banner-collapsed", "banner-expanded", "banner-reopened", "policy-page"]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_axe_finds_nothing(
    browser: Any, axe: str, demo: RunningServer, language: str, view: str
) -> None:
    context = open_context(browser, axe, language)
    try:
        page = context.new_page()
        banner = page.locator(BANNER)
        if view == "policy-page":
            loaded(page, demo.url + "/_consent/policy")
            assert page.locator("html").get_attribute("lang") == language
        else:
            loaded(page, demo.url + "/")
            assert banner.get_attribute("lang") == language
            if view == "banner-expanded":
                banner.locator("summary").click()
                banner.get_by_role("button", name=words(language)["banner.save"]).wait_for()
            elif view == "banner-reopened":
                banner.get_by_role("button", name=words(language)["banner.reject_all"]).click()
                banner.wait_for(state="hidden")
                page.reload()
                page.wait_for_load_state("networkidle")
                page.get_by_role("link", name="Cookie settings").click()
                banner.get_by_role("button", name=words(language)["banner.close"]).wait_for()
            else:
                banner.wait_for(state="visible")
        # The entry animation must be over: axe judges colours as they are drawn.
        page.wait_for_timeout(250)
        assert violations(page) == []
    finally:
        context.close()


def test_axe_finds_nothing_in_the_dark_scheme(browser: Any, axe: str, demo: RunningServer) -> None:
    context = open_context(browser, axe, "en", color_scheme="dark")
    try:
        page = context.new_page()
        loaded(page, demo.url + "/")
        page.locator(BANNER).locator("summary").click()
        page.wait_for_timeout(250)
        assert violations(page) == []
        loaded(page, demo.url + "/_consent/policy")
        assert violations(page) == []
    finally:
        context.close()


# -- the keyboard alone -------------------------------------------------------------------------


@pytest.fixture
def visitor(browser: Any, axe: str) -> Iterator[Any]:
    context = open_context(browser, axe, "fr")
    try:
        yield context
    finally:
        context.close()


def focused(page: Any) -> dict[str, Any]:
    """What has the focus: its tag, text, label, and whether it is in the banner."""
    return dict(
        page.evaluate(
            """() => {
              const e = document.activeElement;
              return {
                tag: e.tagName.toLowerCase(),
                text: (e.innerText || e.value || "").trim(),
                label: e.getAttribute("aria-label") || (e.labels && e.labels[0]
                  ? e.labels[0].innerText.trim() : ""),
                inBanner: !!e.closest("[data-consentware-banner]"),
              };
            }"""
        )
    )


def tab_to(page: Any, text: str, *, limit: int = 40) -> None:
    """Press Tab until the focus is on the control whose text or label starts with ``text``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["text"].startswith(text) or now["label"].startswith(text):
            return
    raise AssertionError(f"Tab never reached {text!r}")


def jar(context: Any) -> set[str]:
    return {cookie["name"] for cookie in context.cookies()}


def posted(page: Any) -> Any:
    return page.expect_response(
        lambda r: r.url.endswith("/_consent") and r.request.method == "POST"
    )


def test_the_banner_is_the_first_stop_of_the_keyboard(visitor: Any, demo: RunningServer) -> None:
    page = visitor.new_page()
    loaded(page, demo.url + "/")
    page.keyboard.press("Tab")
    first = focused(page)
    assert first["inBanner"], first
    assert first["text"] == words("fr")["banner.policy_link"]
    page.keyboard.press("Tab")
    assert focused(page)["text"] == words("fr")["banner.accept_all"]


@pytest.mark.parametrize(
    ("action", "key", "granted"),
    [
        pytest.param("banner.accept_all", "Enter", True, id="accept-with-enter"),
        pytest.param("banner.reject_all", "Space", False, id="reject-with-space"),
    ],
)
def test_accept_or_reject_from_the_keyboard(
    visitor: Any, demo: RunningServer, action: str, key: str, granted: bool
) -> None:
    page = visitor.new_page()
    loaded(page, demo.url + "/")
    tab_to(page, words("fr")[action])
    with posted(page) as answer:
        page.keyboard.press(key)
    assert answer.value.status == 200
    page.locator(BANNER).wait_for(state="hidden")
    # Said in a live region that outlives the banner (WCAG 4.1.3, status messages).
    status = page.locator("[data-consentware-status]")
    status.filter(has_text=words("fr")["banner.saved"]).wait_for(state="attached")
    assert page.locator(BANNER).locator("[data-consentware-status]").count() == 0
    loaded(page, demo.url + "/")
    held = jar(visitor)
    assert ("_ga" in held) is granted
    assert ("_fbp" in held) is granted
    assert held >= NECESSARY_ONLY


def test_choose_then_withdraw_from_the_keyboard(visitor: Any, demo: RunningServer) -> None:
    fr = words("fr")
    page = visitor.new_page()
    loaded(page, demo.url + "/")
    tab_to(page, fr["banner.choose"])
    page.keyboard.press("Enter")  # opens the disclosure
    tab_to(page, "Statistiques")
    page.keyboard.press("Space")
    assert page.locator("#consentware-statistical").is_checked()
    tab_to(page, fr["banner.save"])
    with posted(page):
        page.keyboard.press("Enter")
    page.locator(BANNER).wait_for(state="hidden")
    loaded(page, demo.url + "/")
    assert "_ga" in jar(visitor)
    assert "_fbp" not in jar(visitor)

    # Withdrawal: "Cookie settings" re-opens the banner with the focus in it.
    tab_to(page, "Cookie settings")
    page.keyboard.press("Enter")
    page.locator(BANNER).wait_for(state="visible")
    assert focused(page)["inBanner"]
    tab_to(page, fr["banner.reject_all"])
    with posted(page) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    page.locator(BANNER).wait_for(state="hidden")
    assert "_ga" not in jar(visitor)  # the withdrawal's response expired it
    # The focus goes back to what opened the banner.
    assert focused(page)["text"] == "Cookie settings"


def test_escape_closes_the_disclosure_then_the_reopened_banner(
    visitor: Any, demo: RunningServer
) -> None:
    fr = words("fr")
    page = visitor.new_page()
    loaded(page, demo.url + "/")
    details = page.locator(BANNER).locator("details")
    tab_to(page, fr["banner.choose"])
    page.keyboard.press("Enter")
    tab_to(page, "Statistiques")
    page.keyboard.press("Escape")
    assert details.get_attribute("open") is None
    assert focused(page)["text"] == fr["banner.choose"]
    # A first-visit banner stays: a choice is still owed, and Escape is not one.
    page.keyboard.press("Escape")
    assert page.locator(BANNER).is_visible()

    tab_to(page, fr["banner.reject_all"])
    with posted(page):
        page.keyboard.press("Enter")
    page.locator(BANNER).wait_for(state="hidden")
    loaded(page, demo.url + "/")
    tab_to(page, "Change my choice")
    page.keyboard.press("Enter")
    page.locator(BANNER).wait_for(state="visible")
    assert details.get_attribute("open") is not None
    page.keyboard.press("Escape")  # the focus is on Accept all, outside the disclosure
    page.locator(BANNER).wait_for(state="hidden")
    assert focused(page)["text"] == "Change my choice"


FOCUS_RING = """() => {
  const e = document.activeElement;
  const style = getComputedStyle(e);
  return {width: parseFloat(style.outlineWidth), style: style.outlineStyle};
}"""

COVERED = """() => {
  const e = document.activeElement;
  const banner = document.querySelector("[data-consentware-banner]");
  if (!banner || banner.hidden || banner.contains(e)) { return null; }
  const r = e.getBoundingClientRect();
  const b = banner.getBoundingClientRect();
  const w = Math.max(0, Math.min(r.right, b.right) - Math.max(r.left, b.left));
  const h = Math.max(0, Math.min(r.bottom, b.bottom) - Math.max(r.top, b.top));
  const inView = Math.max(0, Math.min(r.bottom, innerHeight) - Math.max(r.top, 0));
  return {area: r.width * r.height, covered: w * h, visibleHeight: inView,
          text: (e.innerText || e.tagName).trim().slice(0, 40)};
}"""


@pytest.mark.parametrize("expanded", [False, True], ids=["collapsed", "expanded"])
def test_focus_is_visible_and_never_hidden_under_the_banner(
    visitor: Any, demo: RunningServer, expanded: bool
) -> None:
    page = visitor.new_page()
    page.set_viewport_size({"width": 1024, "height": 640})
    loaded(page, demo.url + "/")
    if expanded:
        tab_to(page, words("fr")["banner.choose"])
        page.keyboard.press("Enter")
        page.mouse.click(5, 5)  # the focus leaves; the next Tab starts at the top again
    seen = 0
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement === document.body"):
            break
        ring = page.evaluate(FOCUS_RING)
        assert ring["style"] != "none", focused(page)
        assert ring["width"] >= 2, focused(page)
        place = page.evaluate(COVERED)
        if place is None:
            continue
        seen += 1
        # WCAG 2.4.11 (and 2.4.12): the focused control is in view and no part of it is
        # behind the banner.
        assert place["covered"] == 0, place
        assert place["visibleHeight"] > 0, place
    assert seen >= 5  # the page's own links and buttons were reached
