"""The cookie policy page, rendered from the policy's registry as HTML, data or Markdown.

Each category's explanation comes first, then a table with the columns of a cookie policy:
*Service provider's name*, *Function and location*, *Cookie name(s)*, *Purposes* (and
duration). All three formats carry the same content; every text is escaped (HTML with
:mod:`markupsafe`, Markdown with backslashes).

Example::

    pages.policy_markdown(Policy.default())   # paste into a README or a CMS
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from markupsafe import Markup

from ..core.policy import Category, CookieRule, Policy
from ..core.state import ConsentState
from .banner import assets, banner_html

__all__ = [
    "COLUMNS",
    "Row",
    "policy_document",
    "policy_markdown",
    "policy_page",
    "policy_rows",
]

#: The columns of the cookie table, in order.
COLUMNS: Final = (
    "Service provider's name",
    "Function and location",
    "Cookie name(s)",
    "Purposes",
)
_MARKDOWN_SPECIAL: Final = re.compile(r"([\\`*_\[\]<>|~&#])")
_WHITESPACE: Final = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a category's table: one provider and function, its cookies and purposes."""

    provider: str
    function: str
    location: str
    names: tuple[str, ...]
    purposes: tuple[tuple[str, str], ...]  # (purpose, duration)


def policy_rows(policy: Policy, category: str) -> list[Row]:
    """The table rows of ``category``: its rules grouped by provider, function and location."""
    groups: dict[tuple[str, str, str], list[CookieRule]] = {}
    for rule in policy.rules:
        if rule.category == category:
            key = (rule.provider, rule.function, _location(rule))
            groups.setdefault(key, []).append(rule)
    rows = []
    for (provider, function, location), rules in groups.items():
        purposes = tuple(dict.fromkeys((r.purpose, r.duration) for r in rules))
        rows.append(
            Row(provider, function, location, tuple(_shown_name(r) for r in rules), purposes)
        )
    return rows


def _location(rule: CookieRule) -> str:
    places = [domain or "this site" for domain in rule.domains]
    where = ", ".join(dict.fromkeys(places))
    return where if rule.path == "/" else f"{where} (path {rule.path})"


def _shown_name(rule: CookieRule) -> str:
    if rule.kind == "prefix":
        return rule.pattern[:-1] + "…"
    if rule.kind == "regex":
        return f"names matching {rule.pattern[3:]}"
    return rule.pattern


#: What a cell shows when the policy does not say (never an empty cell).
NOT_STATED: Final = "Not stated"


def _purpose_text(purpose: str, duration: str) -> str:
    if purpose and duration:
        return f"{purpose} (duration: {duration})"
    if duration:
        return f"Duration: {duration}"
    return purpose or NOT_STATED


def policy_document(policy: Policy) -> dict[str, Any]:
    """The policy page's content as data (``?format=json``).

    ``rules`` is the registry in the policy schema (``Policy.from_dict`` reads it back).
    """
    settings = policy.consent_cookie
    return {
        "revision": settings.revision,
        "consent_cookie": settings.name,
        "consent_max_age_days": settings.max_age_days,
        "columns": list(COLUMNS),
        "categories": [
            {
                "name": category.name,
                "title": category.title,
                "description": category.description,
                "required": category.required,
                "gpc_opt_out": category.gpc_opt_out,
                "cookies": [
                    {
                        "provider": row.provider,
                        "function": row.function,
                        "location": row.location,
                        "names": list(row.names),
                        "purposes": [
                            {"purpose": purpose, "duration": duration}
                            for purpose, duration in row.purposes
                        ],
                    }
                    for row in policy_rows(policy, category.name)
                ],
            }
            for category in policy.categories.values()
        ],
        # The registry itself, in the policy schema, so that a tool (consentware audit) can
        # match cookie names as the middleware does: the rows above show names for people.
        "unknown_cookies": policy.unknown_cookies,
        "rules": [_rule_document(rule) for rule in policy.rules],
    }


def _rule_document(rule: CookieRule) -> dict[str, Any]:
    return {
        "name": rule.pattern,
        "category": rule.category,
        "provider": rule.provider,
        "function": rule.function,
        "purpose": rule.purpose,
        "duration": rule.duration,
        "domains": list(rule.domains),
        "path": rule.path,
        "partitioned": rule.partitioned,
    }


def _intro(policy: Policy) -> str:
    days = policy.consent_cookie.max_age_days
    return (
        "This site uses cookies. Necessary cookies make it work and need no consent; every "
        "other category is used only if you consent to it, and you can withdraw that consent "
        f"at any time. Your choice is kept for {days} days, after which we ask again."
    )


