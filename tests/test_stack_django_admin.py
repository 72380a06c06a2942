"""Django's admin behind consentware, in a process of its own, with zero consentware configuration.

The site is ``startproject``'s with consentware's middleware first in ``MIDDLEWARE`` and
``consentware.django`` in ``INSTALLED_APPS``, a migrated SQLite database and a superuser, served
by Django's WSGI handler under wsgiref and by its ASGI handler under uvicorn
(:mod:`tests.support.django_site`). httpx logs in through
``/admin/login/`` (CSRF token from the form), adds a group and reads the success message on the
next page: the session, CSRF and messages cookies (Django's default message storage tries a
cookie first) all pass for a visitor who chose nothing and for one who refused everything.

``manage.py check`` (``python -m django check``) on the same site with the middleware last
reports ``consentware.E002`` and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.cookies import deleted_names, set_names
from tests.support.django_site import ADMIN_PASSWORD, ADMIN_USER, DjangoSite, manage, serve

pytest.importorskip("django")

pytestmark = pytest.mark.e2e

TIMEOUT = httpx.Timeout(10.0)
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module", params=["wsgi", "asgi"])
def admin_site(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[DjangoSite]:
    with serve(tmp_path_factory.mktemp("django-admin"), server=request.param) as site:
        yield site


def csrf_token(page: httpx.Response) -> str:
    assert page.status_code == 200, page.status_code
    found = CSRF_FIELD.search(page.text)
    assert found is not None, page.text[:500]
    return found[1]


def cookie_lines(response: httpx.Response) -> list[str]:
    lines = response.headers.get_list("set-cookie")
    # Django deletes its own cookies its own way (``messages=""; expires=...1970``), never
    # with consentware's deletion shape: that shape here would be consentware refusing one.
    assert not deleted_names(lines), lines
    return lines


@pytest.mark.parametrize("choice", [None, "reject_all"], ids=["undecided", "refused"])
def test_admin_login_csrf_and_messages(admin_site: DjangoSite, choice: str | None) -> None:
    group = f"editors-{choice}"
    with httpx.Client(base_url=admin_site.url, timeout=TIMEOUT) as client:
        if choice is not None:
            assert client.post("/_consent", data={"action": choice}).status_code == 303

        login_page = client.get("/admin/login/?next=/admin/")
        assert "csrftoken" in set_names(cookie_lines(login_page))
        logged_in = client.post(
            "/admin/login/?next=/admin/",
            data={
                "csrfmiddlewaretoken": csrf_token(login_page),
                "username": ADMIN_USER,
                "password": ADMIN_PASSWORD,
                "next": "/admin/",
            },
        )
        assert logged_in.status_code == 302, logged_in.text[:500]  # 403 when CSRF failed
        assert logged_in.headers["location"] == "/admin/"
        assert "sessionid" in set_names(cookie_lines(logged_in))
        index = client.get("/admin/")
        assert index.status_code == 200
        assert "Site administration" in index.text

        form = client.get("/admin/auth/group/add/")
        added = client.post(
            "/admin/auth/group/add/", data={"csrfmiddlewaretoken": csrf_token(form), "name": group}
        )
        assert added.status_code == 302, added.text[:500]
        assert "messages" in set_names(cookie_lines(added))
        listing = client.get(added.headers["location"])
    assert listing.status_code == 200
    success = re.findall(r'<li class="success">(.*?)</li>', listing.text)
    assert len(success) == 1, success
    assert group in success[0]
    assert "was added successfully" in success[0]
    # Said at start-up, and nothing else to say: no cookie of the admin was refused.
    log = admin_site.log()
    assert "declared Django's own cookies necessary: messages" in log
    assert "WARNING consentware" not in log
    assert "ERROR consentware" not in log


def test_manage_py_check_reports_a_misplaced_middleware_and_the_fix(tmp_path: Path) -> None:
    misordered = manage(tmp_path, "check", middleware="last")
    output = misordered.stdout + misordered.stderr
    assert misordered.returncode == 1, output
    assert "(consentware.E002)" in output
    assert "django.contrib.sessions.middleware.SessionMiddleware" in output
    assert "HINT: Move 'consentware.django.ConsentMiddleware' above them" in output

    ordered = manage(tmp_path, "check")
    assert ordered.returncode == 0, ordered.stdout + ordered.stderr
    assert "consentware." not in ordered.stdout + ordered.stderr
