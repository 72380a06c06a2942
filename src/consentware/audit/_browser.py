"""The browser driver: a live site in headless Chromium, page scripts and all.

One Chromium, a fresh context (an empty profile) per state, a few states at once. In each
context the audit records two kinds of evidence while it loads the pages:

- every response's ``Set-Cookie`` lines (redirects, subresources and fetches included), with
  the response's URL;
- every cookie write by a page script: an init script wraps ``document.cookie``'s setter and
  ``cookieStore.set``, and reports the write with the first script URL on the call stack
  (the page's own URL for an inline script).

After each page (``load``, then the network quiet or a few seconds) the context's jar is
read; each new or changed cookie is explained by the latest matching ``Set-Cookie`` line,
else by the latest matching script write, else it is recorded as set by a page script that
nothing explains (``api = "unexplained"``). States are entered as a visitor's banner does: a
same-origin ``fetch`` that posts the consent form from a page of the site, so the browser
itself sends ``Origin`` and ``Sec-Fetch-Site`` and stores the answer's cookies.

The browser is ``--browser-path``, else ``$CONSENTWARE_CHROMIUM``, else Playwright's own
Chromium, else ``/usr/bin/chromium``.

Example::

    run, policy = asyncio.run(audit_site(AuditOptions(target="http://127.0.0.1:8000")))
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urljoin, urlsplit

from consentware import Policy

from ._consent_route import consent_form, read_reported_granted, read_state_document
from ._crawl import Frontier, is_third_party, page_key, shown_url
from ._errors import UsageError
from ._jar import CookieJar, parse_set_cookie
from ._model import PageVisit, Run, Sighting, SiteConsent, StateVisit
from ._options import AuditOptions, ProgressCallback, resolve_states
from ._policy_source import policy_from_document
from ._states import AuditState

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, Playwright, Response

__all__ = ["audit_site", "find_chromium"]

ENVIRONMENT: Final = "CONSENTWARE_CHROMIUM"
SYSTEM_CHROMIUM: Final = "/usr/bin/chromium"
BINDING: Final = "__consentwareCookieWrite"
#: Quiet network after ``load`` that ends a page; a page that never quiets gets this long.
SETTLE_TIMEOUT_MS: Final = 4000
NAVIGATION_TIMEOUT_MS: Final = 30000
#: Headless, and quiet: no background calls to hosts the audit did not ask for.
CHROMIUM_ARGS: Final = (
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-default-apps",
)
_ENTER_JS: Final = """async ({url, body}) => {
  const r = await fetch(url, {method: "POST", body, credentials: "same-origin",
    redirect: "manual", headers: {"Content-Type": "application/x-www-form-urlencoded"}});
  let text = "";
  try { text = await r.text(); } catch (e) {}
  return {type: r.type, status: r.status, text: text.slice(0, 200)};
}"""
_STATE_JS: Final = """async (url) => {
  const r = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
  return {status: r.status, text: await r.text()};
}"""
_GPC_JS: Final = (
    "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', "
    "{get: () => true, configurable: true});"
)
_LINKS_JS: Final = "els => els.map(e => e.href).filter(h => typeof h === 'string')"


def find_chromium(playwright: Playwright, explicit: str | None) -> str:
    """The Chromium to drive; a :class:`UsageError` naming every place looked in."""
    looked: list[str] = []
    if explicit:
        if Path(explicit).is_file():
            return explicit
        looked.append(f"--browser-path {explicit} (no such file)")
    from_env = os.environ.get(ENVIRONMENT)
    if from_env and from_env != explicit:
        if Path(from_env).is_file():
            return from_env
        looked.append(f"${ENVIRONMENT}={from_env} (no such file)")
    elif not from_env:
        looked.append(f"${ENVIRONMENT} (unset)")
    try:
        bundled = playwright.chromium.executable_path
    except Exception:
        bundled = ""
    if bundled and Path(bundled).is_file():
        return bundled
    looked.append(f"Playwright's Chromium ({bundled or 'not installed'}; playwright install)")
    if Path(SYSTEM_CHROMIUM).is_file():
        return SYSTEM_CHROMIUM
    looked.append(f"{SYSTEM_CHROMIUM} (absent; apt-get install chromium)")
    raise UsageError("no Chromium to drive; looked at: " + "; ".join(looked))


# Not slotted: Playwright marks the callbacks it is given (on_write, on_response).
@dataclass
class _Collector:
    """One state's evidence, gathered as events arrive and read after each page."""

    state: AuditState
    base_url: str
    visit: StateVisit
    lines: list[tuple[float, str, str]] = field(default_factory=list)  # (at, url, line)
    # (at, api, script URL, value, the writing frame's URL)
    writes: list[tuple[float, str, str, str, str]] = field(default_factory=list)
    pending: set[asyncio.Task[None]] = field(default_factory=set)
    known: dict[tuple[str, str, str], tuple[str, float]] = field(default_factory=dict)

    def on_response(self, response: Response) -> None:
        task = asyncio.ensure_future(self._read_headers(response))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _read_headers(self, response: Response) -> None:
        try:
            headers = await response.headers_array()
        except Exception:
            return
        at = time.time()
        for header in headers:
            if header["name"].lower() == "set-cookie":
                # Chromium joins repeated lines with a newline in some views: split them.
                for line in header["value"].split("\n"):
                    self.lines.append((at, response.url, line))

    def on_write(self, source: Any, record: Any) -> None:
        if not isinstance(record, dict):
            return
        stack = [u for u in record.get("stack") or () if isinstance(u, str)]
        script = stack[0] if stack else ""
        try:
            frame_url = str(source["frame"].url)
        except Exception:
            frame_url = self.base_url + "/"
        api, value = str(record.get("api", "")), str(record.get("value", ""))
        self.writes.append((time.time(), api, script, value, frame_url))

    async def settle(self, context: BrowserContext, page: str) -> None:
        """Read the jar and explain each new or changed cookie."""
        if self.pending:
            await asyncio.gather(*list(self.pending), return_exceptions=True)
        now = time.time()
        jar = await context.cookies()
        for cookie in jar:
            key = (cookie["name"], cookie["domain"], cookie["path"])
            fingerprint = (cookie["value"], float(cookie["expires"]))
            if self.known.get(key) == fingerprint:
                continue
            self.known[key] = fingerprint
            self.visit.sightings.append(self._explain(cookie, page, now))
        held = {(c["name"], c["value"]) for c in jar}
        self.visit.sightings.extend(self._transient(held, page, now))
        self.lines.clear()
        self.writes.clear()

    def _transient(self, held: set[tuple[str, str]], page: str, now: float) -> list[Sighting]:
        """Cookies stored and gone again between two reads of the jar.

        A page script's cookie that the next response deletes (consentware expires a held
        cookie nobody consented to) lives for a moment only, yet it was stored: each write or
        line the jar model would store, and that the jar no longer shows, counts.
        """
        events = [(url, line, True, "set-cookie", url) for _, url, line in self.lines]
        events += [
            (frame, value, False, api, script) for _, api, script, value, frame in self.writes
        ]
        found: list[Sighting] = []
        seen: set[tuple[str, str]] = set()
        for url, line, from_http, api, source in events:
            change = CookieJar().store(line, url, now=now, from_http=from_http)
            cookie = change.cookie
            if change.kind != "stored" or cookie is None:
                continue
            pair = (cookie.name, cookie.value)
            if pair in held or pair in seen:
                continue
            seen.add(pair)
            found.append(
                Sighting(
                    state=self.state.name,
                    page=page,
                    name=cookie.name,
                    domain=cookie.domain,
                    path=cookie.path,
                    set_by="http" if from_http else "script",
                    source=shown_url(source, self.base_url) if source else "",
                    api=api or "document.cookie",
                    host_only=cookie.host_only,
                    secure=cookie.secure,
                    http_only=cookie.http_only,
                    same_site=cookie.same_site,
                    expires=cookie.expires,
                    third_party=is_third_party(cookie.domain, self.base_url),
                    at=now,
                    lookup_name=cookie.name or cookie.value.split("=", 1)[0].strip(" \t"),
                    transient=True,
                )
            )
        return found

    def _explain(self, cookie: Any, page: str, now: float) -> Sighting:
        name, value = cookie["name"], cookie["value"]
        domain = str(cookie["domain"]).lstrip(".")
        set_by, api, source = "script", "unexplained", ""
        for _, url, line in reversed(self.lines):
            parsed = parse_set_cookie(line)
            if parsed is not None and parsed[:2] == (name, value):
                set_by, api, source = "http", "set-cookie", shown_url(url, self.base_url)
                break
        else:
            for _, write_api, script, written, _frame in reversed(self.writes):
                parsed = parse_set_cookie(written)
                if parsed is not None and parsed[0] == name:
                    set_by, api = "script", write_api or "document.cookie"
                    source = shown_url(script, self.base_url) if script else ""
                    break
        expires = float(cookie["expires"])
        return Sighting(
            state=self.state.name,
            page=page,
            name=name,
            domain=domain,
            path=cookie["path"],
            set_by="http" if set_by == "http" else "script",
            source=source,
            api=api,
            host_only=not str(cookie["domain"]).startswith("."),
            secure=bool(cookie.get("secure")),
            http_only=bool(cookie.get("httpOnly")),
            same_site=str(cookie.get("sameSite", "default")).lower(),
            expires=None if expires < 0 else expires,
            third_party=is_third_party(domain, self.base_url),
            at=now,
            lookup_name=name or value.split("=", 1)[0].strip(" \t"),
        )


