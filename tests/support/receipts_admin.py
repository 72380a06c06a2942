"""A Django site with the admin and ``consentware.receipts.django_admin``, driven in its own
process (Django's settings are configured once per process, and the other Django tests need
none of these apps).

``python -m tests.support.receipts_admin DIRECTORY`` writes receipts through the Django
middleware into a ``SQLReceipts`` SQLite file in ``DIRECTORY``, declares that file as the
Django database ``receipts``, then asks the admin as a superuser for the listing, a search, a
receipt's page, and the add, change and delete pages; it prints what it saw as one JSON object
for ``tests/test_receipts_django_admin.py`` to judge.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import django
from django.conf import settings

#: The middleware's store (named by its dotted path in the settings), so the run can flush it.
STORE: Any = None


def configure(directory: Path) -> None:
    global STORE
    from consentware.receipts import SQLReceipts

    url = f"sqlite:///{directory / 'receipts.db'}"
    STORE = SQLReceipts(url, spool_path=directory / "receipts.spool")
    settings.configure(
        SECRET_KEY="admin-test",
        DEBUG=False,
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        USE_TZ=True,
        INSTALLED_APPS=[
            "django.contrib.admin",
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "django.contrib.messages",
            "consentware.receipts.django_admin",
        ],
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
            "receipts": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": directory / "receipts.db",
            },
        },
        MIDDLEWARE=[
            "consentware.django.ConsentMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
        ],
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ]
                },
            }
        ],
        CONSENTWARE={
            "receipts": f"{__name__}.STORE",
            "receipts_database": "receipts",
            "categories": {"statistical": {"title": "Statistics"}},
            "cookies": [
                {"name": "sessionid", "category": "necessary"},
                {"name": "csrftoken", "category": "necessary"},
                {"name": "messages", "category": "necessary"},
            ],
        },
    )
    django.setup()


def urls() -> list[Any]:
    from django.contrib import admin
    from django.urls import path

    return [path("admin/", admin.site.urls)]


urlpatterns: list[Any] = []


def main(directory: Path) -> dict[str, Any]:
    configure(directory)
    urlpatterns.extend(urls())
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0, interactive=False)
    changes = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=changes, verbosity=1)
        migrations_needed = False
    except SystemExit:
        migrations_needed = True

    visitor = Client()
    for action in ("accept_all", "save", "reject_all"):
        visitor.post(
            "/_consent",
            urlencode({"action": action, "category": "statistical", "next": "/shop"}),
            content_type="application/x-www-form-urlencoded",
            headers={"Origin": "http://testserver"},
        )
    other = Client()
    other.post(
        "/_consent",
        urlencode({"action": "accept_all"}),
        content_type="application/x-www-form-urlencoded",
        headers={"Origin": "http://testserver"},
    )
    assert STORE.flush(30)
    stored = list(STORE.export())
    consent_ids = sorted({r.consent_id for r in stored})
    visitor_id = next(r.consent_id for r in stored if r.action == "save")
    one = stored[0]

    User.objects.create_superuser("admin", "admin@example.org", "pw")
    staff = Client()
    staff.login(username="admin", password="pw")
    base = "/admin/consentware_receipts/receipt/"
    listing = staff.get(base)
    search = staff.get(base, {"q": visitor_id})
    detail = staff.get(f"{base}{one.receipt_id}/change/")
    from consentware.receipts.django_admin.models import Receipt

    return {
        "table": Receipt._meta.db_table,
        "columns": [field.column for field in Receipt._meta.fields],
        "nullable": [field.column for field in Receipt._meta.fields if field.null],
        "stored": len(stored),
        "consent_ids": consent_ids,
        "visitor_id": visitor_id,
        "receipt_id": one.receipt_id,
        "migrations_needed": migrations_needed,
        "makemigrations": changes.getvalue(),
        "listing_status": listing.status_code,
        "listing": listing.content.decode(),
        "search_status": search.status_code,
        "search": search.content.decode(),
        "detail_status": detail.status_code,
        "detail": detail.content.decode(),
        "add_status": staff.get(f"{base}add/").status_code,
        "change_post_status": staff.post(f"{base}{one.receipt_id}/change/", {}).status_code,
        "delete_status": staff.get(f"{base}{one.receipt_id}/delete/").status_code,
        "bulk_delete_status": staff.post(
            base, {"action": "delete_selected", "_selected_action": [one.receipt_id]}
        ).status_code,
        "after": len(list(STORE.export())),
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))
