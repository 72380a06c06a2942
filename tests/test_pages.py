"""The cookie policy page at ``/_consent/policy``: HTML, JSON and Markdown, all escaped."""

from __future__ import annotations

import json
import re

import pytest

from consentware import ConsentCookie, Policy
from consentware.web.pages import COLUMNS, policy_document, policy_markdown, policy_page
from tests.test_banner import Tree
from tests.test_endpoint import KINDS, call, middleware


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


HOSTILE = Policy.from_dict(
    {
        "categories": {
            "ads": {
                "title": "Ads <b>& more</b>",
                "description": "Shown | piped <script>alert(1)</script>",
                "gpc_opt_out": True,
            },
            "empty": {"title": "Nothing here"},
        },
        "cookies": [
            {
                "name": "ad_id",
                "category": "ads",
                "provider": 'Evil "Corp" <img src=x onerror=alert(1)>',
                "function": "Tracking | profiling",
                "purpose": "Follows *you* [everywhere](http://evil.example)",
                "duration": "1 year",
                "domains": ["", "example.org"],
            },
            {
                "name": "ad_seg_*",
                "category": "ads",
                "provider": 'Evil "Corp" <img src=x onerror=alert(1)>',
                "function": "Tracking | profiling",
                "purpose": "Segments",
                "duration": "30 days",
                "domains": ["", "example.org"],
            },
            {"name": "re:x_[0-9]+", "category": "ads", "provider": "X", "path": "/shop"},
        ],
    }
)


def test_html_has_each_explanation_before_its_table(kind: str) -> None:
    answer = call(kind, middleware(kind), "GET", "/_consent/policy")
    assert answer.status == 200
    assert answer.header("content-type") == "text/html; charset=utf-8"
    csp = answer.header("content-security-policy") or ""
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp
    html = answer.body.decode()
    policy = Policy.default()
    position = 0
    for category in policy.categories.values():
        heading = f'<h2 id="category-{category.name}-title">{category.title}</h2>'
        title_at = html.index(heading, position)
        if category.description:
            description_at = html.index(category.description, title_at)
            table_at = html.index("<table", title_at)
            assert description_at < table_at
        position = title_at + 1


def test_html_table_has_the_four_columns_and_every_cookie() -> None:
    policy = Policy.default()
    tree = Tree(policy_page(policy, ConsentCookie(policy).loads(None)))
    headers = [th.text for th in tree.find("th")]
    assert headers[:4] == list(COLUMNS)
    assert headers[:4] == [
        "Service provider's name",
        "Function and location",
        "Cookie name(s)",
        "Purposes",
    ]
    codes = {c.text for c in tree.find("code")}
    for rule in policy.rules:
        shown = rule.pattern[:-1] + "…" if rule.kind == "prefix" else rule.pattern
        assert shown in codes
    cells = " ".join(td.text for td in tree.find("td"))
    assert "Distinguishes visitors. (duration: 13 months)" in cells
    assert "Audience measurement (Google Analytics)" in cells
    assert "this site" in cells


def test_html_page_offers_the_consent_form_inline(kind: str) -> None:
    answer = call(kind, middleware(kind), "GET", "/_consent/policy")
    tree = Tree(answer.body.decode())
    (form,) = tree.find("form")
    assert form.attrs["action"] == "/_consent"
    (section,) = tree.find("section", id="consentware-banner")
    assert "hidden" not in section.attrs
    assert "consentware--page" in (section.attrs["class"] or "")
    (next_field,) = tree.find("input", type="hidden")
    assert next_field.attrs["value"] == "/_consent/policy"
    links = [link.attrs["href"] for link in tree.find("link")]
    assert all((href or "").startswith("/_consent/banner.css") for href in links)


def test_html_escapes_every_text() -> None:
    html = policy_page(HOSTILE, ConsentCookie(HOSTILE).loads(None))
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Evil &#34;Corp&#34; &lt;img" in html
    tree = Tree(html)
    assert [s.attrs.get("src", "").startswith("/_consent/") for s in tree.find("script")] == [True]
    assert not tree.find("img")
    assert "Global Privacy Control" in html
    assert "No cookies of this category are declared." in html
    assert "this site, example.org" in html
    assert "(path /shop)" in html
    assert "names matching x_[0-9]+" in html


def test_json_format_has_the_same_content(kind: str) -> None:
    answer = call(kind, middleware(kind), "GET", "/_consent/policy", query="format=json")
    assert answer.status == 200
    assert answer.header("content-type") == "application/json"
    document = answer.json()
    assert document == json.loads(json.dumps(policy_document(Policy.default())))
    assert document["columns"] == list(COLUMNS)
    statistical = next(c for c in document["categories"] if c["name"] == "statistical")
    assert statistical["title"] == "Statistics"
    (row,) = statistical["cookies"]
    assert row["provider"] == "Google"
    assert row["names"] == ["_ga", "_ga_…", "_gid", "_gat…"]
    assert {"purpose": "Distinguishes visitors.", "duration": "13 months"} in row["purposes"]
    third = next(c for c in document["categories"] if c["name"] == "third_party")
    assert third["gpc_opt_out"] is True


