"""The receipts benchmarks' contenders: ``submit()`` alone, and the real consent route served
with each receipt sink.

Serve one with ``python -m benchmarks._receipts asgi|wsgi PORT SINK [URL]``; ``SINK`` is

- ``none``: the route makes no receipt at all (its builder replaced by one that builds none),
- ``built``: receipts made and discarded (a sink that keeps nothing),
- ``log``: the default sink, JSON lines at INFO on ``consentware.receipts`` into a file,
- ``sqlite`` / ``postgres``: a ``SQLReceipts`` store (``URL`` for PostgreSQL).

The app is ``consentware.asgi.ConsentMiddleware`` (under uvicorn) or
``consentware.wsgi.ConsentMiddleware`` (under werkzeug's threaded server) around an app that
answers 404: every timed request is a consent post the middleware answers itself.
``benchmarks/receipts.py`` starts one process per row.
"""

from __future__ import annotations

import logging
import queue
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from consentware import Policy
from consentware.asgi import ConsentMiddleware as AsgiMiddleware
from consentware.receipts import (
    LogReceipts,
    Receipt,
    ReceiptBuilder,
    ReceiptRecorder,
    ReceiptSink,
    SQLReceipts,
    canonical_sha256,
)
from consentware.web.endpoint import ConsentEndpoint
from consentware.wsgi import ConsentMiddleware as WsgiMiddleware

from ._harness import Batch

OPTIONAL = ("first_party", "statistical", "third_party")
POLICY_HASH = canonical_sha256({"categories": OPTIONAL, "revision": 1})
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
KEY = "benchmark-receipts-key"
SINKS = ("none", "built", "log", "sqlite", "postgres")


def sample_receipt(n: int = 0) -> Receipt:
    return Receipt.new(
        consent_id=f"visitor{n:08d}",
        action="save",
        granted=OPTIONAL[: n % 3],
        refused=OPTIONAL[n % 3 :],
        revision=1,
        policy_hash=POLICY_HASH,
        method="form",
        page="/pricing",
        language="en",
    )


# -- submit() itself ----------------------------------------------------------------------


class Counter:
    """How many receipts the contenders handed to the SQLite store."""

    def __init__(self) -> None:
        self.total = 0


def _quiet_logger(name: str, level: int) -> LogReceipts:
    sink = LogReceipts(name)
    sink.logger.setLevel(level)
    sink.logger.propagate = False
    sink.logger.addHandler(logging.NullHandler())
    return sink


def submit_contenders(directory: Path) -> tuple[dict[str, Batch], SQLReceipts, Counter]:
    """What one ``submit`` costs the request: a plain ``queue.Queue.put_nowait`` (for scale), the
    SQLite store (its writer really running), the log sink with logging off and on (to a
    discarding handler), and ``ReceiptRecorder.record`` (building the receipt: its id, the
    time, HMAC of the user agent, the checks) into the SQLite store."""
    receipt = sample_receipt()
    floor: queue.Queue[Receipt] = queue.Queue()
    store = SQLReceipts(
        f"sqlite:///{directory / 'bench-submit.db'}",
        spool_path=directory / "bench-submit.spool",
        queue_size=1_000_000,
        batch_size=500,
    )
    quiet = _quiet_logger("consentware.bench.receipts.off", logging.WARNING)
    quiet.submit(receipt)  # its one warning, said before the timing
    heard = _quiet_logger("consentware.bench.receipts.on", logging.INFO)
    recorder = ReceiptRecorder(store, user_agent_key=KEY)
    counted = Counter()
    # Distinct receipts for the store (the same one again would be a no-op insert).
    pool = [sample_receipt(n) for n in range(20_000)]

    def store_batch(n: int) -> None:
        submit = store.submit
        start = counted.total
        for i in range(start, start + n):
            submit(pool[i % len(pool)])
        counted.total += n

    def floor_batch(n: int) -> None:
        put = floor.put_nowait
        for _ in range(n):
            put(receipt)
        with floor.mutex:
            floor.queue.clear()

    def calls(submit: Callable[[Receipt], None]) -> Batch:
        def run(n: int) -> None:
            for _ in range(n):
                submit(receipt)

        return run

    def record(n: int) -> None:
        counted.total += n
        for _ in range(n):
            recorder.record(
                consent_id="visitor00000001",
                action="save",
                granted=("statistical",),
                refused=("first_party", "third_party"),
                revision=1,
                policy_hash=POLICY_HASH,
                method="form",
                page="/pricing?utm_source=x",
                gpc=False,
                language="en",
                user_agent=USER_AGENT,
            )

    contenders: dict[str, Batch] = {
        "queue.Queue.put_nowait (reference)": floor_batch,
        "SQLReceipts.submit (SQLite, writer running)": store_batch,
        "LogReceipts.submit (INFO not enabled)": calls(quiet.submit),
        "LogReceipts.submit (INFO to a NullHandler)": calls(heard.submit),
        "ReceiptRecorder.record into SQLReceipts": record,
    }
    return contenders, store, counted


