"""The writer behind a store: a bounded queue, one background thread, batches, and the spool.

``submit`` (on the request path) only appends the receipt to a bounded in-memory queue; it makes
no database call, takes no lock another thread holds for long, and does not even wake the
writer when it is already gathering a batch. One daemon thread per store, started on first use,
gathers the queue in batches (until the posts pause, see ``QUIET`` and ``linger``) and hands
each batch to the store's ``write`` (one transaction). When ``write`` fails, the batch goes to
the spool and the database is *down*: new batches go straight to the spool behind it (so the
spool stays in order), and the spool is replayed with exponential backoff until a replay
commits. When the queue is full, ``submit`` appends to the spool itself. Where neither the
queue nor the spool takes a receipt, it is logged at ERROR with its JSON: never dropped
silently.

The thread is fork-safe: a child process (a pre-forking server's worker) gets a fresh queue, a
fresh thread on its first ``submit`` and spool files of its own. ``flush`` waits for what was
submitted before it; ``close`` and an ``atexit`` hook drain the queue at shutdown.

Example::

    writer = SpooledWriter(
        store.write, Spool(path), batch_size=500, queue_size=10_000, retry_min=0.5, retry_max=60
    )
    writer.submit(receipt)        # returns at once
    writer.flush(timeout=5.0)     # True: everything so far is in the database
    writer.close()
"""

from __future__ import annotations

import atexit
import logging
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Final

from ._receipt import Receipt
from ._sink import LOGGER_NAME, log_unkept
from ._spool import Spool

__all__ = ["SpooledWriter"]

logger = logging.getLogger(LOGGER_NAME)
#: How long the atexit hook lets each store drain.
EXIT_TIMEOUT: Final = 10.0
#: A batch is written once no receipt came for this long (seconds), or ``linger`` after its
#: first receipt, or when it holds ``batch_size`` receipts.
QUIET: Final = 0.02
#: How often an idle, healthy writer looks for spool files left by a dead sibling process.
ORPHAN_SCAN_INTERVAL: Final = 60.0

Write = Callable[[Iterable[Receipt]], None]


class _Flush:
    __slots__ = ("done", "ok")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.ok = False


class _Stop:
    __slots__ = ()


_Item = Receipt | _Flush | _Stop


