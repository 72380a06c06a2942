"""A tiny Django project under consentware: sessions, CSRF, messages, ``_ga`` and ``_fbp``.

Run it with ``.venv/bin/python -m examples.django_project`` (a threaded WSGI server) or
``.venv/bin/python -m examples.django_project --asgi`` (uvicorn), then open
http://127.0.0.1:8005/. The view sets ``_ga`` and ``_fbp`` on every page; consentware, first
in ``MIDDLEWARE``, lets them out only with consent, while the session, CSRF and messages
cookies (declared necessary) always pass.
"""