# -- the consent route, served --------------------------------------------------------------


class DiscardReceipts:
    """A sink that keeps nothing: the cost of building receipts, without writing them."""

    def submit(self, receipt: Receipt) -> None:
        pass

    def flush(self, timeout: float | None = None) -> bool:
        return True

    def close(self, timeout: float | None = None) -> None:
        pass


class NoReceipts(ReceiptBuilder):
    """A builder that builds nothing: the consent route as it was before receipts."""

    __slots__ = ()

    def build(self, **fields: Any) -> Receipt | None:
        return None


def make_sink(sink: str, url: str | None) -> ReceiptSink:
    directory = Path(tempfile.mkdtemp(prefix="consentware-bench-"))
    if sink in ("none", "built"):
        return DiscardReceipts()
    if sink == "log":
        logger = logging.getLogger("consentware.receipts")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(logging.FileHandler(directory / "receipts.jsonl"))
        return LogReceipts()
    if sink == "sqlite":
        return SQLReceipts(f"sqlite:///{directory / 'receipts.db'}")
    if sink == "postgres" and url:
        return SQLReceipts(url, spool_path=directory / "receipts.spool")
    raise SystemExit(f"unknown sink {sink!r} (or postgres without a URL)")


def without_receipts(middleware: AsgiMiddleware | WsgiMiddleware) -> None:
    """Give the middleware a consent route that makes no receipt (the ``none`` row)."""
    middleware.endpoint = ConsentEndpoint(
        middleware.enforcer, middleware.endpoint.prefix, receipts=NoReceipts()
    )


async def not_found_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def not_found_wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("404 Not Found", [("Content-Length", "0")])
    return [b""]


def main(argv: list[str]) -> None:
    kind, port, sink_name = argv[0], int(argv[1]), argv[2]
    sink = make_sink(sink_name, argv[3] if len(argv) > 3 else None)
    policy = Policy.default()
    if kind == "asgi":
        import uvicorn

        asgi = AsgiMiddleware(not_found_asgi, policy, secret_key=KEY, receipts=sink)
        if sink_name == "none":
            without_receipts(asgi)
        uvicorn.run(
            asgi,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            backlog=1024,
            # The client's connections wait while the other rows take their turn.
            timeout_keep_alive=300,
        )
        return
    from werkzeug.serving import WSGIRequestHandler, make_server

    wsgi = WsgiMiddleware(not_found_wsgi, policy, secret_key=KEY, receipts=sink)
    if sink_name == "none":
        without_receipts(wsgi)
    WSGIRequestHandler.log_request = lambda *a, **k: None  # type: ignore[method-assign]
    server = make_server("127.0.0.1", port, wsgi, threaded=True)
    server.socket.listen(1024)
    try:
        server.serve_forever()
    finally:
        wsgi.recorder.close(10)


if __name__ == "__main__":
    main(sys.argv[1:])
