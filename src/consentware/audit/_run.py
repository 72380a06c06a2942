"""One audit from start to verdict: pick the driver, find the policy, judge what was seen.

Example::

    result = run_audit(AuditOptions(target="examples.wsgi_app:app"))
    result.exit_code
"""

from __future__ import annotations

import asyncio
import os

from consentware import Policy

from ._database import CookieDatabase
from ._errors import UsageError
from ._findings import AuditResult, judge
from ._inprocess import audit_app
from ._model import Run
from ._options import AuditOptions, ProgressCallback
from ._policy_source import load_policy_file
from ._target import is_app_target, load_target

__all__ = ["load_database", "run_audit"]


def load_database(path: str | os.PathLike[str]) -> CookieDatabase:
    """``--cookie-database``: the Open Cookie Database CSV, or a :class:`UsageError`."""
    shown = os.fspath(path)
    try:
        return CookieDatabase.from_csv(path)
    except FileNotFoundError:
        raise UsageError(f"--cookie-database {shown}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--cookie-database {shown}: cannot read it ({exc})") from None
    except ValueError as exc:
        raise UsageError(f"--cookie-database {exc}") from None


def run_audit(
    options: AuditOptions,
    *,
    policy_path: str | os.PathLike[str] | None = None,
    database: CookieDatabase | None = None,
    progress: ProgressCallback | None = None,
) -> AuditResult:
    """Audit ``options.target`` and judge it; :class:`UsageError` for what the user must fix."""
    policy = load_policy_file(policy_path) if policy_path is not None else None
    run: Run
    judged_by: Policy | None
    if is_app_target(options.target):
        loaded = load_target(options.target)
        run, judged_by = asyncio.run(audit_app(loaded, options, policy=policy, progress=progress))
    elif options.target.startswith(("http://", "https://")):
        from ._browser import audit_site  # Playwright is the audit extra's, imported on use

        run, judged_by = asyncio.run(audit_site(options, policy=policy, progress=progress))
    else:
        raise UsageError(
            f"TARGET {options.target!r}: write module:attribute (a WSGI or ASGI app, such as "
            "examples.wsgi_app:app) or an http:// or https:// URL"
        )
    if policy_path is not None:
        run.policy_source = os.fspath(policy_path)
    return judge(run, judged_by, database)