def _gpc_note(category: Category) -> str:
    if not category.gpc_opt_out:
        return ""
    return (
        "If your browser sends the Global Privacy Control signal, these cookies are refused "
        "whatever else you chose."
    )


def policy_markdown(policy: Policy) -> str:
    """The policy page as Markdown (``?format=md``)."""
    lines = ["# Cookie policy", "", _md(_intro(policy)), ""]
    for category in policy.categories.values():
        lines += [f"## {_md(category.title)}", ""]
        if category.description:
            lines += [_md(category.description), ""]
        if _gpc_note(category):
            lines += [_md(_gpc_note(category)), ""]
        rows = policy_rows(policy, category.name)
        if not rows:
            lines += ["No cookies of this category are declared.", ""]
            continue
        lines.append("| " + " | ".join(_md(c) for c in COLUMNS) + " |")
        lines.append("|" + " --- |" * len(COLUMNS))
        for row in rows:
            cells = [
                _md(row.provider or NOT_STATED),
                _md(f"{row.function} — {row.location}" if row.function else row.location),
                ", ".join(f"`{_md_code(n)}`" for n in row.names),
                "<br>".join(_md(_purpose_text(p, d)) for p, d in row.purposes),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _WHITESPACE.sub(" ", text).strip())


def _md_code(text: str) -> str:
    # Inside a code span only the backtick and the table's pipe need care.
    return _WHITESPACE.sub(" ", text).replace("`", "'").replace("|", "\\|")


def _html_table(policy: Policy, category: Category) -> Markup:
    rows = policy_rows(policy, category.name)
    if not rows:
        return Markup('<p class="cw-empty">No cookies of this category are declared.</p>')
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(c) for c in COLUMNS)
    body = []
    for row in rows:
        names = Markup(", ").join(Markup("<code>{}</code>").format(n) for n in row.names)
        texts = [_purpose_text(p, d) for p, d in row.purposes]
        purposes = (
            Markup("{}").format(texts[0])
            if len(texts) == 1
            else Markup('<ul class="cw-purposes">{}</ul>').format(
                Markup("").join(Markup("<li>{}</li>").format(t) for t in texts)
            )
        )
        where = (
            Markup("{}<br><small>{}</small>").format(row.function, row.location)
            if row.function
            else Markup("<small>{}</small>").format(row.location)
        )
        body.append(
            Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>").format(
                row.provider or NOT_STATED, where, names, purposes
            )
        )
    return Markup(
        '<div class="cw-table-wrap"><table class="cw-table"><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table></div>"
    ).format(head, Markup("").join(body))


def policy_page(
    policy: Policy,
    state: ConsentState,
    *,
    prefix: str = "/_consent",
    nonce: str | None = None,
    home: str = "/",
) -> str:
    """The policy page as a complete HTML document, with the consent form to change a choice
    and a link back to the site (``home``, the app's mount point)."""
    sections = []
    for category in policy.categories.values():
        note = _gpc_note(category)
        sections.append(
            Markup(
                '<section class="cw-category" id="category-{}"><h2>{}</h2>{}{}{}</section>'
            ).format(
                category.name,
                category.title,
                Markup("<p>{}</p>").format(category.description) if category.description else "",
                Markup('<p class="cw-note">{}</p>').format(note) if note else "",
                _html_table(policy, category),
            )
        )
    settings = policy.consent_cookie
    css = assets()["banner.css"].version
    form = banner_html(
        state, policy, prefix=prefix, next_url=f"{prefix}/policy", nonce=nonce, inline=True
    )
    page = Markup(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Cookie policy</title>"
        '<link rel="stylesheet" href="{prefix}/banner.css?v={css}"{nonce}>'
        '</head><body class="cw-page"><header class="cw-header"><nav aria-label="Site">'
        '<a href="{home}">Back to the site</a></nav></header><main class="cw-main">'
        "<h1>Cookie policy</h1><p>{intro}</p>"
        '<p class="cw-meta">Policy revision {revision}. Formats: '
        '<a href="{prefix}/policy?format=json">JSON</a>, '
        '<a href="{prefix}/policy?format=md">Markdown</a>.</p>'
        "{sections}"
        '<h2 id="cw-choices">Your choices</h2>{form}'
        '<p class="cw-back"><a href="{home}">Back to the site</a></p>'
        "</main></body></html>"
    ).format(
        prefix=prefix,
        home=home,
        css=css,
        nonce=Markup(' nonce="{}"').format(nonce) if nonce else "",
        intro=_intro(policy),
        revision=settings.revision,
        sections=Markup("").join(sections),
        form=form,
    )
    return str(page)
