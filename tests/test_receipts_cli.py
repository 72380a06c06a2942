"""``consentware receipts``: find, export, prune and replay, through ``consentware``, the
console script and ``python -m consentware.receipts``."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from consentware import cli
from consentware.receipts import FIELD_NAMES, Receipt, SQLReceipts
from tests.support.receipts import START, make_receipt, rows

MakeStore = Callable[..., SQLReceipts]


def fill(store: SQLReceipts) -> list[Receipt]:
    receipts = [
        make_receipt(n, consent_id=("alice", "bob")[n % 2], recorded_at=START + timedelta(days=n))
        for n in range(10)
    ]
    for receipt in receipts:
        store.submit(receipt)
    assert store.flush(10)
    return receipts


@pytest.fixture
def filled(make_store: MakeStore, store_url: str) -> tuple[str, list[Receipt]]:
    """A store on each backend, with ten receipts of two visitors."""
    return store_url, fill(make_store())


@pytest.fixture
def filled_sqlite(tmp_path: Path) -> Iterator[tuple[str, list[Receipt]]]:
    """The same on SQLite alone, for the commands run in a process of their own (the backend
    is the in-process tests' concern)."""
    url = f"sqlite:///{tmp_path / 'receipts.db'}"
    store = SQLReceipts(url, spool_path=tmp_path / "receipts.spool")
    try:
        yield url, fill(store)
    finally:
        store.close(10)


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@contextlib.contextmanager
def environment(env: dict[str, str] | None) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """``consentware receipts ARGS`` in process, as the console script runs it."""
    out, err = io.StringIO(), io.StringIO()
    with (
        environment(env),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = cli.main(["receipts", *args])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return Result(code, out.getvalue(), err.getvalue())


def test_receipts_is_a_subcommand_of_consentware() -> None:
    assert [s.name for s in cli.SUBCOMMANDS] == ["audit", "policy", "receipts"]
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("find", "export", "prune", "replay"):
        assert command in result.stdout


@pytest.mark.parametrize("command", [[], ["find"], ["export"], ["prune"], ["replay"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"usage: consentware receipts {' '.join(command)}".rstrip())
    if not command:
        assert "examples:" in result.stdout


def test_find_shows_one_visitors_history(filled: tuple[str, list[Receipt]]) -> None:
    url, receipts = filled
    result = invoke("--db", url, "find", "alice")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["recorded_at", "(UTC)"]
    alice = [r for r in receipts if r.consent_id == "alice"]
    assert len(lines) == 1 + len(alice)
    assert [line.split()[0] for line in lines[1:]] == [
        r.recorded_at.isoformat(timespec="seconds").removesuffix("+00:00") for r in alice
    ]


def test_find_as_jsonl_is_exact(filled: tuple[str, list[Receipt]]) -> None:
    url, receipts = filled
    result = invoke("--db", url, "find", "bob", "--format", "jsonl")
    found = [Receipt.from_json(line) for line in result.output.splitlines()]
    assert found == [r for r in receipts if r.consent_id == "bob"]


def test_find_nothing_exits_1(filled: tuple[str, list[Receipt]]) -> None:
    url, _ = filled
    result = invoke("--db", url, "find", "carol")
    assert result.exit_code == 1
    assert "no receipts for consent id 'carol'" in result.output


def test_export_jsonl_to_stdout_and_since(filled: tuple[str, list[Receipt]]) -> None:
    url, receipts = filled
    result = invoke("--db", url, "export")
    assert [Receipt.from_json(line) for line in result.stdout.splitlines()] == receipts
    assert "exported 10 receipts" in result.stderr
    since = (START + timedelta(days=7)).isoformat()
    result = invoke("--db", url, "export", "--since", since)
    assert [Receipt.from_json(line) for line in result.stdout.splitlines()] == receipts[7:]
    # A date alone is midnight UTC.
    result = invoke(
        "--db", url, "export", "--since", (START + timedelta(days=8)).date().isoformat()
    )
    assert len(result.stdout.splitlines()) == 2


def test_export_csv_to_a_file(filled: tuple[str, list[Receipt]], tmp_path: Path) -> None:
    url, receipts = filled
    out = tmp_path / "receipts.csv"
    result = invoke("--db", url, "export", "--format", "csv", "--output", str(out))
    assert result.exit_code == 0
    table = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert tuple(table[0]) == FIELD_NAMES
    assert len(table) == 11
    first = dict(zip(FIELD_NAMES, table[1], strict=True))
    expected = receipts[0]
    assert first["receipt_id"] == expected.receipt_id
    assert first["granted"] == " ".join(expected.granted)
    assert first["refused"] == " ".join(expected.refused)
    assert first["gpc"] == ("true" if expected.gpc else "false")
    assert first["recorded_at"] == expected.recorded_at.isoformat()
    assert first["language"] == (expected.language or "")


def test_prune_with_a_clock_and_a_retention(filled: tuple[str, list[Receipt]]) -> None:
    url, receipts = filled
    now = (START + timedelta(days=35)).isoformat()
    result = invoke("--db", url, "prune", "--retention-days", "30", "--now", now)
    assert result.exit_code == 0
    assert result.output.startswith("pruned 5 receipts recorded before 2025-03-06")
    remaining = invoke("--db", url, "export").stdout.splitlines()
    assert [Receipt.from_json(line) for line in remaining] == receipts[5:]


def test_the_database_comes_from_the_environment(filled: tuple[str, list[Receipt]]) -> None:
    url, _ = filled
    result = invoke("find", "alice", env={"CONSENTWARE_RECEIPTS_DB": url})
    assert result.exit_code == 0


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert invoke("find", "x", env={"CONSENTWARE_RECEIPTS_DB": ""}).exit_code == 2
    missing = invoke("--db", f"sqlite:///{tmp_path / 'typo.db'}", "find", "x")
    assert missing.exit_code == 2
    assert "no SQLite database" in missing.output
    assert not (tmp_path / "typo.db").exists()
    assert invoke("--db", "nonsense", "find", "x").exit_code == 2
    assert invoke("--db", "sqlite://", "export", "--since", "yesterday").exit_code == 2
    assert invoke("--db", "sqlite://", "prune", "--retention-days", "0").exit_code == 2
    assert invoke("--db", "sqlite://", "export", "--format", "xml").exit_code == 2
    assert invoke("--db", "sqlite://").exit_code == 2


def test_replay_writes_a_left_spool(make_store: MakeStore, store_url: str, tmp_path: Path) -> None:
    store = make_store()
    store.submit(make_receipt(0))
    assert store.flush(10)
    spool = tmp_path / "left.spool"
    left = [make_receipt(n) for n in range(1, 6)]
    spool.write_text("".join(r.to_json() + "\n" for r in left))
    # Before the replay, find and export already count what the spool holds.
    exported = invoke("--db", store_url, "--spool", str(spool), "export").stdout.splitlines()
    assert len(exported) == 6
    result = invoke("--db", store_url, "--spool", str(spool), "replay")
    assert result.exit_code == 0, result.output
    assert len(rows(store)) == 6
    assert not spool.exists()


@pytest.mark.postgres
def test_an_unreachable_database_exits_3(
    postgres_server: object, postgres_url: str, tmp_path: Path
) -> None:
    from tests.support.postgres import PostgresServer

    assert isinstance(postgres_server, PostgresServer)
    postgres_server.stop()
    try:
        result = invoke("--db", postgres_url, "--spool", str(tmp_path / "s"), "find", "alice")
        assert result.exit_code == 3
        assert "cannot read" in result.output
        assert "error:" in result.output
    finally:
        postgres_server.start()


def test_python_dash_m(filled_sqlite: tuple[str, list[Receipt]]) -> None:
    url, receipts = filled_sqlite
    env = {**os.environ, "CONSENTWARE_RECEIPTS_DB": url}
    done = subprocess.run(
        [sys.executable, "-m", "consentware.receipts", "export", "--format", "jsonl"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["receipt_id"] for line in done.stdout.splitlines()] == [
        r.receipt_id for r in receipts
    ]
    helped = subprocess.run(
        [sys.executable, "-m", "consentware.receipts", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert helped.returncode == 0
    assert "usage: python -m consentware.receipts" in helped.stdout


def test_the_console_script(filled_sqlite: tuple[str, list[Receipt]]) -> None:
    url, receipts = filled_sqlite
    script = shutil.which("consentware", path=str(Path(sys.executable).parent))
    assert script is not None, "pip install -e . installs the consentware script"
    done = subprocess.run(
        [script, "receipts", "--db", url, "find", "alice", "--format", "jsonl"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert [Receipt.from_json(line) for line in done.stdout.splitlines()] == [
        r for r in receipts if r.consent_id == "alice"
    ]
