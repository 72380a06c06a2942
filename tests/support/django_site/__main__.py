"""``python -m tests.support.django_site``: migrate, create the superuser, serve until stopped.

Prints ``listening <port>`` on stdout once the socket listens; logs (consentware's included)
go to stderr.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

import django
from django.core.management import call_command

from tests.support.django_site import ADMIN_PASSWORD, ADMIN_USER
from tests.support.servers import serve_asgi, serve_wsgiref


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser(ADMIN_USER, "admin@example.org", ADMIN_PASSWORD)
    if os.environ.get("SITE_SERVER") == "asgi":
        from django.core.asgi import get_asgi_application

        running = serve_asgi(get_asgi_application())
    else:
        from django.core.wsgi import get_wsgi_application

        running = serve_wsgiref(get_wsgi_application())
    with running as server:
        print(f"listening {server.port}", flush=True)
        threading.Event().wait()  # until the test's SIGTERM ends the process


if __name__ == "__main__":
    main()
