"""``SQLReceipts``: receipts in any SQL database SQLAlchemy Core 2 speaks to.

SQLite is the embedded default (one file, WAL mode, safe from many threads and processes);
PostgreSQL through psycopg 3 is the choice at scale. The table ``consentware_receipts`` and its
indexes (``consent_id``, ``recorded_at``) are created on first use. Writes happen off the
request path (see ``_writer.py``): ``submit`` only queues, a background thread writes batches
in one transaction each, and a local spool keeps what the database cannot take yet, replayed in
order once it answers. Reads (``find``, ``export``) go to the database directly and add what is
still in the spool, so a data-subject request during an outage is complete.

Example::

    from consentware.receipts import SQLReceipts

    receipts = SQLReceipts("sqlite:///consent-receipts.db")          # or
    receipts = SQLReceipts("postgresql+psycopg://app@db.internal/app", retention_days=395)
    receipts.submit(receipt)                 # never blocks, never raises
    receipts.find(consent_id)                # oldest first
    receipts.prune()                         # receipts older than 395 days deleted
    receipts.close()                         # also done at exit
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    create_engine,
    event,
    inspect,
    make_url,
    select,
)
from sqlalchemy.engine import URL, RowMapping
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from ._errors import StoreUnavailable
from ._receipt import Receipt
from ._spool import Spool
from ._writer import SpooledWriter

__all__ = ["DEFAULT_URL", "TABLE_NAME", "SQLReceipts", "default_spool_path", "receipts_table"]

#: The embedded default: a SQLite file in the working directory.
DEFAULT_URL: Final = "sqlite:///consent-receipts.db"
TABLE_NAME: Final = "consentware_receipts"
#: About 13 months: the CNIL's longest recommended life of a consent choice, plus a month to
#: answer for the last one.
DEFAULT_RETENTION_DAYS: Final = 395
_SQLITE_BUSY_SECONDS: Final = 5.0


class _UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()
#: The table: one row per receipt, ``receipt_id`` the primary key (so a replay never
#: duplicates), ``granted``/``refused`` as JSON arrays of category names.
receipts_table: Final = Table(
    TABLE_NAME,
    metadata,
    Column("receipt_id", String(32), primary_key=True),
    Column("consent_id", String(64), nullable=False),
    Column("action", String(16), nullable=False),
    Column("granted", Text, nullable=False),
    Column("refused", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("policy_hash", String(64), nullable=False),
    Column("method", String(8), nullable=False),
    Column("recorded_at", _UTCDateTime, nullable=False),
    Column("page", String(2048), nullable=True),
    Column("gpc", Boolean, nullable=False),
    Column("language", String(35), nullable=True),
    Column("user_agent_hash", String(32), nullable=True),
    # find() reads one visitor's receipts in time order; prune() and export() go by time.
    Index(f"ix_{TABLE_NAME}_consent_id", "consent_id", "recorded_at"),
    Index(f"ix_{TABLE_NAME}_recorded_at", "recorded_at"),
)


class SQLReceipts:
    """A receipt store in a SQL database (SQLite by default, PostgreSQL at scale).

    :param url: a SQLAlchemy URL. ``sqlite:///path.db`` (the default, ``DEFAULT_URL``) or
        ``postgresql+psycopg://user@host/db`` (``postgresql://`` means psycopg 3 too).
    :param retention_days: what :meth:`prune` keeps (default 395, about 13 months).
    :param spool_path: where receipts wait while the database is down; each process appends
        to ``<spool_path>.<pid>-<token>`` beside it. Default: :func:`default_spool_path`
        (next to a SQLite file, else in ``$XDG_STATE_HOME/consentware``).
    :param batch_size: receipts per transaction.
    :param queue_size: receipts waiting in memory before ``submit`` spools them itself.
    :param retry_min, retry_max: the replay backoff while the database is down, in seconds.
    :param linger: the longest a receipt waits for its batch to fill, in seconds (a batch is
        also written once no receipt came for 20 ms): a burst of posts is answered before its
        receipts are written.
    :param engine_options: passed to ``sqlalchemy.create_engine`` (``connect_args`` are
        merged with the SQLite ones).

    Nothing connects until the first write or read. Several processes may share one
    database and one spool path.
    """

    def __init__(
        self,
        url: str | URL = DEFAULT_URL,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        spool_path: str | os.PathLike[str] | None = None,
        batch_size: int = 500,
        queue_size: int = 10_000,
        retry_min: float = 0.5,
        retry_max: float = 60.0,
        linger: float = 0.5,
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        if type(retention_days) is not int or retention_days < 1:
            raise ValueError(f"retention_days must be a positive integer, not {retention_days!r}")
        self.url = _normalised_url(url)
        self.retention_days = retention_days
        self.spool_path = Path(spool_path) if spool_path is not None else default_spool_path(url)
        self.engine = _engine(self.url, engine_options or {})
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._writer = SpooledWriter(
            self.write,
            Spool(self.spool_path),
            batch_size=batch_size,
            queue_size=queue_size,
            retry_min=retry_min,
            retry_max=retry_max,
            linger=linger,
            on_fork=self._after_fork,
            name=f"consentware-receipts-writer({self.url.get_backend_name()})",
        )

    # -- the sink ---------------------------------------------------------------------------

    def submit(self, receipt: Receipt) -> None:
        """Queue the receipt; returns at once, makes no database call, never raises."""
        self._writer.submit(receipt)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every receipt submitted so far is in the database (True), or safe in the
        spool because the database does not answer (False, as on timeout)."""
        return self._writer.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Flush, stop the writer thread and release the connections. Also run at exit."""
        self._writer.close(timeout)
        self.engine.dispose()

    @property
    def down(self) -> bool:
        """Whether the last write failed: receipts are going to the spool until a replay."""
        return self._writer.down

    # -- reads ------------------------------------------------------------------------------

    def find(self, consent_id: str) -> list[Receipt]:
        """Every receipt of one visitor, oldest first, spooled ones included."""
        # The spool is read before the database: a receipt replayed in between is then in one
        # of the two answers (the spool is cut only after the commit).
        spooled = [r for r in self._writer.spool.peek() if r.consent_id == consent_id]
        query = (
            select(receipts_table)
            .where(receipts_table.c.consent_id == consent_id)
            .order_by(receipts_table.c.recorded_at, receipts_table.c.receipt_id)
        )
        try:
            self._ensure_schema()
            with self.engine.connect() as connection:
                stored = [_receipt_from_row(row._mapping) for row in connection.execute(query)]
        except SQLAlchemyError as error:
            raise StoreUnavailable(f"cannot read {self._shown_url}: {error}") from error
        return list(_merged(stored, spooled))

    def export(self, since: datetime | None = None) -> Iterator[Receipt]:
        """Every receipt recorded at or after ``since`` (all if None), oldest first, spooled
        ones included; rows are streamed, not loaded at once."""
        if since is not None and since.utcoffset() is None:
            raise ValueError("since must be timezone-aware")
        spooled = [r for r in self._writer.spool.peek() if since is None or r.recorded_at >= since]
        return _merged(self._stream(since), spooled)

    def prune(self, now: datetime | None = None) -> int:
        """Delete the receipts recorded before ``now`` minus the retention; how many."""
        moment = now if now is not None else datetime.now(UTC)
        if moment.utcoffset() is None:
            raise ValueError("now must be timezone-aware")
        cutoff = moment - timedelta(days=self.retention_days)
        statement = receipts_table.delete().where(receipts_table.c.recorded_at < cutoff)
        try:
            self._ensure_schema()
            with self.engine.begin() as connection:
                return int(connection.execute(statement).rowcount)
        except SQLAlchemyError as error:
            raise StoreUnavailable(f"cannot prune {self._shown_url}: {error}") from error

    # -- writes (the writer thread) ---------------------------------------------------------

    def write(self, receipts: Iterable[Receipt]) -> None:
        """Insert receipts in one transaction, skipping ids already stored (a replay after a
        crash between commit and spool cut). Raises on failure; the writer calls it."""
        self._ensure_schema()
        with self.engine.begin() as connection:
            for chunk in _chunks(receipts, self._writer.batch_size):
                rows = [_row(receipt) for receipt in chunk]
                _insert_new(connection, rows)

    def _stream(self, since: datetime | None) -> Iterator[Receipt]:
        query = select(receipts_table).order_by(
            receipts_table.c.recorded_at, receipts_table.c.receipt_id
        )
        if since is not None:
            query = query.where(receipts_table.c.recorded_at >= since)
        try:
            self._ensure_schema()
            with self.engine.connect() as connection:
                result = connection.execution_options(yield_per=500).execute(query)
                for row in result:
                    yield _receipt_from_row(row._mapping)
        except SQLAlchemyError as error:
            raise StoreUnavailable(f"cannot read {self._shown_url}: {error}") from error

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            try:
                metadata.create_all(self.engine, checkfirst=True)
            except SQLAlchemyError:
                # Another process created it between our check and our CREATE.
                if not inspect(self.engine).has_table(TABLE_NAME):
                    raise
            self._schema_ready = True

    def _after_fork(self) -> None:
        # The parent's pooled connections are the parent's (SQLAlchemy's advice for fork).
        self.engine.dispose(close=False)
        self._schema_lock = threading.Lock()

    @property
    def _shown_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"SQLReceipts({self._shown_url!r}, spool_path={str(self.spool_path)!r})"


def default_spool_path(url: str | URL = DEFAULT_URL) -> Path:
    """Where a store on ``url`` spools by default: ``<file>.spool`` beside a SQLite file, else
    ``$XDG_STATE_HOME/consentware/receipts-<digest of the URL>.spool`` (``~/.local/state`` when
    the variable is unset), so two databases never share a spool."""
    parsed = _normalised_url(url)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:":
        path = Path(database).absolute()
        return path.with_name(path.name + ".spool")
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    digest = hashlib.sha256(parsed.render_as_string(hide_password=True).encode()).hexdigest()
    return Path(state) / "consentware" / f"receipts-{digest[:16]}.spool"


# -- helpers ------------------------------------------------------------------------------


def _normalised_url(url: str | URL) -> URL:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        # SQLAlchemy's bare postgresql:// means psycopg2; consentware ships for psycopg 3.
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _engine(url: URL, options: Mapping[str, Any]) -> Engine:
    options = dict(options)
    if url.get_backend_name() != "sqlite":
        options.setdefault("pool_pre_ping", True)
        return create_engine(url, **options)
    connect_args = {"check_same_thread": False, "timeout": _SQLITE_BUSY_SECONDS}
    connect_args.update(options.pop("connect_args", {}))
    if not url.database or url.database == ":memory:":
        options.setdefault("poolclass", StaticPool)
    engine = create_engine(url, connect_args=connect_args, **options)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    try:
        # WAL: readers (find, export, the CLI) never wait for the writer. FULL: a committed
        # receipt survives a power cut, which is the point of keeping it.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _insert_new(connection: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement: Any = sqlite_insert(receipts_table).on_conflict_do_nothing(
            index_elements=["receipt_id"]
        )
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        statement = postgresql_insert(receipts_table).on_conflict_do_nothing(
            index_elements=["receipt_id"]
        )
    else:
        ids = [row["receipt_id"] for row in rows]
        known = set(
            connection.execute(
                select(receipts_table.c.receipt_id).where(receipts_table.c.receipt_id.in_(ids))
            ).scalars()
        )
        rows = [row for row in rows if row["receipt_id"] not in known]
        if not rows:
            return
        statement = receipts_table.insert()
    connection.execute(statement, rows)


def _row(receipt: Receipt) -> dict[str, Any]:
    return {
        "receipt_id": receipt.receipt_id,
        "consent_id": receipt.consent_id,
        "action": receipt.action,
        "granted": _json_names(receipt.granted),
        "refused": _json_names(receipt.refused),
        "revision": receipt.revision,
        "policy_hash": receipt.policy_hash,
        "method": receipt.method,
        "recorded_at": receipt.recorded_at,
        "page": receipt.page,
        "gpc": receipt.gpc,
        "language": receipt.language,
        "user_agent_hash": receipt.user_agent_hash,
    }


def _json_names(names: tuple[str, ...]) -> str:
    # What json.dumps writes for these names, at a fraction of its cost on the writer thread
    # (benchmarks/receipts.py, writer CPU per receipt): the Receipt admits only
    # [A-Za-z][A-Za-z0-9_-]* as a category name, so nothing needs escaping.
    return '["' + '", "'.join(names) + '"]' if names else "[]"


def _receipt_from_row(row: RowMapping) -> Receipt:
    return Receipt(
        receipt_id=row["receipt_id"],
        consent_id=row["consent_id"],
        action=row["action"],
        granted=tuple(json.loads(row["granted"])),
        refused=tuple(json.loads(row["refused"])),
        revision=row["revision"],
        policy_hash=row["policy_hash"],
        method=row["method"],
        recorded_at=row["recorded_at"],
        page=row["page"],
        gpc=bool(row["gpc"]),
        language=row["language"],
        user_agent_hash=row["user_agent_hash"],
    )


def _order_key(receipt: Receipt) -> tuple[datetime, str]:
    return (receipt.recorded_at, receipt.receipt_id)


def _merged(stored: Iterable[Receipt], spooled: Sequence[Receipt]) -> Iterator[Receipt]:
    """Both sources in time order, each receipt once (a spooled receipt may be stored too)."""
    last: str | None = None
    for receipt in heapq.merge(stored, sorted(spooled, key=_order_key), key=_order_key):
        if receipt.receipt_id != last:
            yield receipt
        last = receipt.receipt_id


def _chunks(receipts: Iterable[Receipt], size: int) -> Iterator[list[Receipt]]:
    chunk: list[Receipt] = []
    for receipt in receipts:
        chunk.append(receipt)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
