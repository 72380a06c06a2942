"""``consentware audit``: what a site really stores under each consent state, and why.

Drive an app in process (``module:attribute``, WSGI or ASGI) or a live site in headless
Chromium (an ``http(s)://`` URL) through the states a visitor can choose (``none``,
``reject``, ``only:<category>``, ``all``, ``gpc``), record every cookie stored and how (which
response's ``Set-Cookie``, which page script), judge it against the site's policy, classify
what the policy does not declare with the Open Cookie Database, and report it (a terminal
table, JSON, Markdown, a self-contained HTML page) or draft the missing rules.

The jar, the classification, the judgement and the report builders are pure; only the drivers
(:mod:`._inprocess`, :mod:`._browser`) do I/O.

Example::

    from consentware.audit import AuditOptions, render_json, run_audit

    result = run_audit(AuditOptions(target="examples.wsgi_app:app", crawl=20))
    print(render_json(result))
    raise SystemExit(result.exit_code)
"""

from __future__ import annotations

from ._database import CookieDatabase, KnownCookie
from ._draft import draft_policy
from ._errors import AuditError, UsageError
from ._findings import AuditResult, CookieFinding, Violation, judge
from ._html_report import render_html
from ._jar import CookieJar, JarChange, StoredCookie
from ._json_report import json_document, render_json
from ._markdown_report import render_markdown
from ._model import PageVisit, Run, Sighting, SiteConsent, StateVisit
from ._options import AuditOptions, ProgressCallback
from ._run import load_database, run_audit
from ._states import AuditState, default_states, parse_states
from ._table_report import print_table

__all__ = [
    "AuditError",
    "AuditOptions",
    "AuditResult",
    "AuditState",
    "CookieDatabase",
    "CookieFinding",
    "CookieJar",
    "JarChange",
    "KnownCookie",
    "PageVisit",
    "ProgressCallback",
    "Run",
    "Sighting",
    "SiteConsent",
    "StateVisit",
    "StoredCookie",
    "UsageError",
    "Violation",
    "default_states",
    "draft_policy",
    "json_document",
    "judge",
    "load_database",
    "parse_states",
    "print_table",
    "render_html",
    "render_json",
    "render_markdown",
    "run_audit",
]
