"""Proof of consent: a receipt for every consent choice, kept off the request path.

GDPR art. 7(1) asks a site to demonstrate that each visitor consented; the EDPB's guidelines
05/2020 ask for a record of when and how, and of what the visitor was shown. Every consent
change served by ``POST /_consent`` makes one :class:`Receipt` and hands it to a sink: by
default :class:`LogReceipts` (a JSON line on the logger ``consentware.receipts``), or a store
that can find, export and prune them, such as :class:`SQLReceipts` (SQLite by default,
PostgreSQL at scale; needs the ``receipts`` or ``postgres`` extra). A receipt never holds an IP
address. See docs/receipts.md.

Example::

    from consentware.receipts import ReceiptRecorder, SQLReceipts

    receipts = SQLReceipts("sqlite:///consent-receipts.db", retention_days=395)
    recorder = ReceiptRecorder(receipts, user_agent_key=secret_key)
    recorder.record(consent_id=..., action="accept_all", granted=[...], refused=[], ...)

    receipts.find(consent_id)   # list of Receipt, oldest first
    receipts.prune()            # deletes what is past retention; returns how many

On the command line: ``consentware receipts --db URL find|export|prune`` (or
``python -m consentware.receipts``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._errors import InvalidReceipt, ReceiptError, StoreUnavailable
from ._memory import MemoryReceipts
from ._receipt import (
    ACTIONS,
    FIELD_NAMES,
    METHODS,
    Receipt,
    canonical_sha256,
    hash_user_agent,
    is_consent_id,
    is_language_tag,
    new_consent_id,
)
from ._recorder import EXIT_TIMEOUT, ReceiptBuilder, ReceiptRecorder, same_site_path
from ._sink import LOGGER_NAME, LogReceipts, ReceiptSink, ReceiptStore

if TYPE_CHECKING:
    from ._sql import DEFAULT_URL, SQLReceipts, default_spool_path

__all__ = [
    "ACTIONS",
    "DEFAULT_URL",
    "EXIT_TIMEOUT",
    "FIELD_NAMES",
    "LOGGER_NAME",
    "METHODS",
    "InvalidReceipt",
    "LogReceipts",
    "MemoryReceipts",
    "Receipt",
    "ReceiptBuilder",
    "ReceiptError",
    "ReceiptRecorder",
    "ReceiptSink",
    "ReceiptStore",
    "SQLReceipts",
    "StoreUnavailable",
    "canonical_sha256",
    "default_spool_path",
    "hash_user_agent",
    "is_consent_id",
    "is_language_tag",
    "new_consent_id",
    "same_site_path",
]

_NEEDS_SQLALCHEMY = frozenset({"SQLReceipts", "DEFAULT_URL", "default_spool_path"})


def __getattr__(name: str) -> Any:
    # SQLAlchemy is an extra: importing the package, the receipt and the log sink needs none.
    if name in _NEEDS_SQLALCHEMY:
        try:
            from . import _sql
        except ModuleNotFoundError as error:
            if error.name != "sqlalchemy":
                raise
            raise ImportError(
                f"consentware.receipts.{name} needs SQLAlchemy: "
                "pip install 'consentware[receipts]' (or 'consentware[postgres]')"
            ) from error
        return getattr(_sql, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
