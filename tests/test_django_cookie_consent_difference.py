"""What django-cookie-consent lets out that consentware does not, on the same Django site.

A visitor refused every optional category explicitly, then opens a page whose view sets two
necessary and three tracking cookies (``_ga``, ``_gid``, ``_fbp``) that the browser does not
hold yet. django-cookie-consent's ``CleanCookiesMiddleware`` deletes only cookies the browser
already sent, so the trackers go out; consentware removes them.

Django settings are configured once per process and this site needs django-cookie-consent's app
installed, so the site runs in a process of its own (``benchmarks._django_site``, also used by
``make bench``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRACKERS = {"_ga", "_gid", "_fbp"}
NECESSARY = {"sessionid", "csrftoken"}

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("cookie_consent") is None,
    reason="django-cookie-consent is not installed",
)


@pytest.fixture(scope="module")
def let_out() -> dict[str, set[str]]:
    """Cookie names each setup lets out on a first visit after an explicit refusal."""
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks._django_site", "functional"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {name: set(names) for name, names in json.loads(result.stdout).items()}


def test_the_view_sets_the_trackers_without_any_middleware(let_out: dict[str, set[str]]) -> None:
    assert let_out["bare"] == TRACKERS | NECESSARY


def test_django_cookie_consent_lets_refused_trackers_out_on_a_first_visit(
    let_out: dict[str, set[str]],
) -> None:
    assert let_out["django_cookie_consent"] >= TRACKERS


def test_consentware_keeps_refused_trackers_in(let_out: dict[str, set[str]]) -> None:
    assert let_out["consentware"] & TRACKERS == set()


def test_both_let_necessary_cookies_out(let_out: dict[str, set[str]]) -> None:
    assert let_out["django_cookie_consent"] >= NECESSARY
    assert let_out["consentware"] >= NECESSARY
