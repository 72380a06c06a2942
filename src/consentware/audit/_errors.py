"""The audit's errors: a usage error is the user's to fix, and exits with status 2.

Example::

    raise UsageError("--crawl: expected a positive number of pages, got 0")
"""

from __future__ import annotations

__all__ = ["AuditError", "UsageError"]


class AuditError(Exception):
    """Something stopped the audit."""


class UsageError(AuditError, ValueError):
    """The command line (or a file it names) is wrong; the message says what to write."""
