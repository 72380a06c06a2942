"""The consentware command: usage errors, the JSON contract, the reports, policy render/check."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from consentware import Policy
from consentware.audit import AuditOptions, render_html, render_markdown, run_audit
from tests.support.audit_apps import POLICY_TOML
from tests.support.cli import invoke

UNGUARDED = "tests.support.audit_apps:unguarded_wsgi"


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "cookies.toml"
    path.write_text(POLICY_TOML, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["audit", "nothing"], "write module:attribute"),
        (["audit", "no_such_module_x:app"], "cannot import 'no_such_module_x'"),
        (["audit", "examples.wsgi_app:nope"], "has no attribute 'nope'"),
        (["audit", "examples.wsgi_app:HOST"], "neither a WSGI app"),
        (["audit", "examples.flask_app:create_app"], "write it with (), as in"),
        (["audit", "ftp://example.org"], "http:// or https:// URL"),
        (["audit", "examples.wsgi_app:app", "--crawl", "0"], "--crawl: expected a positive"),
        (["audit", "examples.wsgi_app:app", "--path", "shop"], "starts with /"),
        (["audit", "examples.wsgi_app:app", "--states", "none,maybe"], "unknown state 'maybe'"),
        (["audit", "examples.wsgi_app:app", "--states", "only:ads"], "only:statistical"),
        (
            ["audit", "examples.wsgi_app:app", "--policy", "/no/such.toml"],
            "/no/such.toml: cannot read",
        ),
        (["audit", "examples.wsgi_app:app", "--cookie-database", "/no.csv"], "no such file"),
        (["audit", "examples.wsgi_app:app", "--format", "pdf"], "invalid choice: 'pdf'"),
        (["policy", "check", "/no/such.toml"], "/no/such.toml: cannot read"),
    ],
)
def test_usage_errors_exit_2_and_say_what_to_write(args: list[str], says: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert says in result.output


def test_a_bad_policy_names_the_file_and_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[cookies]]\nname = "_ga"\ncategory = "stats"\n', encoding="utf-8")
    for args in (
        ["policy", "check", str(bad)],
        ["audit", "examples.wsgi_app:app", "--policy", str(bad)],
    ):
        result = invoke(*args)
        assert result.exit_code == 2
        assert f"{bad}: cookies[0].category: unknown category 'stats'" in result.output
    csv = tmp_path / "not.csv"
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    result = invoke("audit", "examples.wsgi_app:app", "--cookie-database", str(csv))
    assert result.exit_code == 2
    assert "not an Open Cookie Database CSV" in result.output


def test_help_everywhere_with_examples() -> None:
    for args in (
        [],
        ["audit"],
        ["policy"],
        ["policy", "render"],
        ["policy", "check"],
    ):
        result = invoke(*args, "--help")
        assert result.exit_code == 0
        assert "examples:" in result.output
    assert "--write-policy" in invoke("audit", "--help").output
    assert invoke("--version").exit_code == 0


CONTRACT_COOKIE = {
    "name": str,
    "domain": str,
    "category": (str, type(None)),
    "declared": bool,
    "set_by": list,
    "seen_in": list,
    "violations": list,
    "classification": (dict, type(None)),
}


def test_the_json_report_keeps_the_contract(policy_file: Path) -> None:
    result = invoke("audit", UNGUARDED, "--policy", str(policy_file), "--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    for key, kind in {
        "target": str,
        "states": list,
        "pages": list,
        "cookies": list,
        "summary": dict,
    }.items():
        assert isinstance(document[key], kind), key
    assert document["target"] == UNGUARDED
    assert set(document["summary"]) == {"cookies", "violations", "undeclared"}
    assert document["summary"] == {
        "cookies": len(document["cookies"]),
        "violations": sum(len(c["violations"]) for c in document["cookies"]),
        "undeclared": sum(1 for c in document["cookies"] if not c["declared"]),
    }
    for cookie in document["cookies"]:
        for key, kind in CONTRACT_COOKIE.items():
            assert isinstance(cookie[key], kind), (cookie["name"], key)
        assert set(cookie["set_by"]) <= {"http", "script"}
        assert set(cookie["seen_in"]) <= set(document["states"])
        assert set(cookie["violations"]) <= set(cookie["seen_in"])
        assert cookie["declared"] is (cookie["category"] is not None)


def test_the_classification_carries_the_contract_keys(policy_file: Path) -> None:
    database = Path(__file__).resolve().parents[2] / "shared" / "data" / "open-cookie-database"
    csv = database / "open-cookie-database.csv"
    if not csv.is_file():
        pytest.skip("Open Cookie Database absent")
    result = invoke(
        "audit",
        UNGUARDED,
        "--policy",
        str(policy_file),
        "--cookie-database",
        str(csv),
        "--format",
        "json",
    )
    ga = next(c for c in json.loads(result.stdout)["cookies"] if c["name"] == "_ga")
    assert ga["classification"]["platform"] == "Google Analytics"
    assert ga["classification"]["category"] == "Analytics"
    assert ga["classification"]["retention"] == "2 years"


class _Checker(HTMLParser):
    VOID = frozenset(
        [
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "source",
            "track",
            "wbr",
        ]
    )

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.external: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if (
                name in ("src", "href", "action", "srcset", "poster")
                and value
                and not value.startswith("#")
            ):
                self.external.append(f"{tag} {name}={value}")
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:]}")
            return
        self.stack.pop()


def test_the_html_report_is_self_contained_and_well_formed(
    policy_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "audit.html"
    result = invoke(
        "audit", UNGUARDED, "--policy", str(policy_file), "--format", "html", "-o", str(out)
    )
    assert result.exit_code == 1
    html = out.read_text(encoding="utf-8")
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert checker.problems == []
    assert checker.stack == []
    assert checker.external == []  # nothing to load: no URL in src/href but #anchors
    assert "script" not in checker.tags
    assert "url(" not in html
    assert "@import" not in html
    # The matrix comes first, with symbols and words, not colour alone.
    assert html.index('class="matrix"') < html.index("Evidence, cookie by cookie")
    assert 'aria-label="seen in violation"' in html
    assert "✖" in html
    assert "●" in html


def test_site_text_is_escaped_in_html_and_markdown(tmp_path: Path) -> None:
    module = tmp_path / "hostile_app.py"
    module.write_text(
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain'),\n"
        "        ('Set-Cookie', '<script>x</script>|y=1; Path=/')])\n"
        "    return [b'hi']\n",
        encoding="utf-8",
    )
    import sys

    sys.path.insert(0, str(tmp_path))
    try:
        result = run_audit(AuditOptions(target="hostile_app:app"))
    finally:
        sys.path.remove(str(tmp_path))
    html = render_html(result)
    assert "<script>x" not in html
    assert "&lt;script&gt;x" in html
    markdown = render_markdown(result)
    assert "`<script>x</script>\\|y`" in markdown


def test_policy_check_explains_and_warns(tmp_path: Path) -> None:
    path = tmp_path / "cookies.toml"
    path.write_text(
        'unknown_cookies = "allow"\n[consent_cookie]\nhttp_only = false\nmax_age_days = 500\n'
        "[categories.ads]\ntitle = 'Advertising'\n"
        "[[cookies]]\nname = 're:s[0-9]+'\ncategory = 'necessary'\n"
        "[[cookies]]\nname = '_x*'\ncategory = 'ads'\n",
        encoding="utf-8",
    )
    result = invoke("policy", "check", str(path))
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "a valid policy" in out
    assert "2 categories, 3 rules" in out
    assert 'unknown_cookies = "allow"' in out
    assert "consent_cookie.http_only = false" in out
    assert "max_age_days = 500" in out
    assert "cookies[0] (re:s[0-9]+): a regex rule" in out
    assert "declared necessary lets any match pass" in out
    assert "categories.ads.gpc_opt_out is false" in out
    assert "no provider nor purpose" in out
    clean = invoke("policy", "check", str(Path("examples/demo/cookies.toml")))
    assert clean.exit_code == 0
    assert "no warnings" in clean.output


@pytest.mark.parametrize("fmt", ["html", "md", "json"])
def test_policy_render(fmt: str) -> None:
    result = invoke("policy", "render", "--format", fmt, "examples/demo/cookies.toml")
    assert result.exit_code == 0
    if fmt == "json":
        document = json.loads(result.output)
        assert (
            Policy.from_dict(
                {
                    "cookies": document["rules"],
                    "categories": {c["name"]: {} for c in document["categories"]},
                }
            ).category_of("_ga_X")
            == "statistical"
        )
    elif fmt == "md":
        assert result.output.startswith("# Cookie policy")
    else:
        assert result.output.startswith("<!doctype html>")
        assert 'action="/_consent"' in result.output
    assert invoke("policy", "render", "--format", fmt).exit_code == 0  # the default policy


def test_the_table_and_markdown_reports(policy_file: Path) -> None:
    result = invoke("audit", UNGUARDED, "--policy", str(policy_file), "--format", "table")
    assert result.exit_code == 1
    assert "_clck" in result.output
    assert "undeclared" in result.output
    assert "not reached reject" in result.output
    assert "not clean" in result.output
    markdown = invoke("audit", UNGUARDED, "--policy", str(policy_file), "--format", "markdown")
    assert "## Cookies by state" in markdown.output
    assert "| `_ga` | statistical | ✖ |" in markdown.output


def test_a_backtracking_regex_is_refused_by_the_policy_itself(tmp_path: Path) -> None:
    path = tmp_path / "cookies.toml"
    path.write_text("[[cookies]]\nname = 're:(a+)+'\ncategory = 'necessary'\n", encoding="utf-8")
    result = invoke("policy", "check", str(path))
    assert result.exit_code == 2
    assert f"{path}: cookies[0].name: regex '(a+)+' refused" in result.output
