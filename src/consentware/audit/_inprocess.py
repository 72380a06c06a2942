"""The in-process driver: a WSGI or ASGI app visited as a browser would, without a browser.

For each state a fresh :class:`~._jar.CookieJar` plays the browser's cookie store: every request
carries the jar's ``Cookie`` header and a browser's ``Sec-Fetch-*`` headers (``Sec-GPC: 1`` in
the ``gpc`` state), every ``Set-Cookie`` of every response (redirects included, up to 10) goes
into the jar, and each cookie stored is recorded as a :class:`~._model.Sighting`. A page's
same-origin images, scripts, stylesheets and frames are fetched with it, since they may set
cookies too; page scripts do not run (audit a URL in Chromium for those).

A state is entered through the consent route: ``POST {prefix}`` with the consent form and a
same-origin ``Origin`` and ``Sec-Fetch-Site``, exactly what the banner sends.

Example::

    run, policy = asyncio.run(audit_app(load_target("examples.wsgi_app:app"), options))
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Final
from urllib.parse import urljoin, urlsplit

from consentware import Policy

from ._consent_route import consent_form, origin_of, read_reported_granted, read_state_document
from ._crawl import Frontier, is_third_party, page_key, same_origin, shown_url
from ._jar import CookieJar
from ._links import read_page
from ._model import PageVisit, Run, Sighting, SiteConsent, StateVisit
from ._options import AuditOptions, ProgressCallback, resolve_states
from ._policy_source import policy_from_document, policy_of_app
from ._states import AuditState
from ._target import LoadedApp
from ._transport import Headers, Response, Transport, transport_for

__all__ = ["audit_app"]

MAX_REDIRECTS: Final = 10
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
USER_AGENT: Final = "consentware-audit (in process)"
_ACCEPT: Final = {
    "document": "text/html,application/xhtml+xml,*/*;q=0.8",
    "image": "image/avif,image/webp,image/*,*/*;q=0.8",
    "script": "*/*",
    "style": "text/css,*/*;q=0.1",
    "iframe": "text/html,*/*;q=0.8",
    "empty": "application/json",
}


class _Visitor:
    """One state's browser: a jar, the state's headers, and what it saw."""

    def __init__(
        self,
        transport: Transport,
        base_url: str,
        state: AuditState,
        granted: frozenset[str],
    ) -> None:
        self.transport = transport
        self.base_url = base_url
        self.state = state
        self.jar = CookieJar()
        self.visit = StateVisit(state.name, reached=True, granted=granted)

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        page: str,
        dest: str = "document",
        body: bytes = b"",
        headers: Headers | None = None,
        follow: bool = True,
    ) -> Response:
        """One request as the browser makes it, its redirects followed (when ``follow``)."""
        for _ in range(MAX_REDIRECTS + 1):
            response = await self.transport.request(
                method, url, self._headers(url, dest, headers or []), body
            )
            self._receive(response, page)
            location = response.header("Location")
            if not follow or response.status not in _REDIRECTS or not location:
                return response
            target = urljoin(url, location)
            if not same_origin(target, self.base_url):
                self.visit.pages.append(
                    PageVisit(page, target, response.status, "redirected off the site")
                )
                return response
            if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                method, body, headers = "GET", b"", None
            url = target
        raise _TooManyRedirectsError(url)

    def _headers(self, url: str, dest: str, extra: Headers) -> Headers:
        parts = urlsplit(url)
        headers: Headers = [
            ("Host", parts.netloc),
            ("User-Agent", USER_AGENT),
            ("Accept", _ACCEPT.get(dest, "*/*")),
            ("Accept-Language", "en"),
            ("Sec-Fetch-Site", "same-origin"),
            ("Sec-Fetch-Mode", "navigate" if dest in ("document", "iframe") else "no-cors"),
            ("Sec-Fetch-Dest", dest),
        ]
        if self.state.gpc:
            headers.append(("Sec-GPC", "1"))
        cookie = self.jar.cookie_header(url, now=time.time())
        if cookie:
            headers.append(("Cookie", cookie))
        return headers + list(extra)

    def _receive(self, response: Response, page: str) -> None:
        now = time.time()
        source = shown_url(response.url, self.base_url)
        for line in response.all("Set-Cookie"):
            change = self.jar.store(line, response.url, now=now)
            cookie = change.cookie
            if change.kind not in ("stored", "replaced") or cookie is None:
                continue
            self.visit.sightings.append(
                Sighting(
                    state=self.state.name,
                    page=page,
                    name=cookie.name,
                    domain=cookie.domain,
                    path=cookie.path,
                    set_by="http",
                    source=source,
                    api="set-cookie",
                    host_only=cookie.host_only,
                    secure=cookie.secure,
                    http_only=cookie.http_only,
                    same_site=cookie.same_site,
                    expires=cookie.expires,
                    third_party=is_third_party(cookie.domain, self.base_url),
                    at=now,
                    lookup_name=cookie.name or cookie.value.split("=", 1)[0].strip(" \t"),
                )
            )

    async def browse(
        self, frontier: Frontier, progress: ProgressCallback | None, planned: int
    ) -> None:
        """Visit the frontier's pages, their resources, and queue their links."""
        while (url := frontier.next()) is not None:
            key = page_key(url)
            try:
                response = await self.fetch("GET", url, page=key)
            except _TooManyRedirectsError as exc:
                self.visit.pages.append(PageVisit(key, str(exc), 0, "more than 10 redirects"))
            except Exception as exc:
                self.visit.pages.append(PageVisit(key, url, 0, f"the app raised {exc!r}"))
            else:
                self.visit.pages.append(PageVisit(key, response.url, response.status))
                await self._load_with(response, key, frontier)
            if progress is not None:
                progress(self.state.name, key, frontier.handed_out, planned)

    async def _load_with(self, response: Response, page: str, frontier: Frontier) -> None:
        content_type = (response.header("Content-Type") or "").lower()
        if "html" not in content_type:
            return
        found = read_page(response.body.decode("utf-8", "replace"), response.url)
        frontier.add(found.links)
        for url, dest in found.resources:
            if same_origin(url, self.base_url):
                try:
                    await self.fetch("GET", url, page=page, dest=dest)
                except Exception:
                    continue


