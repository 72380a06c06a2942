"""The audit as one self-contained HTML page: the matrix first, then each cookie's evidence.

The page loads nothing (inline CSS, no script, no font, no image) so it can be mailed,
attached to a CI run or opened years later. Its first picture is the cookies-by-states matrix;
each cell carries a symbol and words for screen readers, so colour is never the only signal.
Then one card per cookie: what the policy and the Open Cookie Database say, where it broke
consent, and the evidence (which response or script set it, on which page, until when).
Every text from the site is escaped with :mod:`markupsafe`.

Example::

    Path("audit.html").write_text(render_html(result), encoding="utf-8")
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from markupsafe import Markup

from ._findings import AuditResult, CookieFinding
from ._json_report import evidence, timestamp
from ._matrix import LEGEND, SYMBOLS, Cell, cell, describe_source
from ._model import Sighting, StateVisit

__all__ = ["render_html"]

_CSS: Final = """
:root{--ink:#1d2330;--muted:#5b6475;--line:#dde1e8;--bg:#f6f7f9;--card:#fff;
--ok:#1f7a4d;--ok-bg:#e3f4ea;--bad:#b42318;--bad-bg:#fde8e6;--warn:#8a5a00;--warn-bg:#fff4d6;
--none:#9aa3b2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);
background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:28px 20px 60px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:36px 0 12px}
h3{font-size:16px;margin:0}
.meta{color:var(--muted);margin:0 0 18px}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.verdict{display:inline-block;padding:3px 12px;border-radius:999px;font-weight:700;
font-size:14px;vertical-align:middle;margin-left:8px}
.verdict.clean{background:var(--ok-bg);color:var(--ok)}
.verdict.dirty{background:var(--bad-bg);color:var(--bad)}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
.stat{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 16px;
min-width:130px}
.stat b{display:block;font-size:24px}.stat span{color:var(--muted);font-size:13px}
.stat.bad b{color:var(--bad)}.stat.warn b{color:var(--warn)}
.wrap{overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:10px}
table{border-collapse:collapse;width:100%}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);
background:#fafbfc;position:sticky;top:0}
.matrix td.c,.matrix th.c{text-align:center;white-space:nowrap}
.matrix th.c code{font-size:12px;text-transform:none}
.matrix td.name{white-space:nowrap}
.cell{display:inline-block;min-width:30px;padding:1px 6px;border-radius:6px;font-weight:700}
.cell.seen{color:var(--ok);background:var(--ok-bg)}
.cell.violation{color:#fff;background:var(--bad)}
.cell.absent{color:var(--none)}
.cell.unreached{color:var(--none);background:repeating-linear-gradient(45deg,#eef0f3,#eef0f3 4px,
#fff 4px,#fff 8px)}
.tag{display:inline-block;padding:0 8px;border-radius:999px;font-size:12px;background:#eef1f6;
color:var(--muted);margin-left:6px;white-space:nowrap}
.tag.undeclared{background:var(--warn-bg);color:var(--warn);font-weight:600}
.tag.bad{background:var(--bad-bg);color:var(--bad);font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:16px;color:var(--muted);font-size:13px;margin:10px 2px}
.note{background:var(--warn-bg);border-radius:10px;padding:10px 14px;margin:12px 0}
.note.bad{background:var(--bad-bg)}
.cookie{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;
margin:0 0 14px}
.cookie.has-violation{border-left:5px solid var(--bad)}
.cookie.is-undeclared{border-left:5px solid #e0a100}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:10px 0;
font-size:14px}
.facts dt{color:var(--muted)}.facts dd{margin:0}
.violations{margin:8px 0;padding-left:20px;color:var(--bad)}
.evidence{font-size:13px}
details{margin:6px 0}summary{cursor:pointer;color:var(--muted)}
footer{color:var(--muted);font-size:13px;margin-top:40px}
@media print{body{background:#fff}.wrap,.cookie{break-inside:avoid}}
"""


def render_html(result: AuditResult) -> str:
    """The HTML report as a complete document."""
    run = result.run
    summary = result.summary
    clean = result.exit_code == 0
    verdict = (
        Markup('<span class="verdict clean">clean</span>')
        if clean
        else Markup('<span class="verdict dirty">not clean</span>')
    )
    when = timestamp(run.started_at) or ""
    body = Markup("").join(
        [
            Markup("<header><h1>Cookie audit {}</h1>").format(verdict),
            Markup('<p class="meta"><code>{}</code> · {} · {} · {} s{}</p></header>').format(
                run.target,
                _driver(run.driver, run.browser),
                when.replace("T", " ")[:19] + " UTC" if when else "",
                f"{run.seconds:.1f}",
                Markup(" · policy: {}").format(run.policy_source) if run.policy_source else "",
            ),
            _stats(result),
            _problems(result),
            _matrix(result),
            Markup("<h2>Evidence, cookie by cookie</h2>"),
            Markup("").join(_cookie(finding, result) for finding in result.cookies)
            or Markup("<p>No cookie was stored in any state.</p>"),
            _states(result),
            Markup(
                "<footer>Written by consentware audit on {}. A cookie is one name on one "
                "domain; a violation is a cookie present in a state whose consent does not "
                "grant its category; an undeclared cookie under unknown_cookies = "
                '"block" is a violation wherever it appears.</footer>'
            ).format(datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ]
    )
    title = f"Cookie audit of {run.target}: {summary['violations']} violations"
    return str(
        Markup(
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>{}</title><style>{}</style></head><body><main>{}</main></body></html>\n"
        ).format(title, Markup(_CSS), body)
    )


def _driver(driver: str, browser: str) -> str:
    if driver == "chromium":
        return f"in {browser or 'Chromium'}"
    return f"in process ({driver.upper()})"


def _stats(result: AuditResult) -> Markup:
    summary = result.summary
    items = [
        ("", summary["cookies"], "cookies"),
        ("bad" if summary["violations"] else "", summary["violations"], "violations"),
        ("warn" if summary["undeclared"] else "", summary["undeclared"], "undeclared"),
        ("", len(result.run.pages), "pages"),
        (
            "warn" if result.unreached else "",
            f"{len(result.reached)}/{len(result.states)}",
            "states reached",
        ),
    ]
    return Markup('<div class="cards">{}</div>').format(
        Markup("").join(
            Markup('<div class="stat {}"><b>{}</b><span>{}</span></div>').format(k, v, label)
            for k, v, label in items
        )
    )


def _problems(result: AuditResult) -> Markup:
    parts = [
        Markup('<div class="note bad"><b>Incomplete audit:</b> {}</div>').format(problem)
        for problem in result.incomplete
    ]
    parts += [
        Markup('<div class="note"><b>Not reached: <code>{}</code></b> — {}</div>').format(
            state.name, state.reason
        )
        for state in result.unreached
        if not state.failed
    ]
    return Markup("").join(parts)


_LABELS: Final = {
    Cell.SEEN: "seen, allowed",
    Cell.VIOLATION: "seen in violation",
    Cell.ABSENT: "absent",
    Cell.UNREACHED: "state not reached",
}


def _matrix(result: AuditResult) -> Markup:
    head = Markup("").join(
        Markup('<th class="c" scope="col"><code>{}</code></th>').format(s) for s in result.states
    )
    rows = []
    for finding in result.cookies:
        cells = []
        for state in result.states:
            value = cell(finding, state, result)
            cells.append(
                Markup(
                    '<td class="c"><span class="cell {}" title="{}: {}" aria-label="{}">'
                    "{}</span></td>"
                ).format(
                    value.value,
                    state,
                    _LABELS[value],
                    _LABELS[value],
                    SYMBOLS[value],
                )
            )
        rows.append(
            Markup(
                '<tr><td class="name"><a href="#{}"><code>{}</code></a>{}</td><td>{}</td>{}</tr>'
            ).format(
                _anchor(finding),
                finding.name or "(nameless)",
                _category_tag(finding),
                ", ".join(finding.set_by),
                Markup("").join(cells),
            )
        )
    if not rows:
        rows.append(
            Markup('<tr><td colspan="{}">No cookie was stored.</td></tr>').format(
                len(result.states) + 2
            )
        )
    legend = Markup("").join(
        Markup('<span><span class="cell {}">{}</span> {}</span>').format(c.value, SYMBOLS[c], text)
        for c, text in LEGEND
    )
    return Markup(
        "<h2>Cookies by state</h2>"
        '<div class="wrap"><table class="matrix"><thead><tr><th scope="col">cookie</th>'
        '<th scope="col">set by</th>{}</tr></thead><tbody>{}</tbody></table></div>'
        '<div class="legend">{}</div>'
    ).format(head, Markup("").join(rows), legend)


def _category_tag(finding: CookieFinding) -> Markup:
    if not finding.declared:
        return Markup('<span class="tag undeclared">undeclared</span>')
    return Markup('<span class="tag">{}</span>').format(finding.category)


def _anchor(finding: CookieFinding) -> str:
    raw = f"{finding.name}@{finding.domain}"
    return "cookie-" + "".join(c if c.isalnum() else "-" for c in raw)


def _cookie(finding: CookieFinding, result: AuditResult) -> Markup:
    known = finding.classification
    classes = ["cookie"]
    if finding.violations:
        classes.append("has-violation")
    if not finding.declared:
        classes.append("is-undeclared")
    facts: list[tuple[str, Markup | str]] = [
        (
            "domain",
            Markup("<code>{}</code>{}").format(
                finding.domain, " (third party)" if finding.third_party else ""
            ),
        ),
        (
            "policy",
            Markup("category <b>{}</b>, rule <code>{}</code>").format(
                finding.category, finding.rule
            )
            if finding.declared
            else Markup("<b>undeclared</b>: no rule matches <code>{}</code>").format(
                finding.policy_name
            ),
        ),
        ("seen in", ", ".join(finding.seen_in)),
        ("set by", ", ".join(finding.set_by)),
        ("expires", timestamp(finding.longest_expiry) or "at the end of the session"),
    ]
    if known is not None:
        facts.append(
            (
                "cookie database",
                Markup("{} · {} · {}{}").format(
                    known.platform,
                    known.category,
                    known.retention,
                    Markup(" · entry for <code>{}</code>").format(known.domain)
                    if known.domain
                    else "",
                ),
            )
        )
        if known.description:
            facts.append(("described as", known.description))
    violations = Markup("").join(
        Markup("<li><code>{}</code>: {}</li>").format(v.state, v.reason) for v in finding.violations
    )
    return Markup(
        '<section class="{}" id="{}"><h3><code>{}</code>{}{}</h3><dl class="facts">{}</dl>'
        "{}<details{}><summary>Evidence ({} sightings)</summary>{}</details></section>"
    ).format(
        " ".join(classes),
        _anchor(finding),
        finding.name or "(nameless)",
        _category_tag(finding),
        Markup(' <span class="tag bad">{} violations</span>').format(len(finding.violations))
        if finding.violations
        else "",
        Markup("").join(Markup("<dt>{}</dt><dd>{}</dd>").format(k, v) for k, v in facts),
        Markup('<ul class="violations">{}</ul>').format(violations) if violations else "",
        Markup(" open") if finding.violations or not finding.declared else "",
        len(evidence(finding)),
        _evidence_table(evidence(finding)),
    )


def _evidence_table(sightings: list[Sighting]) -> Markup:
    rows = Markup("").join(
        Markup(
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td><code>{}</code>"
            "</td><td>{}</td><td>{}</td></tr>"
        ).format(
            s.state,
            s.page,
            describe_source(s.set_by, s.api, s.source),
            s.path,
            ", ".join(
                flag
                for flag, on in (
                    ("host-only", s.host_only),
                    ("Secure", s.secure),
                    ("HttpOnly", s.http_only),
                    (f"SameSite={s.same_site}", s.same_site != "default"),
                )
                if on
            ),
            timestamp(s.expires) or "session",
        )
        for s in sightings
    )
    return Markup(
        '<div class="wrap"><table class="evidence"><thead><tr><th>state</th><th>page</th>'
        "<th>how it was set</th><th>path</th><th>flags</th><th>expires</th></tr></thead>"
        "<tbody>{}</tbody></table></div>"
    ).format(rows)


def _states(result: AuditResult) -> Markup:
    rows = Markup("").join(_state_row(state) for state in result.run.states)
    return Markup(
        "<h2>States and pages</h2>"
        '<div class="wrap"><table><thead><tr><th>state</th><th>consent granted</th>'
        "<th>pages</th><th>time</th></tr></thead><tbody>{}</tbody></table></div>"
    ).format(rows)


def _state_row(state: StateVisit) -> Markup:
    if not state.reached:
        return Markup(
            '<tr><td><code>{}</code></td><td colspan="3">not reached: {}</td></tr>'
        ).format(state.name, state.reason)
    pages = Markup("").join(
        Markup("<li><code>{}</code> {}{}</li>").format(
            page.path, page.status or "", Markup(" — {}").format(page.error) if page.error else ""
        )
        for page in state.pages
    )
    reported = (
        Markup("<br><small>the site reports: {}</small>").format(", ".join(state.reported_granted))
        if state.reported_granted is not None
        else ""
    )
    return Markup(
        "<tr><td><code>{}</code></td><td>{}{}</td><td><details><summary>{} pages</summary>"
        "<ul>{}</ul></details></td><td>{} s</td></tr>"
    ).format(
        state.name,
        ", ".join(sorted(state.granted)),
        reported,
        len(state.pages),
        pages,
        f"{state.seconds:.1f}",
    )
