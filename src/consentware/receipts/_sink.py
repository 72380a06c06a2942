"""Where receipts go: the sink interface, and the default sink that logs them.

A sink takes receipts on the request path, so ``submit`` must return at once and never raise;
everything slow (a database, a network) happens later, on the sink's own thread. A *store* is
a sink that can also answer for what it kept: ``find``, ``export`` and ``prune``. Write another
sink (a message queue, an HTTP collector) by implementing :class:`ReceiptSink`; nothing needs to
inherit from it, the protocol is structural.

Example, a sink that hands receipts to a queue another thread reads::

    class QueueSink:
        def __init__(self, out: queue.Queue[Receipt]) -> None:
            self.out = out

        def submit(self, receipt: Receipt) -> None:
            try:
                self.out.put_nowait(receipt)
            except queue.Full:
                logging.getLogger("consentware.receipts").error(
                    "receipt not kept: %s", receipt.to_json()
                )

        def flush(self, timeout: float | None = None) -> bool:
            return self.out.empty()

        def close(self, timeout: float | None = None) -> None:
            pass

Without a configured store, receipts go to :class:`LogReceipts`: one JSON line each at INFO on
the logger ``consentware.receipts``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Final, Protocol, runtime_checkable

from ._receipt import Receipt

__all__ = ["LOGGER_NAME", "LogReceipts", "ReceiptSink", "ReceiptStore", "log_unkept"]

#: The logger every receipt sink reports on (and ``LogReceipts`` writes receipts to).
LOGGER_NAME: Final = "consentware.receipts"
logger = logging.getLogger(LOGGER_NAME)


@runtime_checkable
class ReceiptSink(Protocol):
    """What the consent route hands its receipts to.

    - ``submit(receipt)`` is called on the request path: it returns without waiting on any
      I/O it does not own locally, and never raises. A receipt it cannot keep is logged at
      ERROR on ``consentware.receipts`` with the receipt in the message, never dropped
      silently.
    - ``flush(timeout)`` waits (up to ``timeout`` seconds; None: no limit) until every receipt
      submitted before the call is where the sink finally keeps it, and says whether it is.
    - ``close(timeout)`` flushes, then releases the sink's threads and connections. A receipt
      submitted after ``close`` is still kept or logged at ERROR.
    """

    def submit(self, receipt: Receipt) -> None: ...

    def flush(self, timeout: float | None = None) -> bool: ...

    def close(self, timeout: float | None = None) -> None: ...


@runtime_checkable
class ReceiptStore(ReceiptSink, Protocol):
    """A sink that can answer for the receipts it kept (a data-subject request, an audit).

    - ``find(consent_id)``: every receipt of one visitor, oldest first.
    - ``export(since)``: every receipt recorded at or after ``since`` (all if None), oldest
      first, as an iterator (a store may hold millions).
    - ``prune(now)``: delete what is older than the store's retention at ``now`` (default: the
      current time); returns how many receipts were deleted.
    """

    def find(self, consent_id: str) -> list[Receipt]: ...

    def export(self, since: datetime | None = None) -> Iterator[Receipt]: ...

    def prune(self, now: datetime | None = None) -> int: ...


class LogReceipts:
    """The default sink: each receipt one line of JSON at INFO on ``consentware.receipts``.

    The log record's message is :meth:`Receipt.to_json`, and the receipt's dictionary is also
    on the record as ``record.consentware_receipt`` for structured handlers. Proof lives as
    long as the logs do: configure a store (:class:`SQLReceipts`) to keep, find and prune
    receipts.

    Example::

        logging.basicConfig(level=logging.INFO)
        sink = LogReceipts()
        sink.submit(receipt)   # INFO consentware.receipts {"receipt_id":"...",...}
    """

    def __init__(self, logger_name: str = LOGGER_NAME, level: int = logging.INFO) -> None:
        self.logger = logging.getLogger(logger_name)
        self.level = level
        self._warned = False

    def submit(self, receipt: Receipt) -> None:
        """Log the receipt; never raises (a failing handler falls back to stderr).

        If the logger does not take the level (Python's default is WARNING), the receipt is
        not kept anywhere: the first such receipt is announced by a WARNING, once.
        """
        try:
            if not self.logger.isEnabledFor(self.level):
                self._not_listening()
                return
            self.logger.log(
                self.level,
                "%s",
                receipt.to_json(),
                extra={"consentware_receipt": receipt.to_dict()},
            )
        except Exception:
            # Logging swallows handler errors itself; this is for a broken logger object.
            _last_resort(receipt)

    def _not_listening(self) -> None:
        if not self._warned:
            self._warned = True
            self.logger.warning(
                "consent receipts go to the logger %r at %s, which is not enabled: they are "
                "not kept. Configure logging for it, or give the middleware a receipt store "
                "(SQLReceipts).",
                self.logger.name,
                logging.getLevelName(self.level),
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Flush the logger's handlers; always True."""
        for handler in self.logger.handlers:
            with contextlib.suppress(Exception):
                handler.flush()
        return True

    def close(self, timeout: float | None = None) -> None:
        """Flush; the handlers belong to the application's logging setup, so stay open."""
        self.flush(timeout)

    def __repr__(self) -> str:
        return f"LogReceipts(logger_name={self.logger.name!r})"


def log_unkept(receipt: Receipt, why: str) -> None:
    """The last resort for a receipt no storage took: ERROR with the whole receipt."""
    try:
        logger.error("receipt not kept (%s): %s", why, receipt.to_json())
    except Exception:
        _last_resort(receipt)


def _last_resort(receipt: Receipt) -> None:
    with contextlib.suppress(Exception):
        sys.stderr.write(f"consentware.receipts: receipt not kept: {receipt.to_json()}\n")
