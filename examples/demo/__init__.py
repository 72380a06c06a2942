"""The consentware demo: a small shop whose pages set cookies of every kind.

Run it with ``make demo`` (or ``python -m examples.demo``) and open http://127.0.0.1:8000.
Each page sets a necessary session cookie, the statistical ``_ga`` and ``_ga_DEMO42``, a
first-party preference and a third-party advertising cookie through ``Set-Cookie``; its
script sets one more cookie itself. The WSGI middleware lets out only what the visitor
consented to, and every page shows the consent state and what the middleware blocked and
expired on the previous response. See :mod:`examples.demo.app`.
"""

from __future__ import annotations

from .app import POLICY, create_app

__all__ = ["POLICY", "create_app"]
