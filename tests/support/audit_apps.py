"""Small sites for the audit's tests: unguarded and guarded, WSGI and ASGI, with a page script.

Every page of the shop sets ``sessionid`` (necessary), ``_ga`` (statistics), ``_fbp``
(advertising) and ``_clck`` (Microsoft Clarity, declared by no policy here) through
``Set-Cookie``, links to the other pages, and loads ``/px.gif``, a tracking pixel that sets
``_hjSessionUser_42``. ``/static/tracker.js`` writes ``_tracker`` from the page, whatever the
consent: no server can filter that.

- ``unguarded_wsgi``, ``unguarded_asgi``: the shop without consentware;
- ``guarded_wsgi``, ``guarded_asgi``: the shop inside consentware's middleware, with
  ``POLICY`` (which declares all but ``_clck`` and the pixel's cookie);
- ``script_tracker``: guarded, and its pages load ``tracker.js``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from consentware import Policy
from consentware.asgi import ConsentMiddleware as AsgiConsent
from consentware.wsgi import ConsentMiddleware as WsgiConsent

POLICY_TOML = """\
unknown_cookies = "block"

[categories.statistical]
title = "Statistics"
consent_mode = ["analytics_storage"]

[categories.third_party]
title = "Advertising"
gpc_opt_out = true

[[cookies]]
name = "sessionid"
category = "necessary"
provider = "The shop"
purpose = "Keeps the basket."

[[cookies]]
name = "_ga"
category = "statistical"
provider = "Google"
purpose = "Distinguishes visitors."

[[cookies]]
name = "_fbp"
category = "third_party"
provider = "Meta"
purpose = "Advertising."

[[cookies]]
name = "_tracker"
category = "third_party"
provider = "A partner"
purpose = "Tracks visitors across sites."
"""
POLICY = Policy.from_dict(__import__("tomllib").loads(POLICY_TOML))
PAGES = ("/", "/shop", "/about")
TRACKER_JS = b"document.cookie = '_tracker=t1; path=/; max-age=86400';\n"
PIXEL = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


def _page(path: str, with_script: bool) -> bytes:
    links = "".join(f'<a href="{p}">{p}</a> ' for p in PAGES if p != path)
    script = '<script src="/static/tracker.js"></script>' if with_script else ""
    return (
        f"<!doctype html><html><head><title>{path}</title>{script}</head><body>"
        f'<nav>{links}<a href="https://elsewhere.example/">out</a>'
        f'<a href="/_consent/policy">policy</a></nav><img src="/px.gif"></body></html>'
    ).encode()


def respond(path: str, with_script: bool = False) -> tuple[str, list[tuple[str, str]], bytes]:
    """The shop's answer to ``GET path``: status line, headers, body."""
    if path == "/px.gif":
        return (
            "200 OK",
            [("Content-Type", "image/gif"), ("Set-Cookie", "_hjSessionUser_42=x; Path=/")],
            PIXEL,
        )
    if path == "/static/tracker.js":
        return "200 OK", [("Content-Type", "text/javascript")], TRACKER_JS
    if path == "/old":
        return "302 Found", [("Location", "/shop"), ("Content-Type", "text/plain")], b""
    if path not in PAGES:
        return "404 Not Found", [("Content-Type", "text/plain")], b"not found"
    headers = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Set-Cookie", "sessionid=s1; Path=/; HttpOnly; SameSite=Lax"),
        ("Set-Cookie", "_ga=GA1.1.1.1; Path=/; Max-Age=34128000"),
        ("Set-Cookie", "_fbp=fb.1.1.1; Path=/; Max-Age=7776000"),
        ("Set-Cookie", "_clck=abc; Path=/; Max-Age=31536000"),
    ]
    return "200 OK", headers, _page(path, with_script)


def _wsgi(with_script: bool) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        status, headers, body = respond(environ.get("PATH_INFO", "/"), with_script)
        start_response(status, headers)
        return [body]

    return app


def _asgi(with_script: bool) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    scope["state"]["ready"] = True
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        status, headers, body = respond(scope["path"], with_script)
        await send(
            {
                "type": "http.response.start",
                "status": int(status.split()[0]),
                "headers": [(k.encode(), v.encode()) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


unguarded_wsgi = _wsgi(False)
unguarded_asgi = _asgi(False)
guarded_wsgi = WsgiConsent(_wsgi(False), POLICY)
guarded_asgi = AsgiConsent(_asgi(False), POLICY)
script_tracker = WsgiConsent(_wsgi(True), POLICY)


def flask_like_wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """An unguarded app setting Flask's and Flask-Login's own cookies, and ``_ga``."""
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/html; charset=utf-8"),
            ("Set-Cookie", "session=eyJ1Ijo0Mn0; Path=/; HttpOnly"),
            ("Set-Cookie", "remember_token=42|abc; Path=/; Max-Age=31536000; HttpOnly"),
            ("Set-Cookie", "_ga=GA1.1.1.1; Path=/; Max-Age=63072000"),
        ],
    )
    return [b"<!doctype html><title>Flask-like</title><p>Hello"]
