"""The spool: receipts the database could not take yet, in append-only JSON-lines files.

A store's writer appends here when the database fails or its queue is full, and replays the
spool, oldest first, once the database answers. Each process appends to a file of its own,
``<spool_path>.<pid>-<token>``, created under an exclusive ``flock`` that it holds while it
lives: the workers of one server (gunicorn, uvicorn --workers) share a spool path without ever
writing into or cutting each other's file, even when containers reuse pids. A file nobody holds
(its process died, or it is ``<spool_path>`` itself, left by hand or copied from another host)
is adopted by the next writer that looks, replayed and deleted. Every append is whole lines,
flushed and fsync'd before it returns; files are created with mode 0600.

A file is cut only after the receipts read from it were committed: a crash between the commit
and the cut replays them again, which the store's primary key (``receipt_id``) makes harmless.

Example::

    spool = Spool(Path("consent-receipts.db.spool"))
    spool.append([receipt])                  # durable when it returns (OSError if not)
    for segment in spool.segments():         # what waits for replay, oldest first
        store.write(segment.receipts())
        segment.release()                    # only after the commit
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from ._errors import InvalidReceipt
from ._receipt import Receipt
from ._sink import LOGGER_NAME

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per spool path (docs/receipts.md)
    fcntl = None  # type: ignore[assignment]

__all__ = ["Segment", "Spool"]

logger = logging.getLogger(LOGGER_NAME)
_PROCESS_SUFFIX: Final = re.compile(r"[0-9]+-[0-9a-f]{8}")
_FILE_MODE: Final = 0o600


class Spool:
    """The spool files beside ``path``: this process's own, and any nobody holds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._own: IO[bytes] | None = None
        self._own_path: Path | None = None
        self._adopted: dict[Path, IO[bytes]] = {}

    def append(self, receipts: Sequence[Receipt]) -> None:
        """Append the receipts as JSON lines, fsync'd; raises OSError when it cannot."""
        data = b"".join(receipt.to_json().encode("utf-8") + b"\n" for receipt in receipts)
        with self._lock:
            handle = self._own_handle()
            _write_all(handle, data)
            os.fsync(handle.fileno())

    def segments(self) -> list[Segment]:
        """What waits for replay: adopted files (oldest first), then this process's own file
        up to its current end. Release a segment only after its receipts were committed."""
        with self._lock:
            self._check_pid()
            self._adopt_orphans()
            found = [
                Segment(self, path, _size(handle), owned=False)
                for path, handle in sorted(self._adopted.items(), key=lambda item: _mtime(item[0]))
            ]
            if self._own is not None and self._own_path is not None:
                found.append(Segment(self, self._own_path, _size(self._own), owned=True))
        return [segment for segment in found if segment.end or not segment.owned]

    def has_pending(self) -> bool:
        """Whether this process has receipts to replay: its own file is not empty, or it holds
        (or could adopt) a file nobody else holds."""
        with self._lock:
            self._check_pid()
            self._adopt_orphans()
            return bool(self._adopted) or (self._own is not None and _size(self._own) > 0)

    def peek(self) -> Iterator[Receipt]:
        """Every receipt in every spool file beside ``path``, held or not, taking none: what
        ``find`` and ``export`` add to the database's answer during an outage."""
        for path in self._files():
            try:
                with path.open("rb") as handle:
                    yield from _read_lines(handle, path, None, report=False)
            except FileNotFoundError:
                continue

    def after_fork(self) -> None:
        """In a forked child: forget the parent's files (closing our copies of their
        descriptors leaves the parent's locks in place) and start afresh."""
        self._lock = threading.Lock()
        self._pid = os.getpid()
        for handle in [self._own, *self._adopted.values()]:
            if handle is not None:
                handle.close()
        self._own = None
        self._own_path = None
        self._adopted = {}

    def close(self) -> None:
        """Close the files (their locks go with them); an empty own file is removed."""
        with self._lock:
            if self._pid != os.getpid():
                self.after_fork()
                return
            if self._own is not None and self._own_path is not None:
                if not _size(self._own):
                    _unlink(self._own_path)
                self._own.close()
            self._own = None
            self._own_path = None
            for handle in self._adopted.values():
                handle.close()
            self._adopted = {}

    # -- inside the lock ------------------------------------------------------------------

    def _check_pid(self) -> None:
        if self._pid != os.getpid():
            self.after_fork()

    def _own_handle(self) -> IO[bytes]:
        self._check_pid()
        if self._own is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            name = f"{self.path.name}.{os.getpid()}-{secrets.token_hex(4)}"
            self._own_path = self.path.with_name(name)
            self._own = _create_locked(self._own_path, b"")
        return self._own

    def _adopt_orphans(self) -> None:
        for path in self._files():
            if path == self._own_path or path in self._adopted:
                continue
            try:
                handle = path.open("rb")
            except FileNotFoundError:
                continue
            # Locked by a live process, or renamed over since we opened it: not an orphan.
            if _try_lock(handle) and _same_file(path, handle):
                self._adopted[path] = handle
            else:
                handle.close()

    def _files(self) -> list[Path]:
        directory, name = self.path.parent, self.path.name
        try:
            entries = list(directory.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(
            entry
            for entry in entries
            if entry.name == name or _is_process_file(entry.name, name)
            if entry.is_file()
        )

    def _release(self, segment: Segment) -> None:
        with self._lock:
            if not segment.owned:
                handle = self._adopted.pop(segment.path, None)
                if handle is not None:
                    if _same_file(segment.path, handle):
                        _unlink(segment.path)
                    handle.close()
                return
            if self._own is None or segment.path != self._own_path:
                return
            if _size(self._own) == segment.end:
                os.ftruncate(self._own.fileno(), 0)
                os.fsync(self._own.fileno())
            else:
                self._keep_tail(segment.end)

    def _keep_tail(self, start: int) -> None:
        """Replace the own file by what was appended after ``start``."""
        assert self._own is not None
        assert self._own_path is not None
        with self._own_path.open("rb") as source:
            source.seek(start)
            tail = source.read()
        replacement = _create_locked(self._own_path, tail)
        self._own.close()
        self._own = replacement


@dataclass
class Segment:
    """A run of spooled receipts: one file, from its start to ``end`` bytes."""

    spool: Spool
    path: Path
    end: int
    owned: bool
    _released: bool = field(default=False, repr=False)

    def receipts(self) -> Iterator[Receipt]:
        """The receipts, in the order they were spooled (unreadable lines are logged at ERROR
        with their text, and skipped)."""
        with self.path.open("rb") as handle:
            yield from _read_lines(handle, self.path, self.end, report=True)

    def release(self) -> None:
        """Take the segment out of the spool: call only after its receipts were committed."""
        if not self._released:
            self.spool._release(self)
            self._released = True


# -- helpers ------------------------------------------------------------------------------


def _create_locked(final: Path, content: bytes) -> IO[bytes]:
    """A new file at ``final`` holding ``content``, open for appending and locked *before* it
    takes its name, so no other process can adopt it in between."""
    staging = final.with_name(f".{final.name}.new")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, _FILE_MODE)
    # Unbuffered: a process forked in the middle of an append must not inherit half a line in
    # a buffer, to flush into our file when it closes its copy.
    handle: IO[bytes] = os.fdopen(fd, "ab", buffering=0)
    try:
        _lock_exclusive(handle)
        _write_all(handle, content)
        os.fsync(handle.fileno())
        os.replace(staging, final)
    except BaseException:
        handle.close()
        _unlink(staging)
        raise
    _fsync_dir(final.parent)
    return handle


