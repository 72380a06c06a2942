"""The demo shop: a plain WSGI app, unaware of consent, wrapped in consentware's middleware.

The pages set every cookie they like; the middleware decides which leave. Around the
middleware a thin layer remembers, per visitor (keyed by the session cookie, bounded), the
:class:`~consentware.Report` of the visitor's last response, so the next page can show what
was blocked and expired.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from werkzeug.wrappers import Request, Response

from consentware import ConsentState, Policy, Report, banner_html, get_consent
from consentware.wsgi import ConsentMiddleware

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

HERE = Path(__file__).resolve().parent
POLICY = Policy.from_toml(HERE / "cookies.toml")
STATIC = {
    "/static/demo.css": ("text/css; charset=utf-8", (HERE / "static" / "demo.css").read_bytes()),
    "/static/demo.js": (
        "text/javascript; charset=utf-8",
        (HERE / "static" / "demo.js").read_bytes(),
    ),
}
# The banner and the pages work under a strict policy: no inline script or style anywhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SESSION_COOKIE = "sessionid"
MEMORY_LIMIT = 1024
PAGES = {
    "/": ("Welcome to the demo shop", "Home"),
    "/article": ("How we roast our coffee", "Article"),
}
YEAR = 365 * 86400


class VisitorMemory:
    """Per visitor, the report of their last page and of a consent change since, at most
    ``limit`` visitors (the oldest forgotten first).

    A page shows what the middleware blocked on the visitor's previous page, and what it
    expired since then: on that page, or in the answer to a consent change made from it
    (without a reload, by the banner's script).
    """

    def __init__(self, limit: int = MEMORY_LIMIT) -> None:
        self._reports: OrderedDict[str, tuple[Report | None, Report | None]] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()
        self._current = threading.local()

    def start(self, visitor: str | None, *, consent_change: bool = False) -> None:
        """Mark ``visitor`` as the one this thread is answering (``None``: do not remember),
        and whether the response is a consent change rather than a page."""
        self._current.visitor = visitor
        self._current.consent_change = consent_change

    def remember(self, report: Report) -> None:
        """``on_report``: keep the report for the visitor this thread is answering."""
        visitor = getattr(self._current, "visitor", None)
        if visitor is None:
            return
        with self._lock:
            page, _ = self._reports.get(visitor, (None, None))
            if getattr(self._current, "consent_change", False):
                self._reports[visitor] = (page, report)
            else:
                self._reports[visitor] = (report, None)
            self._reports.move_to_end(visitor)
            while len(self._reports) > self._limit:
                self._reports.popitem(last=False)

    def last(self, visitor: str) -> Report | None:
        """What the previous page blocked, and everything expired since it was served."""
        with self._lock:
            page, change = self._reports.get(visitor, (None, None))
        if page is None:
            return change
        if change is None:
            return page
        expired = tuple(dict.fromkeys((*page.expired, *change.expired)))
        return Report(blocked=page.blocked, expired=expired, unknown=page.unknown)

    def __len__(self) -> int:
        return len(self._reports)


def create_app(*, secret_key: str = "demo secret: never use this one in production") -> Any:
    """The demo as a WSGI app: the shop, the middleware, and the per-visitor memory."""
    memory = VisitorMemory()
    shop = _Shop(memory)
    protected = ConsentMiddleware(shop, POLICY, secret_key=secret_key, on_report=memory.remember)
    return _RememberVisitor(protected, memory)


class _RememberVisitor:
    """Outermost layer: names the visitor (its session id) before the middleware reports."""

    def __init__(self, app: WSGIApplication, memory: VisitorMemory) -> None:
        self.app = app
        self.memory = memory

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        session = Request(environ).cookies.get(SESSION_COOKIE, "")
        if not (session.isalnum() and 8 <= len(session) <= 64):
            session = secrets.token_hex(16)
            environ["demo.new_session"] = True
        environ["demo.session"] = session
        # Remember the responses a visitor sees: pages, and the answer to a consent change.
        # Assets and the page script's own GET /_consent would only hide them.
        path = environ.get("PATH_INFO", "")
        consent_change = path == "/_consent" and environ.get("REQUEST_METHOD") == "POST"
        self.memory.start(
            session if path in PAGES or consent_change else None, consent_change=consent_change
        )
        return self.app(environ, start_response)


class _Shop:
    """The site itself: it sets its cookies without asking anyone."""

    def __init__(self, memory: VisitorMemory) -> None:
        self.memory = memory

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path in STATIC:
            content_type, body = STATIC[request.path]
            response = Response(body, content_type=content_type)
            response.headers["Cache-Control"] = "no-cache"
        elif request.path in PAGES:
            response = self.page(request)
        else:
            response = Response("Not found", status=404, content_type="text/plain")
        return response(environ, start_response)

    def page(self, request: Request) -> Response:
        environ = request.environ
        session = environ["demo.session"]
        state = get_consent(environ)
        previous = self.memory.last(session)
        html = render_page(request, state, previous)
        response = Response(html, content_type="text/html; charset=utf-8")
        response.headers["Content-Security-Policy"] = CSP
        now = int(time.time())
        # Every cookie of every kind, as a site unaware of consent sets them.
        response.set_cookie(SESSION_COOKIE, session, httponly=True, samesite="Lax")
        response.set_cookie("_ga", f"GA1.1.{secrets.randbelow(10**9)}.{now}", max_age=YEAR)
        response.set_cookie("_ga_DEMO42", f"GS1.1.{now}.1.0.{now}.0.0.0", max_age=YEAR)
        response.set_cookie("demo_theme", "light", max_age=YEAR, samesite="Lax")
        response.set_cookie("_fbp", f"fb.1.{now}.{secrets.randbelow(10**9)}", max_age=90 * 86400)
        return response


#: What each page asks to set, shown next to what the middleware let out.
SET_BY_PAGE = (
    ("sessionid", "necessary", "Set-Cookie"),
    ("_ga", "statistical", "Set-Cookie"),
    ("_ga_DEMO42", "statistical", "Set-Cookie"),
    ("demo_theme", "first_party", "Set-Cookie"),
    ("_fbp", "third_party", "Set-Cookie"),
    ("demo_layout", "first_party", "page script (static/demo.js)"),
)


def _names(names: Iterable[str]) -> Markup:
    shown = [Markup("<code>{}</code>").format(n) for n in names]
    return Markup(", ").join(shown) if shown else Markup('<span class="none">none</span>')


def _titles(categories: Iterable[str]) -> Markup:
    shown = [Markup('<span class="tag">{}</span>').format(_category_title(c)) for c in categories]
    return Markup(" ").join(shown) if shown else Markup('<span class="none">none</span>')


def _category_title(category: str | None) -> str:
    if category is None:
        return "undeclared"
    found = POLICY.categories.get(category)
    return found.title if found else category


def render_page(request: Request, state: ConsentState, previous: Report | None) -> str:
    """One page of the shop, with the consent panels and the banner."""
    title, _ = PAGES[request.path]
    nav = Markup("").join(
        Markup('<a href="{}"{}>{}</a>').format(
            path, Markup(' aria-current="page"') if path == request.path else "", label
        )
        for path, (_, label) in PAGES.items()
    )
    held = [name for name in request.cookies if name]
    held_rows = Markup("").join(
        Markup("<li><code>{}</code> <span class='tag'>{}</span></li>").format(
            name, _category_title(POLICY.category_of(name))
        )
        for name in held
    )
    set_rows = Markup("").join(
        Markup("<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            name,
            _category_title(category),
            how,
            Markup('<span class="yes">allowed</span>')
            if state.allows(category)
            else Markup('<span class="no">refused</span>'),
        )
        for name, category, how in SET_BY_PAGE
    )
    if state.decided:
        decided = Markup("yes, on {}").format(
            state.given_at.strftime("%Y-%m-%d %H:%M UTC") if state.given_at else "?"
        )
    else:
        decided = Markup("<strong>not yet</strong> (only necessary cookies pass)")
    granted = _titles(sorted(state.granted, key=list(POLICY.categories).index))
    if previous is None:
        report = Markup("<p>This is your first page: nothing to report yet.</p>")
    else:
        report = Markup(
            '<dl><dt>Blocked (removed from <code>Set-Cookie</code>)</dt><dd id="blocked">{}</dd>'
            '<dt>Expired (deleted from your browser)</dt><dd id="expired">{}</dd></dl>'
            '<p class="hint">Blocked on the last page you saw; expired since, there or by '
            "your last consent change.</p>"
        ).format(_names(previous.blocked), _names(previous.expired))
    body = Markup(
        """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · consentware demo</title>
<link rel="stylesheet" href="/static/demo.css">
<script src="/static/demo.js" defer></script>
</head>
<body>
{banner}
<header class="top">
  <a class="brand" href="/">☕ Demo coffee shop</a>
  <nav>{nav}<a href="/_consent/policy">Cookie policy</a>
  <a href="/_consent/policy#consentware-banner" data-consentware-settings>Cookie settings</a></nav>
</header>
<main>
  <h1>{title}</h1>
  <p class="lead">Every page of this shop sets six cookies without asking anyone. consentware
  sits around the app and lets out only those you consented to. Choose in the banner, reload,
  and watch the panels below (or your browser's cookie storage).</p>
  <div class="grid">
    <section class="card">
      <h2>Your consent</h2>
      <dl>
        <dt>Decided</dt><dd>{decided}</dd>
        <dt>Granted</dt><dd>{granted}</dd>
        <dt>Asked again about</dt><dd>{pending}</dd>
        <dt>Global Privacy Control</dt><dd>{gpc}</dd>
      </dl>
      <p><a href="/_consent/policy#consentware-banner" data-consentware-settings
        class="button">Change my choice</a></p>
    </section>
    <section class="card">
      <h2>Previous response</h2>
      {report}
    </section>
    <section class="card">
      <h2>Your browser sent</h2>
      <ul class="held">{held}</ul>
      <p class="hint" id="script-cookie">demo.js has not run.</p>
    </section>
  </div>
  <section class="card wide">
    <h2>What this page asked to set</h2>
    <table>
      <thead><tr><th>Cookie</th><th>Category</th><th>Set by</th><th>Your consent</th></tr></thead>
      <tbody>{set_rows}</tbody>
    </table>
  </section>
</main>
</body>
</html>
"""
    ).format(
        title=title,
        nav=nav,
        decided=decided,
        granted=granted,
        pending=_titles(state.pending),
        gpc=Markup("<strong>on</strong>: advertising is refused") if state.gpc else "off",
        report=report,
        held=held_rows or Markup('<li><span class="none">no cookies yet</span></li>'),
        set_rows=set_rows,
        # First in the body: keyboard and screen reader users meet it before the page. In the
        # visitor's language (Accept-Language); the middleware adds Vary: Accept-Language.
        banner=banner_html(
            state,
            POLICY,
            next_url=request.full_path.rstrip("?"),
            accept_language=request.headers.get("Accept-Language", ""),
        ),
    )
    return str(body)