def _instrumentation() -> str:
    return resources.files(__package__).joinpath("_instrument.js").read_text("utf-8")


async def _probe(browser: Browser, base_url: str, prefix: str) -> tuple[SiteConsent, Any]:
    """The consent route's answer, and the policy page's JSON (or ``None``)."""
    context = await browser.new_context(ignore_https_errors=True)
    try:
        url = urljoin(base_url, prefix)
        try:
            answer = await context.request.get(url, headers={"Accept": "application/json"})
            site = read_state_document(prefix, answer.status, await answer.body())
        except Exception as exc:
            return SiteConsent(prefix, False, reason=f"GET {prefix} failed: {exc}"), None
        if not site.found:
            return site, None
        try:
            page = await context.request.get(f"{url}/policy?format=json")
            document = json.loads(await page.body()) if page.status == 200 else None
        except Exception:
            document = None
        return site, document
    finally:
        await context.close()


async def _enter(page: Page, collector: _Collector, base_url: str, prefix: str) -> bool:
    state = collector.state
    await page.goto(urljoin(base_url, prefix), timeout=NAVIGATION_TIMEOUT_MS)
    body = consent_form(state, "/").decode("ascii")
    answer = await page.evaluate(_ENTER_JS, {"url": prefix, "body": body})
    await collector.settle(page.context, f"POST {prefix}")
    if answer["type"] != "opaqueredirect" and answer["status"] not in (200, 303):
        collector.visit.reached = False
        collector.visit.failed = True
        collector.visit.reason = f"POST {prefix} answered {answer['status']}: {answer['text']}"
        return False
    reported = await page.evaluate(_STATE_JS, prefix)
    collector.visit.reported_granted = read_reported_granted(
        reported["status"], reported["text"].encode()
    )
    await collector.settle(page.context, f"GET {prefix}")
    return True


