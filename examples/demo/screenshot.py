"""Take the README's screenshot of the banner: ``python -m examples.demo.screenshot [out.png]``.

Serves the demo on a free loopback port, opens it in Debian's headless chromium (Playwright
with ``executable_path``) and saves the page with the banner open, as a first visitor sees it.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from . import create_app

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def main(argv: list[str]) -> None:
    out = Path(argv[0] if argv else "docs/banner.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 820})
            page.goto(f"http://127.0.0.1:{server.port}/")
            page.wait_for_timeout(300)  # let the entrance animation finish
            page.screenshot(path=str(out))
            browser.close()
    finally:
        server.shutdown()
        thread.join()
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
