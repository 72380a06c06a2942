"""Debian's headless Chromium, driven by Playwright, for the tests that need a real cookie jar.

``launch_chromium()`` skips the calling test cleanly when ``/usr/bin/chromium`` or Playwright is
absent; it never downloads a browser of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
#: As root and offline: no sandbox, and no background calls to hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@contextmanager
def launch_chromium(*extra_args: str) -> Iterator[Any]:
    """A running headless Chromium (a Playwright ``Browser``), closed on exit.

    ``extra_args`` are more command-line flags, such as ``--host-resolver-rules=...``.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            browser.close()