class _TooManyRedirectsError(Exception):
    pass


async def _probe(transport: Transport, base_url: str, prefix: str) -> SiteConsent:
    url = urljoin(base_url, prefix)
    headers: Headers = [
        ("Host", urlsplit(url).netloc),
        ("Accept", "application/json"),
        ("User-Agent", USER_AGENT),
    ]
    try:
        response = await transport.request("GET", url, headers, b"")
    except Exception as exc:
        return SiteConsent(prefix, False, reason=f"GET {prefix} raised {exc!r}")
    return read_state_document(prefix, response.status, response.body)


async def _policy_from_route(transport: Transport, base_url: str, prefix: str) -> Policy | None:
    url = urljoin(base_url, f"{prefix}/policy?format=json")
    headers: Headers = [("Host", urlsplit(url).netloc), ("Accept", "application/json")]
    try:
        response = await transport.request("GET", url, headers, b"")
        return policy_from_document(json.loads(response.body.decode("utf-8")))
    except Exception:
        return None


async def _enter(visitor: _Visitor, prefix: str, first_page: str) -> None:
    """Post the consent form for the visitor's state; mark the state unreached on refusal."""
    state = visitor.state
    if state.action is None:
        return
    url = urljoin(visitor.base_url, prefix)
    response = await visitor.fetch(
        "POST",
        url,
        page=f"POST {prefix}",
        body=consent_form(state, first_page),
        headers=[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Origin", origin_of(visitor.base_url)),
            ("Referer", urljoin(visitor.base_url, first_page)),
        ],
        follow=False,
    )
    if response.status not in (200, 303):
        visitor.visit.reached = False
        visitor.visit.failed = True
        reason = response.body.decode("utf-8", "replace").strip()[:200]
        visitor.visit.reason = f"POST {prefix} answered {response.status}: {reason}"
        return
    check = await visitor.fetch("GET", url, page=f"GET {prefix}", dest="empty")
    visitor.visit.reported_granted = read_reported_granted(check.status, check.body)


def _granted(state: AuditState, site: SiteConsent, policy: Policy | None) -> frozenset[str]:
    optional: Sequence[str] = site.optional or (policy.optional_categories if policy else ())
    gpc_opt_out = (
        [n for n, c in policy.categories.items() if c.gpc_opt_out] if policy is not None else []
    )
    return state.granted(optional, gpc_opt_out)


async def audit_app(
    loaded: LoadedApp,
    options: AuditOptions,
    *,
    policy: Policy | None = None,
    progress: ProgressCallback | None = None,
) -> tuple[Run, Policy | None]:
    """Drive ``loaded`` through every state; the run and the policy it was judged by."""
    started = time.time()
    base_url = options.base_url.rstrip("/")
    transport = transport_for(loaded)
    run = Run(loaded.spec, loaded.kind, base_url, SiteConsent(options.consent_prefix, False))
    run.started_at = started
    run.notes.extend(await transport.start())
    try:
        run.site = site = await _probe(transport, base_url, options.consent_prefix)
        if policy is not None:
            run.policy_source = "--policy"
        else:
            policy = policy_of_app(loaded.app)
            if policy is not None:
                run.policy_source = "the app's consentware middleware"
            elif site.found:
                policy = await _policy_from_route(transport, base_url, site.prefix)
                if policy is not None:
                    run.policy_source = f"{site.prefix}/policy?format=json"
        states = resolve_states(options, site, policy)
        planned = options.page_limit * len(states)
        for state in states:
            visit = await _visit_state(transport, options, run, state, policy, progress, planned)
            run.states.append(visit)
    finally:
        await transport.close()
    run.seconds = time.time() - started
    return run, policy


async def _visit_state(
    transport: Transport,
    options: AuditOptions,
    run: Run,
    state: AuditState,
    policy: Policy | None,
    progress: ProgressCallback | None,
    planned: int,
) -> StateVisit:
    began = time.time()
    site = run.site
    if state.action is not None and not site.found:
        return StateVisit(state.name, False, f"the site serves no consent route ({site.reason})")
    visitor = _Visitor(transport, run.base_url, state, _granted(state, site, policy))
    await _enter(visitor, site.prefix, options.paths[0])
    if visitor.visit.reached:
        frontier = Frontier(
            run.base_url + "/",
            options.paths,
            limit=options.page_limit,
            follow=options.crawl is not None,
            skip_prefix=site.prefix,
        )
        await visitor.browse(frontier, progress, planned)
    visitor.visit.seconds = time.time() - began
    return visitor.visit
