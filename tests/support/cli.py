"""Run the ``consentware`` command in this process and keep what it printed.

Example::

    result = invoke("audit", "examples.wsgi_app:app", "--format", "json")
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

from consentware.cli import main


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        """Both streams, standard output first."""
        return self.stdout + self.stderr


def invoke(*args: str) -> Result:
    """``consentware ARGS``: its exit status (argparse's exits included) and its output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
    return Result(code, out.getvalue(), err.getvalue())
