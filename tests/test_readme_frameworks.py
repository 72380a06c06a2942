"""Every framework section of the docs is copy-paste runnable: each marked code block runs.

A block follows a marker comment ``<!-- test: NAME -->`` in ``docs/frameworks.md`` (and in
``README.md`` once its sections are pasted there). The block is written to ``app.py`` in a
fresh directory and run in a child process of its own (Django settings can be configured only
once per process): apps are served on loopback and driven over HTTP through a whole consent
flow; scripts are run and their output compared with what the docs show.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.cookies import set_names

ROOT = Path(__file__).resolve().parents[1]
SOURCES = (ROOT / "docs" / "frameworks.md", ROOT / "README.md")
MARKED = re.compile(r"<!-- test: (?P<name>[\w-]+) -->\s*```python\n(?P<code>.*?)```", re.DOTALL)
#: How each named block is served: (server kinds, cookies that must always arrive).
APPS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "flask": (("wsgi",), frozenset({"session"})),
    "fastapi": (("asgi",), frozenset({"session"})),
    "django": (("django-wsgi", "django-asgi"), frozenset({"sessionid", "csrftoken"})),
}
SCRIPTS = frozenset({"consent-mode"})
START_TIMEOUT = 30.0

DRIVER = """
import importlib, sys
sys.path.insert(0, sys.argv[1])
module = importlib.import_module("app")
from tests.support.servers import serve_asgi, serve_wsgi
kind = sys.argv[2]
if kind == "django-wsgi":
    from django.core.wsgi import get_wsgi_application
    target, serve = get_wsgi_application(), serve_wsgi
elif kind == "django-asgi":
    target, serve = module.application, serve_asgi
else:
    target, serve = module.app, serve_asgi if kind == "asgi" else serve_wsgi
with serve(target) as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""


def blocks() -> list[tuple[Path, str, str, str]]:
    found = []
    for source in SOURCES:
        if source.is_file():
            text = source.read_text(encoding="utf-8")
            for match in MARKED.finditer(text):
                rest = text[match.end() :]
                found.append((source, match["name"], match["code"], rest))
    return found


BLOCKS = blocks()


def cases(kind: str) -> list[object]:
    params = []
    for source, name, code, rest in BLOCKS:
        label = f"{source.name}:{name}"
        if kind == "app" and name in APPS:
            servers, necessary = APPS[name]
            params.extend(
                pytest.param(code, server, necessary, id=f"{label}:{server}") for server in servers
            )
        elif kind == "script" and name in SCRIPTS:
            params.append(pytest.param(code, rest, id=label))
    return params


def test_the_docs_mark_every_framework_section() -> None:
    names = {name for source, name, _, _ in BLOCKS if source.name == "frameworks.md"}
    assert names == set(APPS) | SCRIPTS


@contextmanager
def serving(code: str, kind: str, workdir: Path) -> Iterator[str]:
    (workdir / "app.py").write_text(code, encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-c", DRIVER, str(workdir), kind],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(START_TIMEOUT)
    try:
        if not lines or not lines[0].startswith("http://"):
            process.kill()
            _, errors = process.communicate(timeout=10)
            pytest.fail(f"the docs' {kind} app did not start:\n{errors}")
        yield lines[0].strip()
    finally:
        if process.poll() is None:
            process.stdin.close()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        process.stdout.close()
        if process.stderr is not None:
            process.stderr.close()


def cookie_names(response: httpx.Response) -> set[str]:
    return set_names(response.headers.get_list("set-cookie"))


@pytest.mark.e2e
@pytest.mark.parametrize(("code", "kind", "necessary"), cases("app"))
def test_framework_section_runs_a_whole_consent_flow(
    code: str, kind: str, necessary: frozenset[str], tmp_path: Path
) -> None:
    with serving(code, kind, tmp_path) as url, httpx.Client(base_url=url) as client:
        first = client.get("/")
        assert first.status_code == 200, first.text
        assert cookie_names(first) >= necessary
        assert "_ga" not in cookie_names(first)
        assert "Statistics allowed: False" in first.text
        assert '"analytics_storage":"denied"' in first.text
        assert 'action="/_consent"' in first.text

        saved = client.post(
            "/_consent",
            data={"action": "save", "category": "statistical", "next": "/"},
            headers={"Origin": url},
        )
        assert saved.status_code == 303
        granted = client.get("/")
        assert "_ga" in cookie_names(granted)
        assert "Statistics allowed: True" in granted.text
        assert '"analytics_storage":"granted"' in granted.text

        withdrawn = client.post("/_consent", data={"action": "reject_all"}, headers={"Origin": url})
        assert withdrawn.status_code == 303
        assert "_ga" not in client.cookies
        assert necessary <= set(client.cookies.keys())


@pytest.mark.parametrize(("code", "rest"), cases("script"))
def test_consent_mode_section_prints_what_the_docs_show(
    code: str, rest: str, tmp_path: Path
) -> None:
    (tmp_path / "app.py").write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    defaults_line, script_line = done.stdout.strip().splitlines()
    defaults = ast.literal_eval(defaults_line)
    assert {k for k, v in defaults.items() if v == "granted"} == {
        "analytics_storage",
        "security_storage",
    }
    shown = re.search(r"```html\n(?P<html>.*?)\n```", rest, re.DOTALL)
    assert shown is not None, "the docs show the script's output"
    assert script_line == shown["html"]