def test_markdown_format_is_a_table_per_category(kind: str) -> None:
    answer = call(kind, middleware(kind), "GET", "/_consent/policy", query="format=md")
    assert answer.status == 200
    assert answer.header("content-type") == "text/markdown; charset=utf-8"
    text = answer.body.decode()
    assert text.startswith("# Cookie policy\n")
    assert "## Statistics" in text
    assert "| Service provider's name | Function and location | Cookie name(s) | Purposes |" in text
    assert "| `_ga`, `_ga_…`, `_gid`, `_gat…` |" in text


def test_markdown_escapes_what_would_break_the_table_or_inject_html() -> None:
    text = policy_markdown(HOSTILE)
    assert not re.search(r"(?<!\\)<(script|img|b>)", text)
    assert "\\<img src=x" in text
    assert "Tracking \\| profiling" in text
    assert "Shown \\| piped \\<script\\>" in text
    assert "\\[everywhere\\]" in text
    for line in text.splitlines():
        if line.startswith("| ") and "---" not in line:
            unescaped = line.replace("\\|", "")
            assert unescaped.count("|") == len(COLUMNS) + 1, line


@pytest.mark.parametrize(
    ("query", "status"),
    [
        pytest.param("format=html", 200, id="html"),
        pytest.param("format=markdown", 200, id="markdown-alias"),
        pytest.param("format=pdf", 400, id="unknown"),
        pytest.param("format=%3Cscript%3E", 400, id="hostile"),
    ],
)
def test_formats(kind: str, query: str, status: int) -> None:
    answer = call(kind, middleware(kind), "GET", "/_consent/policy", query=query)
    assert answer.status == status
    if status == 400:
        assert answer.header("content-type") == "text/plain; charset=utf-8"
        assert answer.header("x-content-type-options") == "nosniff"


def test_head_policy_page(kind: str) -> None:
    answer = call(kind, middleware(kind), "HEAD", "/_consent/policy")
    assert answer.status == 200
    assert answer.body == b""
    assert int(answer.header("content-length") or 0) > 1000


def test_policy_page_reflects_the_visitors_choice() -> None:
    policy = Policy.default()
    codec = ConsentCookie(policy)
    tree = Tree(policy_page(policy, codec.loads(codec.dumps(["first_party"]))))
    ticked = {b.attrs["value"] for b in tree.find("input", type="checkbox") if "checked" in b.attrs}
    assert ticked == {"necessary", "first_party"}


# -- the page's own faults, found by a new user ---------------------------------------------


BARE_RULE = Policy.from_dict(
    {
        "categories": {"statistical": {"title": "Statistics"}},
        "cookies": [{"name": "_bare", "category": "statistical"}],
    }
)


def _undecided_page(policy: Policy = BARE_RULE, prefix: str = "/_consent", home: str = "/") -> str:
    state = ConsentCookie(policy).loads(None)
    return policy_page(policy, state, prefix=prefix, home=home)


def test_the_stylesheet_is_linked_once() -> None:
    assert _undecided_page().count("banner.css") == 1


def test_the_choices_form_does_not_link_to_the_page_itself() -> None:
    page = _undecided_page()
    choices = page[page.index('id="cw-choices"') :]
    assert 'href="/_consent/policy"' not in choices
    # The form follows its heading at once: no empty title or text in between.
    assert "consentware__title" not in choices
    assert "consentware__text" not in choices


@pytest.mark.parametrize(
    ("home", "expected"),
    [pytest.param("/", "/", id="root"), pytest.param("/shop/", "/shop/", id="mounted")],
)
def test_the_page_links_back_to_the_site(home: str, expected: str) -> None:
    page = _undecided_page(home=home)
    assert page.count(f'href="{expected}"') == 2  # at the top and after the choices
    assert "Back to the site" in page


def test_a_rule_without_provider_or_purpose_has_no_empty_cell() -> None:
    page = _undecided_page()
    assert "<td></td>" not in page
    assert "<li></li>" not in page
    assert "Not stated" in page
    markdown = policy_markdown(BARE_RULE)
    assert "|  |" not in markdown
    assert "Not stated" in markdown


def test_the_mounted_policy_page_links_back_under_the_mount(kind: str) -> None:
    answer = call(kind, middleware(kind), "GET", "/_consent/policy", root_path="/shop")
    assert answer.status == 200
    assert 'href="/shop/"' in answer.body.decode()


def test_the_json_page_carries_the_registry_in_the_policy_schema() -> None:
    # consentware audit matches a live site's cookies with these rules.
    policy = Policy.default()
    document = policy_document(policy)
    assert document["unknown_cookies"] == "block"
    assert [rule["name"] for rule in document["rules"]] == [r.pattern for r in policy.rules]
    again = Policy.from_dict(
        {
            "cookies": document["rules"],
            "categories": {c["name"]: {"title": c["title"]} for c in document["categories"]},
        }
    )
    for name in ("_ga", "_ga_X1", "_gat_UA", "sessionid", "_fbp", "unknown"):
        assert again.category_of(name) == policy.category_of(name)
