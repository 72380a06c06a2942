"""consentware audit, in process: the examples, an unguarded app and a guarded one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from consentware import Policy
from consentware.audit import AuditOptions, CookieDatabase, json_document, run_audit
from consentware.audit._target import app_kind
from tests.support.audit_apps import POLICY_TOML
from tests.support.cli import invoke

ROOT = Path(__file__).resolve().parents[1]
DATABASE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "open-cookie-database"
    / "open-cookie-database.csv"
)


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "cookies.toml"
    path.write_text(POLICY_TOML, encoding="utf-8")
    return path


@pytest.fixture
def database() -> CookieDatabase:
    if not DATABASE.is_file():
        pytest.skip(f"Open Cookie Database absent: {DATABASE}")
    return CookieDatabase.from_csv(DATABASE)


def audit_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = invoke("audit", *args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def cookies_by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in document["cookies"]}


@pytest.mark.parametrize(
    "target",
    [
        "examples.wsgi_app:app",
        "examples.asgi_app:app",
        "examples.demo:create_app()",
        "examples.flask_app:create_app()",
        "examples.fastapi_app:create_app()",
        "tests.support.audit_apps:guarded_wsgi",
        "tests.support.audit_apps:guarded_asgi",
    ],
)
def test_a_guarded_app_is_clean_in_every_state(target: str) -> None:
    code, document = audit_json(target, "--crawl", "5")
    assert code == 0, document["cookies"]
    assert document["summary"]["violations"] == 0
    assert document["summary"]["undeclared"] == 0
    assert document["unreached_states"] == []
    assert document["states"][0] == "none"
    assert {"reject", "all", "gpc"} <= set(document["states"])
    # The consent cookie appears in every state a choice was made in, never in "none".
    consent = cookies_by_name(document)["cookies_preferences"]
    assert set(consent["seen_in"]) == set(document["states"]) - {"none"}


def test_the_guarded_shop_lets_each_cookie_out_only_with_its_consent() -> None:
    code, document = audit_json("tests.support.audit_apps:guarded_wsgi", "--crawl", "5")
    assert code == 0
    found = cookies_by_name(document)
    assert found["sessionid"]["seen_in"] == document["states"]
    assert found["_ga"]["seen_in"] == ["only:statistical", "all", "gpc"]
    # Advertising is refused under Sec-GPC: 1 even after "Accept all".
    assert found["_fbp"]["seen_in"] == ["only:third_party", "all"]
    # Undeclared cookies, from the page and from the pixel, never pass.
    assert "_clck" not in found
    assert "_hjSessionUser_42" not in found
    assert document["pages"] == ["/", "/shop", "/about"]
    assert document["audit"]["policy_source"] == "the app's consentware middleware"


def test_an_unguarded_app_without_a_consent_route_violates_and_says_what_it_could_not_reach(
    policy_file: Path,
) -> None:
    code, document = audit_json(
        "tests.support.audit_apps:unguarded_wsgi", "--policy", str(policy_file)
    )
    assert code == 1
    found = cookies_by_name(document)
    assert found["_ga"]["violations"] == ["none"]
    assert found["_fbp"]["violations"] == ["none"]
    assert found["sessionid"]["violations"] == []
    assert found["_clck"]["declared"] is False
    assert found["_clck"]["violations"] == ["none"]
    assert found["_hjSessionUser_42"]["set_by"] == ["http"]
    assert found["_hjSessionUser_42"]["evidence"][0]["source"] == "/px.gif"
    unreached = {s["state"] for s in document["unreached_states"]}
    assert unreached == set(document["states"]) - {"none"}
    assert all("no consent route" in s["reason"] for s in document["unreached_states"])


def test_an_app_that_only_reports_shows_its_trackers_in_every_state(tmp_path: Path) -> None:
    # The middleware in report mode serves the consent route and enforces nothing: what a
    # site with a banner and no enforcement looks like.
    policy = tmp_path / "report.toml"
    policy.write_text('mode = "report"\n' + POLICY_TOML, encoding="utf-8")
    module = tmp_path / "report_mode_app.py"
    module.write_text(
        "from consentware import Policy\n"
        "from consentware.wsgi import ConsentMiddleware\n"
        "from tests.support.audit_apps import unguarded_wsgi\n"
        f"app = ConsentMiddleware(unguarded_wsgi, Policy.from_toml({str(policy)!r}))\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(tmp_path))
    try:
        code, document = audit_json("report_mode_app:app")
    finally:
        sys.path.remove(str(tmp_path))
    assert code == 1
    found = cookies_by_name(document)
    assert found["_ga"]["seen_in"] == document["states"]
    assert found["_ga"]["violations"] == ["none", "reject", "only:third_party"]
    assert found["_fbp"]["violations"] == ["none", "reject", "only:statistical", "gpc"]
    assert found["_clck"]["violations"] == document["states"]


def test_an_asgi_app_gets_its_lifespan_and_is_told_from_wsgi() -> None:
    from tests.support import audit_apps

    assert app_kind(audit_apps.unguarded_asgi) == "asgi"
    assert app_kind(audit_apps.guarded_asgi) == "asgi"
    assert app_kind(audit_apps.unguarded_wsgi) == "wsgi"
    assert app_kind(audit_apps.guarded_wsgi) == "wsgi"
    assert app_kind(object()) is None
    result = run_audit(AuditOptions(target="tests.support.audit_apps:unguarded_asgi"))
    assert result.run.notes == ["ran the ASGI lifespan startup"]
    assert result.run.driver == "asgi"


def test_redirects_are_followed_and_the_cookie_database_classifies(
    database: CookieDatabase, policy_file: Path
) -> None:
    result = run_audit(
        AuditOptions(target="tests.support.audit_apps:unguarded_wsgi", paths=("/old",)),
        policy_path=policy_file,
        database=database,
    )
    page = result.run.states[0].pages[0]
    assert (page.path, page.final_url, page.status) == ("/old", "http://localhost/shop", 200)
    document = json_document(result)
    found = cookies_by_name(document)
    assert found["_clck"]["classification"]["category"] == "Analytics"
    assert found["_hjSessionUser_42"]["classification"]["platform"] == "Hotjar"  # a prefix row
    # The site's own rule wins: the database calls sessionid an Instagram marketing cookie.
    assert found["sessionid"]["category"] == "necessary"
    assert found["sessionid"]["classification"]["platform"] == "Instagram"
    assert found["sessionid"]["violations"] == []


def test_states_narrow_the_audit() -> None:
    code, document = audit_json("examples.wsgi_app:app", "--states", "reject, only:*")
    assert code == 0
    assert document["states"] == [
        "reject",
        "only:statistical",
        "only:first_party",
        "only:third_party",
    ]


def test_the_draft_policy_loads_and_makes_the_next_audit_free_of_undeclared_cookies(
    tmp_path: Path, policy_file: Path, database: CookieDatabase
) -> None:
    draft = tmp_path / "draft.toml"
    result = invoke(
        "audit",
        "tests.support.audit_apps:unguarded_wsgi",
        "--policy",
        str(policy_file),
        "--cookie-database",
        str(DATABASE),
        "--write-policy",
        str(draft),
        "--format",
        "json",
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["undeclared"] == 2
    text = draft.read_text(encoding="utf-8")
    policy = Policy.from_toml(draft)
    # Existing rules kept, the two undeclared cookies added and marked for review.
    assert policy.category_of("_ga") == "statistical"
    assert policy.category_of("_clck") == "statistical"  # Analytics -> statistics
    assert policy.match("_hjSessionUser_42") is not None
    assert policy.match("_hjSessionUser_42").pattern == "_hjSessionUser_*"  # type: ignore[union-attr]
    assert policy.category_of("_hjSessionUser_42") == "necessary"  # Functional -> necessary
    review_lines = [line for line in text.splitlines() if "# REVIEW:" in line]
    assert len(review_lines) >= 4
    assert any("Open Cookie Database says Analytics" in line for line in review_lines)
    again = run_audit(
        AuditOptions(target="tests.support.audit_apps:unguarded_wsgi"),
        policy_path=draft,
        database=database,
    )
    assert again.summary["undeclared"] == 0
    assert again.summary["violations"] > 0  # still unguarded: _ga before consent


def test_a_draft_without_any_policy_adds_the_categories_it_needs(
    tmp_path: Path, database: CookieDatabase
) -> None:
    result = run_audit(
        AuditOptions(target="tests.support.audit_apps:unguarded_asgi"), database=database
    )
    assert result.summary["undeclared"] == result.summary["cookies"] == 5
    from consentware.audit import draft_policy

    draft = tmp_path / "draft.toml"
    draft.write_text(draft_policy(result), encoding="utf-8")
    policy = Policy.from_toml(draft)
    assert policy.category_of("_ga") == "statistics"
    assert policy.category_of("_fbp") == "advertising"
    assert policy.categories["advertising"].gpc_opt_out
    # A framework's own cookie comes from its preset (extends), not from the cookie database,
    # where sessionid is Instagram's.
    assert policy.category_of("sessionid") == "necessary"
    assert "extends" in draft.read_text(encoding="utf-8")
    again = run_audit(
        AuditOptions(target="tests.support.audit_apps:unguarded_asgi"), policy_path=draft
    )
    assert again.summary["undeclared"] == 0


def test_django_in_process_through_python_m_consentware() -> None:
    pytest.importorskip("django")
    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "consentware",
            "audit",
            "examples.django_project.wsgi:application",
            "--format",
            "json",
            "--states",
            "none,reject,all",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    document = json.loads(answer.stdout)
    assert document["summary"]["violations"] == 0
    assert document["audit"]["driver"] == "wsgi"
    names = {c["name"] for c in document["cookies"]}
    assert "cookies_preferences" in names


def test_the_demo_in_process_reports_each_cookie_per_state() -> None:
    # `consentware audit 'examples.demo:create_app()'`: the demo's Set-Cookie lines, each in
    # the states that grant it. Its page script's demo_layout needs the browser (see
    # tests/test_audit_browser.py::test_the_demo_audits_itself).
    code, document = audit_json("examples.demo:create_app()", "--crawl", "5")
    assert code == 0
    assert document["states"] == [
        "none",
        "reject",
        "only:statistical",
        "only:first_party",
        "only:third_party",
        "all",
        "gpc",
    ]
    assert document["pages"] == ["/", "/article"]
    assert document["unreached_states"] == []
    assert document["summary"] == {"cookies": 6, "violations": 0, "undeclared": 0}
    seen = {c["name"]: c["seen_in"] for c in document["cookies"]}
    assert seen == {
        "sessionid": document["states"],
        "cookies_preferences": document["states"][1:],
        "_ga": ["only:statistical", "all", "gpc"],
        "_ga_DEMO42": ["only:statistical", "all", "gpc"],
        "demo_theme": ["only:first_party", "all", "gpc"],
        "_fbp": ["only:third_party", "all"],  # Sec-GPC: 1 refuses advertising
    }
    assert {tuple(c["set_by"]) for c in document["cookies"]} == {("http",)}


def test_a_draft_extends_the_framework_presets_that_declare_the_frameworks_cookies(
    tmp_path: Path,
) -> None:
    if getattr(Policy, "presets", None) is None:
        pytest.skip("this consentware has no built-in presets (Policy.presets)")
    target = "tests.support.audit_apps:flask_like_wsgi"
    result = run_audit(AuditOptions(target=target, states="none"))
    assert result.summary["undeclared"] == 3
    from consentware.audit import draft_policy

    draft = tmp_path / "draft.toml"
    draft.write_text(draft_policy(result), encoding="utf-8")
    text = draft.read_text(encoding="utf-8")
    assert 'extends = ["flask-login", "flask"]' in text  # session is Flask's under WSGI
    assert 'name = "session"' not in text
    assert 'name = "remember_token"' not in text
    assert 'name = "_ga"' in text  # not a framework's: written out, for review
    policy = Policy.from_toml(draft)
    assert policy.category_of("session") == "necessary"
    assert policy.category_of("remember_token") == "necessary"
    again = run_audit(AuditOptions(target=target, states="none"), policy_path=draft)
    assert again.summary["undeclared"] == 0