class _Inbox:
    """What waits for the writer: a deque (appending takes no lock) and a wake-up that only
    the first receipt after a quiet spell pulls, not every receipt of a burst."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: deque[_Item] = deque()
        self._wake = threading.Event()
        self._sleeping = False

    def put(self, receipt: Receipt) -> bool:
        """Append; False when ``size`` receipts already wait (approximately: no lock)."""
        if len(self._items) >= self.size:
            return False
        self._items.append(receipt)
        if self._sleeping:
            self._wake.set()
        return True

    def put_marker(self, marker: _Flush | _Stop) -> None:
        self._items.append(marker)
        self._wake.set()

    def pop(self) -> _Item | None:
        try:
            return self._items.popleft()
        except IndexError:
            return None

    def sleep(self, timeout: float | None) -> None:
        """Until something is appended, or ``timeout`` seconds."""
        self._wake.clear()
        # Set before looking: a put that comes after the look sees it and wakes us.
        self._sleeping = True
        try:
            if not self._items:
                self._wake.wait(timeout)
        finally:
            self._sleeping = False


class SpooledWriter:
    """Receipts to ``write`` off the request path, through the spool when it fails."""

    def __init__(
        self,
        write: Write,
        spool: Spool,
        *,
        batch_size: int,
        queue_size: int,
        retry_min: float,
        retry_max: float,
        linger: float = 0.5,
        on_fork: Callable[[], None] | None = None,
        name: str = "consentware-receipts",
    ) -> None:
        if batch_size < 1 or queue_size < 1:
            raise ValueError("batch_size and queue_size must be at least 1")
        if not 0 < retry_min <= retry_max:
            raise ValueError("retry delays: 0 < retry_min <= retry_max")
        if linger < 0:
            raise ValueError("linger must not be negative")
        self._write = write
        self.spool = spool
        self.batch_size = batch_size
        self.queue_size = queue_size
        self.retry_min = retry_min
        self.retry_max = retry_max
        self.linger = linger
        self._on_fork = on_fork
        self._name = name
        self._closed = False
        # Closed and drained: nobody in this process will replay the spool any more.
        self._stopped = False
        self._fresh_process_state()
        _LIVE.add(self)

    def _fresh_process_state(self) -> None:
        self._pid = os.getpid()
        self._inbox = _Inbox(self.queue_size)
        self._state_lock = threading.Lock()
        # Held while receipts are written or replayed: the thread and an inline drain (close,
        # flush without a thread) never replay the same spool segment at once.
        self._work_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # Whether the spool may hold receipts; checked on the thread's first turn.
        self._spooled = True
        self._down = False
        self._delay = self.retry_min
        self._next_attempt = 0.0
        self._next_scan = time.monotonic() + ORPHAN_SCAN_INTERVAL

    # -- the request path -------------------------------------------------------------------

    def submit(self, receipt: Receipt) -> None:
        """Queue the receipt for the writer thread; never blocks on I/O, never raises."""
        try:
            if self._pid != os.getpid():
                self._after_fork()
            with self._state_lock:
                if not self._closed:
                    if self._thread is None:
                        self._start()
                    if self._inbox.put(receipt):
                        return
                    why = "the queue is full"
                else:
                    why = "the store is closed"
            self._spill([receipt], why)
        except Exception as error:
            self._spill([receipt], f"submit failed: {error!r}")

    # -- the caller's waits -----------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every receipt submitted before the call is written to the database (then
        True) or, when the database is down, safe in the spool (then False, as on timeout).
        Replays the spool at once, whatever the backoff says."""
        if self._pid != os.getpid():
            self._after_fork()
        deadline = None if timeout is None else time.monotonic() + timeout
        marker = _Flush()
        with self._state_lock:
            alive = not self._closed and self._ensure_thread()
        if not alive:
            return self._drain_inline()
        self._inbox.put_marker(marker)
        return marker.done.wait(_remaining(deadline)) and marker.ok

    def close(self, timeout: float | None = None) -> None:
        """Drain the queue to the database (or the spool), stop the thread, close the spool.
        Later submits go to the spool directly (or to an ERROR line)."""
        if self._pid != os.getpid():
            self._after_fork()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None and thread.is_alive():
            self._inbox.put_marker(_Stop())
            thread.join(_remaining(deadline))
        if thread is None or not thread.is_alive():
            self._stopped = True
            self._drain_inline()
            self.spool.close()
        _LIVE.discard(self)

    @property
    def down(self) -> bool:
        """Whether the last write or replay failed (receipts are going to the spool)."""
        return self._down

    # -- the thread -------------------------------------------------------------------------

    def _start(self) -> None:
        thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        thread.start()
        self._thread = thread

    def _ensure_thread(self) -> bool:
        if self._thread is None:
            try:
                self._start()
            except RuntimeError:  # interpreter shutting down: no new threads
                return False
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._spooled = self.spool.has_pending()
        except Exception:
            logger.exception("receipt writer: could not read the spool")
        while True:
            try:
                batch, marker = self._take()
                if isinstance(marker, _Stop):
                    self._stopped = True
                    self._drain_inline(batch)
                    return
                with self._work_lock:
                    self._handle(batch)
                    if isinstance(marker, _Flush):
                        marker.ok = self._replay(force=True)
                        marker.done.set()
                    elif not batch:
                        self._idle()
            except Exception:
                # The thread must outlive any bug: what it held is already spooled or logged.
                logger.exception("receipt writer: unexpected error")

    def _take(self) -> tuple[list[Receipt], _Flush | _Stop | None]:
        """A batch: up to ``batch_size`` receipts, gathered until no new one came for
        ``QUIET`` seconds or ``linger`` seconds after the first, and ended early by a marker
        (what came before a flush or a stop is handled before it)."""
        batch: list[Receipt] = []
        item = self._inbox.pop()
        if item is None:
            self._inbox.sleep(self._wait())
            item = self._inbox.pop()
        # A burst of consent posts is served first: its receipts are written once it pauses,
        # in one transaction, rather than competing with it for the GIL receipt by receipt.
        last_call = time.monotonic() + self.linger
        while item is not None:
            if not isinstance(item, Receipt):
                return batch, item
            batch.append(item)
            if len(batch) >= self.batch_size:
                return batch, None
            item = self._inbox.pop()
            wait = min(QUIET, last_call - time.monotonic())
            if item is None and wait > 0:
                # Polled, not woken: the receipts of a burst do not wake this thread one by one.
                time.sleep(wait)
                item = self._inbox.pop()
        return batch, None

    def _wait(self) -> float:
        due = self._next_attempt if self._spooled else self._next_scan
        return max(0.0, due - time.monotonic())

    def _idle(self) -> None:
        """Nothing came: retry a due replay, or look for spool files a dead sibling left."""
        if not self._spooled and time.monotonic() >= self._next_scan:
            self._next_scan = time.monotonic() + ORPHAN_SCAN_INTERVAL
            self._spooled = self.spool.has_pending()
        self._replay(force=False)

    def _handle(self, batch: list[Receipt]) -> None:
        if not batch:
            return
        if self._spooled:
            # Older receipts wait in the spool: these go behind them, and all are replayed.
            self._spill(batch, "the database is down")
            self._replay(force=False)
            return
        try:
            self._write(batch)
        except Exception as error:
            self._spill(batch, f"the database failed: {error!r}")
            self._went_down(error)

    def _replay(self, *, force: bool) -> bool:
        """Replay the spool if it is due (or ``force``); True when it is empty after."""
        if not self._spooled:
            return True
        if not force and time.monotonic() < self._next_attempt:
            return False
        counted = _Counter()
        try:
            for segment in self.spool.segments():
                self._write(counted(segment.receipts()))
                segment.release()
            self._spooled = self.spool.has_pending()
        except Exception as error:
            self._went_down(error)
            return False
        replayed = counted.total
        if self._down or replayed:
            logger.info("receipts database answers again: %d spooled receipts replayed", replayed)
        self._down = False
        self._delay = self.retry_min
        return not self._spooled

    def _went_down(self, error: Exception) -> None:
        if not self._down:
            logger.warning(
                "receipts database unavailable, spooling to %s until it answers: %r",
                self.spool.path,
                error,
            )
        self._down = True
        self._spooled = True
        # Jitter spreads the retries of many workers that lost the same database.
        self._next_attempt = time.monotonic() + self._delay * random.uniform(0.8, 1.2)
        self._delay = min(self.retry_max, self._delay * 2)

    def _drain_inline(self, batch: list[Receipt] | None = None) -> bool:
        """Without the thread (shutdown, after close): write or spool what the queue holds."""
        with self._work_lock:
            return self._drain(batch or [])

    def _drain(self, batch: list[Receipt]) -> bool:
        while (item := self._inbox.pop()) is not None:
            if isinstance(item, Receipt):
                batch.append(item)
            elif isinstance(item, _Flush):
                item.done.set()
        self._spooled = self._spooled or self.spool.has_pending()
        self._handle(batch)
        return self._replay(force=True)

    def _spill(self, receipts: Sequence[Receipt], why: str) -> None:
        try:
            self.spool.append(receipts)
            self._spooled = True
            if self._stopped:
                # Nobody here will replay it: let the next writer (this process or another)
                # adopt the file.
                self.spool.close()
        except Exception as error:
            for receipt in receipts:
                log_unkept(receipt, f"{why}, and the spool failed: {error!r}")

    def _after_fork(self) -> None:
        """In a forked child: the parent's queue, thread and locks are the parent's."""
        self._fresh_process_state()
        self.spool.after_fork()
        if self._on_fork is not None:
            self._on_fork()


class _Counter:
    """Counts the receipts that pass through it (what a replay wrote)."""

    def __init__(self) -> None:
        self.total = 0

    def __call__(self, receipts: Iterable[Receipt]) -> Iterator[Receipt]:
        for receipt in receipts:
            self.total += 1
            yield receipt


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


_LIVE: weakref.WeakSet[SpooledWriter] = weakref.WeakSet()


def _reset_in_child() -> None:
    for writer in list(_LIVE):
        writer._after_fork()


def _close_at_exit() -> None:
    for writer in list(_LIVE):
        try:
            writer.close(timeout=EXIT_TIMEOUT)
        except Exception:
            logger.exception("receipt writer: could not drain at exit")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_in_child)
atexit.register(_close_at_exit)
