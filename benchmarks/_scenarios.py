"""The contenders of each benchmark row, built fresh for each run."""

from __future__ import annotations

import asyncio
import csv
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from consentware import Policy
from consentware.asgi import ConsentMiddleware as ASGIConsent
from consentware.core.presets import DEFAULT_POLICY
from consentware.wsgi import ConsentMiddleware as WSGIConsent

from ._apps import (
    ALLOWED_NAMES,
    POLICY,
    SECRET_KEY,
    VISITOR_KEY,
    VISITORS,
    ASGIApp,
    Message,
    MinimalASGIFilter,
    MinimalWSGIFilter,
    Receive,
    Scope,
    Send,
    WSGIApp,
    asgi_batch,
    base_http_filter,
    cookie_header,
    raw_asgi_app,
    raw_wsgi_app,
    visitor_headers,
    visitor_set_cookies,
    wsgi_batch,
)

Batch = Callable[[int], object]

OPEN_COOKIE_DATABASE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "open-cookie-database"
    / "open-cookie-database.csv"
)


def raw_asgi(loop: asyncio.AbstractEventLoop, n_cookies: int = 5) -> dict[str, Batch]:
    app = raw_asgi_app(n_cookies)
    cookie = visitor_headers()
    return {
        "bare": asgi_batch(app, cookie, loop),
        "minimal filter": asgi_batch(MinimalASGIFilter(app), cookie, loop),
        "consentware": asgi_batch(ASGIConsent(app, POLICY, secret_key=SECRET_KEY), cookie, loop),
        "filter as BaseHTTPMiddleware": asgi_batch(base_http_filter(app), cookie, loop),
    }


def raw_wsgi(n_cookies: int = 5) -> dict[str, Batch]:
    app = raw_wsgi_app(n_cookies)
    cookie = visitor_headers()
    return {
        "bare": wsgi_batch(app, cookie),
        "minimal filter": wsgi_batch(MinimalWSGIFilter(app), cookie),
        "consentware": wsgi_batch(WSGIConsent(app, POLICY, secret_key=SECRET_KEY), cookie),
    }


def _flask_app() -> Any:
    from flask import Flask, Response, request

    lines = [visitor_set_cookies(i, 5) for i in range(VISITORS)]
    app = Flask("bench")
    app.secret_key = "benchmark-flask-secret"

    @app.route("/")
    def index() -> Response:
        own = lines[request.environ.get(VISITOR_KEY, 0)]
        return Response("ok", mimetype="text/plain", headers=[("Set-Cookie", v) for v in own])

    return app


def flask() -> dict[str, Batch]:
    import logging

    from consentware.flask import Consentware

    cookie = visitor_headers()
    bare = _flask_app()
    filtered = _flask_app()
    filtered.wsgi_app = MinimalWSGIFilter(filtered.wsgi_app)  # type: ignore[method-assign]
    ours = _flask_app()
    # The extension warns once that Flask's session cookie is undeclared; not the point here.
    logging.getLogger("consentware").setLevel(logging.ERROR)
    Consentware(ours, policy=POLICY, secret_key=SECRET_KEY)
    hooked = _flask_app()

    @hooked.after_request
    def drop_unlisted(response: Any) -> Any:
        lines = response.headers.getlist("Set-Cookie")
        kept = [v for v in lines if v.split("=", 1)[0].strip() in ALLOWED_NAMES]
        if len(kept) != len(lines):
            response.headers.setlist("Set-Cookie", kept)
        return response

    return {
        "bare": wsgi_batch(bare, cookie),
        "minimal filter": wsgi_batch(filtered, cookie),
        "consentware": wsgi_batch(ours, cookie),
        "filter as after_request hook": wsgi_batch(hooked, cookie),
    }


def starlette(loop: asyncio.AbstractEventLoop) -> dict[str, Batch]:
    from ._servers import make_app

    cookie = visitor_headers()
    return {
        "bare": asgi_batch(make_app("bare"), cookie, loop),
        "consentware": asgi_batch(make_app("consentware"), cookie, loop),
        "no-op pure ASGI middleware": asgi_batch(make_app("noop"), cookie, loop),
    }


def sweep(loop: asyncio.AbstractEventLoop, n_cookies: int) -> dict[str, Batch]:
    contenders = raw_asgi(loop, n_cookies)
    contenders.pop("filter as BaseHTTPMiddleware")
    wsgi = raw_wsgi(n_cookies)
    contenders.update({f"WSGI {k}": v for k, v in wsgi.items()})
    return contenders


# -- registry scale -----------------------------------------------------------------------

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_CATEGORIES = {
    "Analytics": "statistical",
    "Marketing": "third_party",
    "Functional": "first_party",
    "Personalization": "first_party",
    "Security": "necessary",
    "Necessary": "necessary",
}