async def _browse(
    page: Page,
    collector: _Collector,
    frontier: Frontier,
    progress: ProgressCallback | None,
    planned: int,
) -> None:
    while (url := frontier.next()) is not None:
        key = page_key(url)
        try:
            response = await page.goto(url, timeout=NAVIGATION_TIMEOUT_MS)
            with contextlib.suppress(Exception):
                await page.wait_for_load_state("networkidle", timeout=SETTLE_TIMEOUT_MS)
            status = response.status if response is not None else 0
            collector.visit.pages.append(PageVisit(key, page.url, status))
            links = await page.eval_on_selector_all("a[href], area[href]", _LINKS_JS)
            frontier.add(str(link) for link in links)
        except Exception as exc:
            collector.visit.pages.append(PageVisit(key, url, 0, str(exc).splitlines()[0]))
        await collector.settle(page.context, key)
        if progress is not None:
            progress(collector.state.name, key, frontier.handed_out, planned)


async def _visit_state(
    browser: Browser,
    options: AuditOptions,
    run: Run,
    state: AuditState,
    granted: frozenset[str],
    progress: ProgressCallback | None,
    planned: int,
) -> StateVisit:
    began = time.time()
    site = run.site
    if state.action is not None and not site.found:
        return StateVisit(state.name, False, f"the site serves no consent route ({site.reason})")
    visit = StateVisit(state.name, True, granted=granted)
    collector = _Collector(state, run.base_url, visit)
    context = await browser.new_context(
        ignore_https_errors=True,
        extra_http_headers={"Sec-GPC": "1"} if state.gpc else None,
    )
    try:
        await context.expose_binding(BINDING, collector.on_write)
        await context.add_init_script(_instrumentation())
        if state.gpc:
            await context.add_init_script(_GPC_JS)
        context.on("response", collector.on_response)
        page = await context.new_page()
        if state.action is None or await _enter(page, collector, run.base_url, site.prefix):
            frontier = Frontier(
                run.base_url + "/",
                options.paths,
                limit=options.page_limit,
                follow=options.crawl is not None,
                skip_prefix=site.prefix,
            )
            await _browse(page, collector, frontier, progress, planned)
    except Exception as exc:
        visit.reached = False
        visit.failed = True
        visit.reason = f"the browser failed: {str(exc).splitlines()[0]}"
    finally:
        await context.close()
    visit.seconds = time.time() - began
    return visit


