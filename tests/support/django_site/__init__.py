"""A Django site with the admin and a database, run in a process of its own by the tests.

Django's settings are process-global and the suite configures Django once, from the example's
settings (see ``tests/test_django.py``): a site with ``django.contrib.admin``, a database and its
own ``MIDDLEWARE`` needs its own process. :func:`serve` starts one (``python -m
tests.support.django_site``): it migrates a SQLite database under a folder the test gives,
creates a superuser and serves Django's WSGI handler under wsgiref (or its ASGI handler under
uvicorn) until the test stops it.

Its settings (:mod:`tests.support.django_site.settings`) are ``startproject``'s, with
consentware's middleware first in ``MIDDLEWARE`` and ``consentware.django`` in
``INSTALLED_APPS``: no other consentware configuration. Environment variables vary them:

- ``SITE_DB``: the SQLite file (required);
- ``SITE_MIDDLEWARE=last``: consentware's middleware last, as a newcomer might put it;
- ``SITE_INJECT=1``: ``CONSENTWARE = {"inject_banner": True}``;
- ``SITE_GZIP=outside``: Django's ``GZipMiddleware`` above consentware's;
- ``SITE_SERVER=asgi``: Django's ASGI handler under uvicorn instead of WSGI under wsgiref.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ADMIN_PASSWORD", "ADMIN_USER", "DjangoSite", "manage", "serve"]

ADMIN_USER = "admin"
ADMIN_PASSWORD = "correct horse battery staple"
SETTINGS = "tests.support.django_site.settings"
ROOT = Path(__file__).resolve().parents[3]
#: Seconds for the site to migrate and start listening before the test fails.
START_TIMEOUT = 60.0


@dataclass(frozen=True)
class DjangoSite:
    """A running site: ``url`` is ``http://127.0.0.1:<port>``; ``log`` is its stderr so far."""

    url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def environment(folder: Path, **variables: str) -> dict[str, str]:
    """The subprocess's environment: this one, the site's settings and ``SITE_*`` ``variables``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SITE_") and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        PYTHONUNBUFFERED="1",
        SITE_DB=str(folder / "site.sqlite3"),
    )
    env.update({f"SITE_{key.upper()}": value for key, value in variables.items()})
    return env


def manage(folder: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """``manage.py <args>`` for the site, in a subprocess; its output is captured."""
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=environment(folder, **variables),
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )


@contextlib.contextmanager
def serve(folder: Path, **variables: str) -> Iterator[DjangoSite]:
    """Migrate, create the superuser and serve the site until the block ends."""
    log_path = folder / "site.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.django_site"],
            cwd=ROOT,
            env=environment(folder, **variables),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        line = process.stdout.readline() if ready else ""  # "listening <port>", "" if it died
        if not line.startswith("listening "):
            process.kill()
            process.wait(START_TIMEOUT)
            raise RuntimeError(f"the Django site did not start:\n{log_path.read_text()}")
        yield DjangoSite(f"http://127.0.0.1:{int(line.split()[1])}", log_path)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - only when shutdown hangs
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
