"""How long ``consentware audit`` takes on a generated 20-page site in 6 states.

``python -m benchmarks.audit`` serves a 20-page shop (every page links to every other, sets
four cookies through ``Set-Cookie`` and loads a script that writes one) behind consentware's
WSGI middleware, with two optional categories, so the default states are six: none, reject,
only:statistical, only:third_party, all, gpc. It audits it in process and, on loopback, in
headless Chromium with 1, 2 and 3 states at once, and prints a Markdown table (docs/audit.md
keeps the numbers).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from typing import Any

from consentware import Policy
from consentware.audit import AuditOptions, run_audit
from consentware.wsgi import ConsentMiddleware

PAGES = [f"/p{i}" for i in range(20)]
POLICY = Policy.from_dict(
    {
        "categories": {"statistical": {}, "third_party": {"gpc_opt_out": True}},
        "cookies": [
            {"name": "sessionid", "category": "necessary"},
            {"name": "_ga", "category": "statistical"},
            {"name": "_ga_*", "category": "statistical"},
            {"name": "_fbp", "category": "third_party"},
            {"name": "layout", "category": "statistical"},
        ],
    }
)
SCRIPT = b"document.cookie = 'layout=wide; path=/; max-age=3600';"


def shop(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "/")
    if path == "/s.js":
        start_response("200 OK", [("Content-Type", "text/javascript")])
        return [SCRIPT]
    if path == "/":
        path = PAGES[0]
    links = "".join(f'<a href="{p}">{p}</a> ' for p in PAGES)
    body = f'<!doctype html><script src="/s.js"></script><h1>{path}</h1>{links}'.encode()
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/html"),
            ("Set-Cookie", "sessionid=s; Path=/; HttpOnly"),
            ("Set-Cookie", "_ga=GA1.1; Path=/; Max-Age=3600"),
            ("Set-Cookie", "_ga_X=GS1; Path=/; Max-Age=3600"),
            ("Set-Cookie", "_fbp=fb.1; Path=/; Max-Age=3600"),
        ],
    )
    return [body]


app = ConsentMiddleware(shop, POLICY)


def _time(options: AuditOptions) -> tuple[float, int, int]:
    began = time.perf_counter()
    result = run_audit(options)
    seconds = time.perf_counter() - began
    pages = sum(len(s.pages) for s in result.run.states)
    return seconds, len(result.reached), pages


def main() -> None:
    import threading

    from werkzeug.serving import make_server

    rows = []
    seconds, states, pages = _time(AuditOptions(target="benchmarks.audit:app", crawl=20))
    rows.append(("in process (WSGI)", "-", seconds, states, pages))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ.setdefault("CONSENTWARE_CHROMIUM", "/usr/bin/chromium")
    try:
        for parallel in (1, 2, 3):
            url = f"http://127.0.0.1:{server.port}/"
            seconds, states, pages = _time(AuditOptions(target=url, crawl=20, parallel=parallel))
            rows.append(("Chromium", str(parallel), seconds, states, pages))
    finally:
        server.shutdown()
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| driver | states at once | states | pages loaded | seconds | per page |")
    print("| --- | --: | --: | --: | --: | --: |")
    for driver, parallel, seconds, states, pages in rows:
        print(
            f"| {driver} | {parallel} | {states} | {pages} | {seconds:.1f} | "
            f"{1000 * seconds / max(pages, 1):.0f} ms |"
        )


if __name__ == "__main__":
    main()
