"""``MemoryReceipts``: a store in a list, for tests and for trying the consent route out.

It answers ``find``, ``export`` and ``prune`` like a real store, so a test can check that each
consent change left exactly one receipt. Nothing survives the process.

Example::

    receipts = MemoryReceipts()
    app = ConsentMiddleware(app, policy=policy, receipts=receipts)
    ...  # POST /_consent
    assert [r.action for r in receipts.find(consent_id)] == ["accept_all"]
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from ._receipt import Receipt

__all__ = ["MemoryReceipts"]


class MemoryReceipts:
    """Receipts kept in memory, in submission order; thread-safe."""

    def __init__(self, *, retention_days: int = 395) -> None:
        self.retention_days = retention_days
        self._receipts: list[Receipt] = []
        self._lock = threading.Lock()

    def submit(self, receipt: Receipt) -> None:
        """Keep the receipt."""
        with self._lock:
            self._receipts.append(receipt)

    def flush(self, timeout: float | None = None) -> bool:
        """Nothing to wait for; True."""
        return True

    def close(self, timeout: float | None = None) -> None:
        """Nothing to release; the receipts stay readable."""

    def all(self) -> list[Receipt]:
        """Every receipt, in submission order."""
        with self._lock:
            return list(self._receipts)

    def find(self, consent_id: str) -> list[Receipt]:
        """One visitor's receipts, oldest first."""
        return sorted((r for r in self.all() if r.consent_id == consent_id), key=_order)

    def export(self, since: datetime | None = None) -> Iterator[Receipt]:
        """Receipts recorded at or after ``since``, oldest first."""
        kept = [r for r in self.all() if since is None or r.recorded_at >= since]
        return iter(sorted(kept, key=_order))

    def prune(self, now: datetime | None = None) -> int:
        """Drop receipts older than the retention at ``now``; how many."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=self.retention_days)
        with self._lock:
            before = len(self._receipts)
            self._receipts = [r for r in self._receipts if r.recorded_at >= cutoff]
            return before - len(self._receipts)

    def __len__(self) -> int:
        with self._lock:
            return len(self._receipts)


def _order(receipt: Receipt) -> tuple[datetime, str]:
    return (receipt.recorded_at, receipt.receipt_id)