def _write_all(handle: IO[bytes], data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = handle.write(view)
        if not written:
            raise OSError(f"the spool took no bytes of a {len(data)}-byte append")
        view = view[written:]


def _read_lines(
    handle: IO[bytes], path: Path, end: int | None, *, report: bool
) -> Iterator[Receipt]:
    """The receipts of ``handle``'s lines, up to ``end`` bytes, one line in memory at a time."""
    position = 0
    for number, raw in enumerate(handle, 1):
        if end is not None and position + len(raw) > end:
            raw = raw[: max(0, end - position)]
        position += len(raw)
        if not raw.endswith(b"\n"):
            # An append still under way, or one torn by a crash before its fsync returned
            # (so never reported as kept).
            if raw.strip() and report:
                logger.error("spool %s ends in a torn line, skipped: %r", path, raw)
            return
        line = raw.strip()
        if not line:
            continue
        try:
            yield Receipt.from_json(line.decode("utf-8"))
        except (InvalidReceipt, UnicodeDecodeError) as error:
            if report:
                logger.error(
                    "spool %s line %d is not a receipt (%s), skipped: %r", path, number, error, raw
                )


def _is_process_file(entry: str, name: str) -> bool:
    return entry.startswith(name + ".") and bool(_PROCESS_SUFFIX.fullmatch(entry[len(name) + 1 :]))


def _lock_exclusive(handle: IO[bytes]) -> None:
    if fcntl is not None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def _try_lock(handle: IO[bytes]) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _same_file(path: Path, handle: IO[bytes]) -> bool:
    try:
        named = path.stat()
    except FileNotFoundError:
        return False
    held = os.fstat(handle.fileno())
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _size(handle: IO[bytes]) -> int:
    return os.fstat(handle.fileno()).st_size


def _size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def _fsync_dir(directory: Path) -> None:
    """Make a file's creation or renaming durable too (POSIX)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
