"""Logging that never breaks a response, and warnings said once per enforcer.

Each :class:`~consentware.core.enforcer.Enforcer` owns one :class:`WarnOnce`: no warning state is
global, so two middlewares (or two tests) never silence each other.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
import traceback
from collections.abc import Sequence
from typing import Final

__all__ = ["WARNING_LIMIT", "WarnOnce", "log_safely", "logger"]

logger = logging.getLogger("consentware")


def log_safely(level: int, message: str, *args: object, exc_info: bool = False) -> None:
    """Log on ``consentware`` without ever raising into the request.

    The stdlib handlers route their own errors to ``handleError``, but a handler whose
    ``emit`` raises would otherwise break the response it was logging about. Its error is
    printed to stderr when :data:`logging.raiseExceptions` is true, as ``handleError`` does.
    """
    try:
        logger.log(level, message, *args, exc_info=exc_info)
    except Exception:
        if logging.raiseExceptions:
            with contextlib.suppress(Exception):
                traceback.print_exc(file=sys.stderr)


#: How many distinct warnings one enforcer logs (unknown names, misplaced cookies, ...).
WARNING_LIMIT: Final = 1000


class WarnOnce:
    """Memory of what was already warned about, bounded in entries and bytes.

    It keeps hashes, not the names themselves, so a flood of long unique names costs a few
    dozen bytes each; a collision only silences one warning.
    """

    def __init__(self) -> None:
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    def first_time(self, *key: str) -> bool:
        """Whether ``key`` is new (and now remembered); false once the limit is reached."""
        digest = hash(key)
        if digest in self._seen:
            return False
        with self._lock:
            if digest in self._seen or len(self._seen) > WARNING_LIMIT:
                return False
            self._seen.add(digest)
            if len(self._seen) > WARNING_LIMIT:
                log_safely(
                    logging.WARNING,
                    "more than %d distinct warnings; no further ones are logged",
                    WARNING_LIMIT,
                )
                return False
        return True

    def warn(self, name: str, where: str, *, outcome: str, categories: Sequence[str]) -> None:
        """Warn once about an unknown cookie ``name``: where it was seen, what became of it
        (``outcome``), and the TOML lines that would declare it."""
        if self.first_time("unknown", name):
            shown = name[:200]
            log_safely(
                logging.WARNING,
                "cookie %r %s matches no rule of the policy: %s. Declare it in the policy:\n"
                "[[cookies]]\nname = %s\ncategory = %s  # one of: %s",
                shown,
                where,
                outcome,
                json.dumps(shown),
                json.dumps(categories[0] if categories else "necessary"),
                ", ".join(categories),
            )

    def once(self, kind: str, key: str, message: str, *, level: int = logging.WARNING) -> None:
        """Log ``message`` the first time ``(kind, key)`` is seen."""
        if self.first_time(kind, key):
            log_safely(level, "%s", message)

    def __len__(self) -> int:
        return len(self._seen)
