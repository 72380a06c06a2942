"""The cookie policy page, rendered from the policy's registry as HTML, data or Markdown.

Each category's explanation comes first, then a table with the columns of a cookie policy:
*Service provider's name*, *Function and location*, *Cookie name(s)*, *Purposes* (and
duration). All three formats carry the same content, in one language (``language``, one the
policy offers; its default otherwise); every text is escaped (HTML with :mod:`markupsafe`,
Markdown with backslashes). In HTML, a text the policy has not translated is marked with the
language it is in.

Example::

    pages.policy_markdown(Policy.default(), "fr")   # paste into a README or a CMS
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from markupsafe import Markup, escape

from ..core.policy import Category, CookieRule, Policy
from ..core.state import ConsentState
from .banner import assets, banner_html
from .texts import Catalog, Words, catalog

__all__ = [
    "COLUMNS",
    "Row",
    "policy_document",
    "policy_markdown",
    "policy_page",
    "policy_rows",
]

_COLUMN_KEYS: Final = ("columns.provider", "columns.function", "columns.names", "columns.purposes")
#: The columns of the cookie table, in order, in English.
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
    """One line of a category's table: one provider and function, its cookies and purposes.

    ``provider``, ``function`` and each purpose and duration are the policy's own texts (a
    ``str``, or a :class:`~consentware.core.text.Text` in several languages); ``location`` and
    ``names`` are in the language the rows were made for.
    """

    provider: str
    function: str
    location: str
    names: tuple[str, ...]
    purposes: tuple[tuple[str, str], ...]  # (purpose, duration)


def policy_rows(policy: Policy, category: str, language: str | None = None) -> list[Row]:
    """The table rows of ``category``: its rules grouped by provider, function and location."""
    texts = catalog(policy)
    words = texts.words(language or texts.default)
    groups: dict[tuple[str, str, str], list[CookieRule]] = {}
    for rule in policy.rules:
        if rule.category == category:
            key = (rule.provider, rule.function, _location(rule, words))
            groups.setdefault(key, []).append(rule)
    rows = []
    for (provider, function, location), rules in groups.items():
        purposes = tuple(dict.fromkeys((r.purpose, r.duration) for r in rules))
        rows.append(
            Row(provider, function, location, tuple(_shown_name(r, words) for r in rules), purposes)
        )
    return rows


def _location(rule: CookieRule, words: Words) -> str:
    places = [domain or words["page.this_site"] for domain in rule.domains]
    where = ", ".join(dict.fromkeys(places))
    return where if rule.path == "/" else words.format("page.path", where=where, path=rule.path)


def _shown_name(rule: CookieRule, words: Words) -> str:
    if rule.kind == "prefix":
        return rule.pattern[:-1] + "…"
    if rule.kind == "regex":
        return words.format("page.matching", pattern=rule.pattern[3:])
    return rule.pattern


#: What a cell shows when the policy does not say (never an empty cell), in English.
NOT_STATED: Final = "Not stated"


def _fill(template: str, **values: Markup) -> Markup:
    """A message of the words as HTML, its ``{placeholders}`` filled with ready markup."""
    return Markup(escape(template)).format(**values)


class _Rendering:
    """The policy in one language: its words, and each of its texts resolved to it."""

    __slots__ = ("language", "policy", "texts", "words")

    def __init__(self, policy: Policy, language: str | None) -> None:
        self.policy = policy
        self.texts: Catalog = catalog(policy)
        offered = self.texts.offered
        self.language = language if language in offered else self.texts.default
        self.words: Words = self.texts.words(self.language)

    def text(self, value: str) -> str:
        return self.texts.text(value, self.language)[0]

    def html(self, value: str) -> Markup:
        return self.texts.markup(value, self.language)

    def purpose(self, purpose: str, duration: str) -> str:
        words = self.words
        if purpose and duration:
            return words.format(
                "page.purpose_duration", purpose=self.text(purpose), duration=self.text(duration)
            )
        if duration:
            return words.format("page.duration", duration=self.text(duration))
        return self.text(purpose) if purpose else words["page.not_stated"]

    def purpose_html(self, purpose: str, duration: str) -> Markup:
        words = self.words
        if purpose and duration:
            return _fill(
                words["page.purpose_duration"],
                purpose=self.html(purpose),
                duration=self.html(duration),
            )
        if duration:
            return _fill(words["page.duration"], duration=self.html(duration))
        return self.html(purpose) if purpose else escape(words["page.not_stated"])

    def intro(self) -> str:
        return self.words.format("page.intro", days=self.policy.consent_cookie.max_age_days)

    def gpc_note(self, category: Category) -> str:
        return self.words["page.gpc_note"] if category.gpc_opt_out else ""

    def rows(self, category: Category) -> list[Row]:
        return policy_rows(self.policy, category.name, self.language)

    def columns(self) -> list[str]:
        return [self.words[key] for key in _COLUMN_KEYS]


def policy_document(policy: Policy, language: str | None = None) -> dict[str, Any]:
    """The policy page's content as data (``?format=json``), in ``language``."""
    page = _Rendering(policy, language)
    settings = policy.consent_cookie
    return {
        "language": page.language,
        "languages": list(page.texts.offered),
        "revision": settings.revision,
        "consent_cookie": settings.name,
        "consent_max_age_days": settings.max_age_days,
        "columns": page.columns(),
        "categories": [
            {
                "name": category.name,
                "title": page.text(category.title),
                "description": page.text(category.description),
                "required": category.required,
                "gpc_opt_out": category.gpc_opt_out,
                "cookies": [
                    {
                        "provider": page.text(row.provider),
                        "function": page.text(row.function),
                        "location": row.location,
                        "names": list(row.names),
                        "purposes": [
                            {"purpose": page.text(purpose), "duration": page.text(duration)}
                            for purpose, duration in row.purposes
                        ],
                    }
                    for row in page.rows(category)
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


def policy_markdown(policy: Policy, language: str | None = None) -> str:
    """The policy page as Markdown (``?format=md``), in ``language``."""
    page = _Rendering(policy, language)
    words = page.words
    lines = [f"# {_md(words['page.title'])}", "", _md(page.intro()), ""]
    for category in policy.categories.values():
        lines += [f"## {_md(page.text(category.title))}", ""]
        if category.description:
            lines += [_md(page.text(category.description)), ""]
        if page.gpc_note(category):
            lines += [_md(page.gpc_note(category)), ""]
        rows = page.rows(category)
        if not rows:
            lines += [_md(words["page.no_cookies"]), ""]
            continue
        lines.append("| " + " | ".join(_md(c) for c in page.columns()) + " |")
        lines.append("|" + " --- |" * len(_COLUMN_KEYS))
        for row in rows:
            function = page.text(row.function)
            cells = [
                _md(page.text(row.provider) if row.provider else words["page.not_stated"]),
                _md(f"{function} — {row.location}" if function else row.location),
                ", ".join(f"`{_md_code(n)}`" for n in row.names),
                "<br>".join(_md(page.purpose(p, d)) for p, d in row.purposes),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _WHITESPACE.sub(" ", text).strip())


def _md_code(text: str) -> str:
    # Inside a code span only the backtick and the table's pipe need care.
    return _WHITESPACE.sub(" ", text).replace("`", "'").replace("|", "\\|")


def _html_table(page: _Rendering, category: Category) -> Markup:
    rows = page.rows(category)
    if not rows:
        return Markup('<p class="cw-empty">{}</p>').format(page.words["page.no_cookies"])
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(c) for c in page.columns())
    body = []
    for row in rows:
        names = Markup(", ").join(Markup("<code>{}</code>").format(n) for n in row.names)
        texts = [page.purpose_html(p, d) for p, d in row.purposes]
        purposes = (
            texts[0]
            if len(texts) == 1
            else Markup('<ul class="cw-purposes">{}</ul>').format(
                Markup("").join(Markup("<li>{}</li>").format(t) for t in texts)
            )
        )
        where = (
            Markup("{}<br><small>{}</small>").format(page.html(row.function), row.location)
            if row.function
            else Markup("<small>{}</small>").format(row.location)
        )
        provider = page.html(row.provider) if row.provider else page.words["page.not_stated"]
        body.append(
            Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>").format(
                provider, where, names, purposes
            )
        )
    heading = f"category-{category.name}-title"
    # A region of its own, focusable: a narrow window scrolls the table sideways, and a
    # keyboard user must be able to scroll it too.
    return Markup(
        '<div class="cw-table-wrap" role="region" tabindex="0" aria-labelledby="{}">'
        '<table class="cw-table"><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table></div>"
    ).format(heading, head, Markup("").join(body))


def _language_links(page: _Rendering, prefix: str) -> Markup:
    offered = page.texts.offered
    if len(offered) < 2:
        return Markup("")
    links = []
    for language in offered:
        name = page.texts.words(language)["language.name"]
        current = Markup(' aria-current="page"') if language == page.language else Markup("")
        links.append(
            Markup('<li><a href="{}/policy?lang={}" hreflang="{}" lang="{}"{}>{}</a></li>').format(
                prefix, language, language, language, current, name
            )
        )
    return Markup('<nav class="cw-languages" aria-label="{}"><ul>{}</ul></nav>').format(
        page.words["page.languages"], Markup("").join(links)
    )


def policy_page(
    policy: Policy,
    state: ConsentState,
    *,
    prefix: str = "/_consent",
    nonce: str | None = None,
    home: str = "/",
    language: str | None = None,
) -> str:
    """The policy page as a complete HTML document in ``language``, with the consent form to
    change a choice, a link back to the site (``home``, the app's mount point) and, when the
    policy offers several languages, links to the page in each."""
    page = _Rendering(policy, language)
    words = page.words
    sections = []
    for category in policy.categories.values():
        note = page.gpc_note(category)
        sections.append(
            Markup(
                '<section class="cw-category" id="category-{}">'
                '<h2 id="category-{}-title">{}</h2>{}{}{}</section>'
            ).format(
                category.name,
                category.name,
                page.html(category.title),
                Markup("<p>{}</p>").format(page.html(category.description))
                if category.description
                else "",
                Markup('<p class="cw-note">{}</p>').format(note) if note else "",
                _html_table(page, category),
            )
        )
    settings = policy.consent_cookie
    css = assets()["banner.css"].version
    lang_query = f"&lang={page.language}" if len(page.texts.offered) > 1 else ""
    form = banner_html(
        state,
        policy,
        prefix=prefix,
        next_url=f"{prefix}/policy",
        nonce=nonce,
        inline=True,
        language=page.language,
    )
    document = Markup(
        '<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{title}</title>"
        '<link rel="stylesheet" href="{prefix}/banner.css?v={css}"{nonce}>'
        '</head><body class="cw-page"><header class="cw-header"><nav aria-label="{site}">'
        '<a href="{home}">{back}</a></nav>{languages}</header><main class="cw-main">'
        "<h1>{title}</h1><p>{intro}</p>"
        '<p class="cw-meta">{revision} {formats} '
        '<a href="{prefix}/policy?format=json{lang_query}">JSON</a>, '
        '<a href="{prefix}/policy?format=md{lang_query}">Markdown</a>.</p>'
        "{sections}"
        '<h2 id="cw-choices">{choices}</h2>{form}'
        '<p class="cw-back"><a href="{home}">{back}</a></p>'
        "</main></body></html>"
    ).format(
        lang=page.language,
        title=words["page.title"],
        prefix=prefix,
        home=home,
        css=css,
        nonce=Markup(' nonce="{}"').format(nonce) if nonce else "",
        site=words["page.site"],
        back=words["page.back"],
        languages=_language_links(page, prefix),
        intro=page.intro(),
        revision=words.format("page.revision", revision=settings.revision),
        formats=words["page.formats"],
        lang_query=lang_query,
        sections=Markup("").join(sections),
        choices=words["page.choices"],
        form=form,
    )
    return str(document)