def _granted(state: AuditState, site: SiteConsent, policy: Policy | None) -> frozenset[str]:
    optional: Sequence[str] = site.optional or (policy.optional_categories if policy else ())
    gpc_opt_out = (
        [n for n, c in policy.categories.items() if c.gpc_opt_out] if policy is not None else []
    )
    return state.granted(optional, gpc_opt_out)


async def audit_site(
    options: AuditOptions,
    *,
    policy: Policy | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[Run, Policy | None]:
    """Drive the site at ``options.target`` through every state in headless Chromium."""
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        raise UsageError(
            "auditing a URL needs Playwright: pip install 'consentware[audit]' "
            "(or audit the app in process: consentware audit module:attribute)"
        ) from None
    started = time.time()
    parts = urlsplit(options.target)
    base_url = f"{parts.scheme}://{parts.netloc}"
    paths = options.paths
    if parts.path not in ("", "/") and paths == ("/",):
        paths = (parts.path + (f"?{parts.query}" if parts.query else ""),)
    options = _with_paths(options, paths)
    run = Run(options.target, "chromium", base_url, SiteConsent(options.consent_prefix, False))
    run.started_at = started
    async with async_playwright() as playwright:
        executable = find_chromium(playwright, options.browser_path)
        args = list(CHROMIUM_ARGS)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--no-sandbox")  # Chromium refuses to sandbox itself as root
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=args
        )
        try:
            run.browser = f"Chromium {browser.version}"
            run.site, document = await _probe(browser, base_url, options.consent_prefix)
            if policy is None and document is not None:
                policy = policy_from_document(document)
                if policy is not None:
                    run.policy_source = f"{run.site.prefix}/policy?format=json"
            states = resolve_states(options, run.site, policy)
            planned = options.page_limit * len(states)
            gate = asyncio.Semaphore(options.parallel)

            async def one(state: AuditState) -> StateVisit:
                async with gate:
                    granted = _granted(state, run.site, policy)
                    return await _visit_state(
                        browser, options, run, state, granted, progress, planned
                    )

            run.states = list(await asyncio.gather(*(one(s) for s in states)))
        finally:
            await browser.close()
    run.seconds = time.time() - started
    return run, policy


def _with_paths(options: AuditOptions, paths: tuple[str, ...]) -> AuditOptions:
    from dataclasses import replace

    return replace(options, paths=paths)
