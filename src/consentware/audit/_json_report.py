"""The audit as JSON: the contract of DESIGN.md ("The audit command"), plus context keys.

The contract's keys are fixed: ``target``, ``states``, ``pages``, ``cookies`` (each with
``name``, ``domain``, ``category``, ``declared``, ``set_by``, ``seen_in``, ``violations`` — the
states where it broke consent — and ``classification`` with ``platform``, ``category``,
``retention``, or ``null``), and ``summary`` (``cookies``, ``violations``, ``undeclared``).
Everything else is added under new keys, so a consumer of the contract never breaks:
``violation_details``, ``evidence``, ``unreached_states``, ``state_details``, ``audit``.

Example::

    document = json_document(result)
    document["summary"]      # {"cookies": 7, "violations": 3, "undeclared": 1}
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ._findings import AuditResult, CookieFinding
from ._model import Sighting

__all__ = ["json_document", "render_json", "timestamp"]

#: Bumped when a key changes meaning; new keys do not bump it.
SCHEMA_VERSION = 1


def timestamp(seconds: float | None) -> str | None:
    """An expiry or a time as ISO 8601 UTC, or ``None`` for a session cookie."""
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


def render_json(result: AuditResult) -> str:
    """The JSON report as text (indented, UTF-8 safe)."""
    return json.dumps(json_document(result), indent=2, ensure_ascii=False) + "\n"


def json_document(result: AuditResult) -> dict[str, Any]:
    """The JSON report as data."""
    run = result.run
    return {
        "target": run.target,
        "states": result.states,
        "pages": run.pages,
        "cookies": [_cookie(finding) for finding in result.cookies],
        "summary": result.summary,
        "unreached_states": [{"state": s.name, "reason": s.reason} for s in result.unreached],
        "incomplete": result.incomplete,
        "state_details": [
            {
                "state": state.name,
                "reached": state.reached,
                "failed": state.failed,
                "reason": state.reason or None,
                "granted": sorted(state.granted) if state.reached else None,
                "reported_granted": (
                    list(state.reported_granted) if state.reported_granted is not None else None
                ),
                "pages": [
                    {
                        "path": page.path,
                        "final_url": page.final_url,
                        "status": page.status,
                        "error": page.error or None,
                    }
                    for page in state.pages
                ],
                "seconds": round(state.seconds, 3),
            }
            for state in run.states
        ],
        "audit": {
            "schema": SCHEMA_VERSION,
            "driver": run.driver,
            "base_url": run.base_url,
            "browser": run.browser or None,
            "consent_route": run.site.prefix if run.site.found else None,
            "policy_source": run.policy_source or None,
            "cookie_database": result.database.source if result.database else None,
            "started_at": timestamp(run.started_at),
            "seconds": round(run.seconds, 3),
            "notes": list(run.notes),
        },
    }


def _cookie(finding: CookieFinding) -> dict[str, Any]:
    known = finding.classification
    return {
        "name": finding.name,
        "domain": finding.domain,
        "category": finding.category,
        "declared": finding.declared,
        "set_by": list(finding.set_by),
        "seen_in": list(finding.seen_in),
        "violations": list(finding.violation_states),
        "classification": known.to_dict() if known is not None else None,
        "rule": finding.rule,
        "policy_name": finding.policy_name,
        "third_party": finding.third_party,
        "expires": timestamp(finding.longest_expiry),
        "violation_details": [{"state": v.state, "reason": v.reason} for v in finding.violations],
        "evidence": [_evidence(s) for s in evidence(finding)],
    }


def evidence(finding: CookieFinding) -> list[Sighting]:
    """The sightings worth showing: the first of each state, way and source."""
    seen: dict[tuple[str, str, str, str], Sighting] = {}
    for sighting in finding.sightings:
        key = (sighting.state, sighting.set_by, sighting.api, sighting.source)
        seen.setdefault(key, sighting)
    return list(seen.values())


def _evidence(sighting: Sighting) -> dict[str, Any]:
    return {
        "state": sighting.state,
        "page": sighting.page,
        "set_by": sighting.set_by,
        "api": sighting.api,
        "source": sighting.source or None,
        "path": sighting.path,
        "host_only": sighting.host_only,
        "secure": sighting.secure,
        "http_only": sighting.http_only,
        "same_site": sighting.same_site,
        "expires": timestamp(sighting.expires),
        "transient": sighting.transient,
    }