def open_cookie_database_policy(path: Path = OPEN_COOKIE_DATABASE) -> tuple[Policy, int]:
    """The default policy plus every usable name of the Open Cookie Database.

    Exact names and, where its "Wildcard match" column says 1, prefix rules; duplicates
    dropped; the site's own declarations win (the database lists ``sessionid`` as Instagram
    marketing, the site declares it necessary). Returns the policy and the rows read.
    """
    site_rules = list(DEFAULT_POLICY["cookies"])
    seen = {rule["name"] for rule in site_rules}
    rules = list(site_rules)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        name = row["Cookie / Data Key name"].strip()
        if not _TOKEN.fullmatch(name) or "*" in name:
            continue
        pattern = f"{name}*" if row["Wildcard match"].strip() == "1" else name
        if pattern in seen:
            continue
        seen.add(pattern)
        rules.append(
            {
                "name": pattern,
                "category": _CATEGORIES.get(row["Category"], "first_party"),
                "provider": row["Data Controller"] or row["Platform"],
                "function": row["Platform"],
                "purpose": row["Description"][:200],
                "duration": row["Retention period"],
            }
        )
    return Policy.from_dict({**DEFAULT_POLICY, "cookies": rules}), len(rows)


def registry_scale(loop: asyncio.AbstractEventLoop, big: Policy) -> dict[str, Batch]:
    app = raw_asgi_app(5)
    cookie = cookie_header()
    return {
        f"consentware, {len(POLICY.rules)} rules": asgi_batch(
            ASGIConsent(app, POLICY, secret_key=SECRET_KEY), cookie, loop
        ),
        f"consentware, {len(big.rules)} rules": asgi_batch(
            ASGIConsent(app, big, secret_key=SECRET_KEY), cookie, loop
        ),
    }


def cold_match(policy: Policy, names: Iterable[str]) -> Batch:
    """Matching names the policy has not seen yet: its per-name cache cleared every time."""
    names = list(names)
    cache = policy._match_cache

    def run(n: int) -> None:
        for _ in range(n):
            cache.clear()
            for name in names:
                policy.match(name)

    return run


# -- memory -------------------------------------------------------------------------------

STREAM_TOTAL = 100 * 2**20
STREAM_CHUNK = 64 * 2**10


def streaming_asgi_app() -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"application/octet-stream"),
            (b"set-cookie", b"sessionid=1; Path=/"),
            (b"set-cookie", b"_fbp=1; Path=/"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for _ in range(STREAM_TOTAL // STREAM_CHUNK):
            await send(
                {"type": "http.response.body", "body": bytes(STREAM_CHUNK), "more_body": True}
            )
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


def streaming_wsgi_app() -> WSGIApp:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/octet-stream"),
                ("Set-Cookie", "sessionid=1; Path=/"),
                ("Set-Cookie", "_fbp=1; Path=/"),
            ],
        )
        for _ in range(STREAM_TOTAL // STREAM_CHUNK):
            yield bytes(STREAM_CHUNK)

    return app


def memory_contenders(loop: asyncio.AbstractEventLoop) -> Mapping[str, Callable[[], int]]:
    """Each runs one 100 MB streamed request and returns the bytes the client received."""
    from ._apps import http_scope, wsgi_environ

    cookie = cookie_header()
    asgi_bare = streaming_asgi_app()
    asgi_ours = ASGIConsent(asgi_bare, POLICY, secret_key=SECRET_KEY)
    wsgi_bare = streaming_wsgi_app()
    wsgi_ours = WSGIConsent(wsgi_bare, POLICY, secret_key=SECRET_KEY)

    def asgi(app: ASGIApp) -> Callable[[], int]:
        def run() -> int:
            received = 0

            async def receive() -> Message:
                return {"type": "http.request", "body": b"", "more_body": False}

            async def send(message: Message) -> None:
                nonlocal received
                received += len(message.get("body", b""))

            loop.run_until_complete(app(http_scope(cookie), receive, send))
            return received

        return run

    def wsgi(app: WSGIApp) -> Callable[[], int]:
        def run() -> int:
            received = 0
            body = app(wsgi_environ(cookie), lambda status, headers, exc_info=None: None)
            for chunk in body:
                received += len(chunk)
            close = getattr(body, "close", None)
            if close is not None:
                close()
            return received

        return run

    return {
        "ASGI bare": asgi(asgi_bare),
        "ASGI consentware": asgi(asgi_ours),
        "WSGI bare": wsgi(wsgi_bare),
        "WSGI consentware": wsgi(wsgi_ours),
    }
