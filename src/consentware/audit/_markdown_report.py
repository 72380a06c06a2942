"""The audit as Markdown: a summary, the cookies-by-states matrix, then each cookie's evidence.

For a pull request comment or a CI job summary (``$GITHUB_STEP_SUMMARY``). Every text that
comes from the site is escaped, so a cookie named ``|`` cannot break the table.

Example::

    Path("audit.md").write_text(render_markdown(result))
"""

from __future__ import annotations

import re
from typing import Final

from ._findings import AuditResult, CookieFinding
from ._json_report import evidence, timestamp
from ._matrix import LEGEND, SYMBOLS, cell, describe_source

__all__ = ["render_markdown"]

_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|~&#])")


def _md(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _code(text: str) -> str:
    shown = " ".join(text.split()).replace("`", "'").replace("|", "\\|")
    return f"`{shown}`" if shown else "*(nameless)*"


def render_markdown(result: AuditResult) -> str:
    """The Markdown report."""
    run = result.run
    summary = result.summary
    verdict = "clean" if result.exit_code == 0 else "**not clean**"
    lines = [
        f"# Cookie audit of {_md(run.target)}",
        "",
        f"Verdict: {verdict}: {summary['cookies']} cookies, {summary['violations']} "
        f"violations, {summary['undeclared']} undeclared. {len(run.pages)} pages in "
        f"{len(result.reached)} of {len(result.states)} states, {run.seconds:.1f} s "
        f"({_md(run.driver)}).",
        "",
    ]
    if result.incomplete:
        lines += ["Incomplete audit:", ""]
        lines += [f"- {_md(problem)}" for problem in result.incomplete]
        lines.append("")
    if result.unreached:
        lines += ["States not reached:", ""]
        lines += [f"- `{s.name}`: {_md(s.reason)}" for s in result.unreached]
        lines.append("")
    lines += _matrix(result)
    lines += ["", "## Evidence", ""]
    for finding in result.cookies:
        lines += _cookie(finding)
    if not result.cookies:
        lines += ["No cookie was stored in any state.", ""]
    return "\n".join(lines)


def _matrix(result: AuditResult) -> list[str]:
    states = result.states
    lines = ["## Cookies by state", ""]
    lines.append("| cookie | category | " + " | ".join(f"`{s}`" for s in states) + " |")
    lines.append("| --- | --- |" + " :-: |" * len(states))
    for finding in result.cookies:
        category = _md(finding.category) if finding.category else "*undeclared*"
        cells = [SYMBOLS[cell(finding, state, result)] for state in states]
        lines.append(f"| {_code(finding.name)} | {category} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Legend: " + "; ".join(f"{SYMBOLS[c]} {text}" for c, text in LEGEND) + ".")
    return lines


def _cookie(finding: CookieFinding) -> list[str]:
    known = finding.classification
    facts = [
        f"domain `{_md(finding.domain)}`",
        f"category {_md(finding.category or '')} (rule `{_md(finding.rule or '')}`)"
        if finding.declared
        else "**undeclared**",
    ]
    if known is not None:
        facts.append(
            f"Open Cookie Database: {_md(known.platform)}, {_md(known.category)}, "
            f"{_md(known.retention)}"
        )
    lines = [f"### {_code(finding.name)}", "", "; ".join(facts) + ".", ""]
    for violation in finding.violations:
        lines.append(f"- ✖ `{violation.state}`: {_md(violation.reason)}")
    for sighting in evidence(finding):
        expiry = timestamp(sighting.expires) or "session"
        how = describe_source(sighting.set_by, sighting.api, sighting.source)
        lines.append(
            f"- `{sighting.state}` on `{_md(sighting.page)}`: {_md(how)}; path "
            f"`{_md(sighting.path)}`, expires {expiry}"
        )
    lines.append("")
    return lines
