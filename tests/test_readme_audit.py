"""The README's "Audit your site" commands that audit the demo in process run, and are clean."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.support.cli import invoke

README = Path(__file__).resolve().parents[1] / "README.md"


def in_process_audits() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Audit your site", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^consentware audit '[^']+'.*$", section, re.MULTILINE)
    assert len(commands) >= 2, "the README's audit section lost its in-process commands"
    return commands


@pytest.mark.parametrize("command", in_process_audits())
def test_the_readmes_in_process_audit_of_the_demo_is_clean(command: str) -> None:
    result = invoke(*shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    assert "demo_layout" not in result.stdout  # a page script's: only the browser sees it
