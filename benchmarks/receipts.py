"""The receipts benchmarks: the consent route's latency at 200 concurrent posts with and
without receipts, side by side, and what ``submit()`` costs the request.

``python -m benchmarks.run --only receipts`` (and ``make bench``) runs it into
docs/benchmarks.md; ``python -m benchmarks.receipts [--quick] [--postgres URL|auto]
[--output FILE]`` runs it alone and prints the Markdown section.

Each row is the real consent route (``POST /_consent`` answered by consentware's middleware)
in a server process of its own on loopback: uvicorn for ASGI, werkzeug's threaded server for
WSGI. A raw-socket client sends bursts of 200 form posts at once on 200 keep-alive
connections, each post a different visitor holding an earlier consent cookie (so the route
keeps their consent id). Rows are interleaved burst by burst (order reversed every other
round); each figure is the median over bursts of that burst's median (p50) or percentile, and
a verdict is on the ratio of p50s taken inside each round. The target (DESIGN.md): writing
receipts adds nothing measurable at the median (the write happens off the request path).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from consentware import ConsentCookie, Policy

from . import _receipts as scenarios
from ._harness import calibrate, fmt_ns, fmt_ratio, machine, quartiles, versions

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 200
#: The name of a SQLReceipts writer thread (whose CPU clock the submit rows read).
WRITER = "consentware-receipts-writer"
#: "No measurable difference": the p50 with a store within this factor of the p50 without.
TARGET = 1.05
LABELS = {
    "none": "no receipts (the route makes none)",
    "built": "receipts made, then discarded",
    "log": "default sink: JSON lines to a log file",
    "sqlite": "SQLReceipts, SQLite",
    "postgres": "SQLReceipts, PostgreSQL",
}


@dataclass
class Verdict:
    """One target row: a store's p50 over the p50 without receipts, per burst."""

    row: str
    ratios: list[float]

    @property
    def met(self) -> bool:
        return statistics.median(self.ratios) <= TARGET


@dataclass
class Result:
    section: str
    verdicts: list[Verdict] = field(default_factory=list)


def _cpu_ns(thread_id: int) -> int:
    """CPU time a thread has used (Linux: its per-thread clock)."""
    return time.clock_gettime_ns(time.pthread_getcpuclockid(thread_id))


def submit_section(rounds: int) -> str:
    with tempfile.TemporaryDirectory(prefix="consentware-bench-") as directory:
        contenders, store, counted = scenarios.submit_contenders(Path(directory))
        try:
            me = threading.get_ident()
            for run in contenders.values():  # the writer started, the loggers warned
                run(200)
            number = min(calibrate(run, 0.01) for run in contenders.values())
            wall: dict[str, list[float]] = {name: [] for name in contenders}
            cpu: dict[str, list[float]] = {name: [] for name in contenders}
            store.flush(120)  # the table exists, the writer idles: count from here
            (writer,) = [t for t in threading.enumerate() if t.name.startswith(WRITER)]
            assert writer.ident is not None
            writer_before, handed_before = _cpu_ns(writer.ident), counted.total
            for round_ in range(rounds):
                names = list(contenders) if round_ % 2 == 0 else list(contenders)[::-1]
                for name in names:
                    start_wall, start_cpu = time.perf_counter_ns(), _cpu_ns(me)
                    contenders[name](number)
                    cpu[name].append((_cpu_ns(me) - start_cpu) / number)
                    wall[name].append((time.perf_counter_ns() - start_wall) / number)
            store.flush(120)
            written = counted.total - handed_before
            writer_cpu = _cpu_ns(writer.ident) - writer_before
        finally:
            store.close(120)
    reference = "queue.Queue.put_nowait (reference)"
    rows = [
        "| contender | calling thread's CPU per call | IQR | wall clock per call |",
        "|---|---|---|---|",
    ]
    for name in contenders:
        lo, hi = quartiles(cpu[name])
        rows.append(
            f"| {name} | {fmt_ns(statistics.median(cpu[name]))} | {fmt_ns(lo)} to {fmt_ns(hi)} "
            f"| {fmt_ns(statistics.median(wall[name]))} |"
        )
    ours = statistics.median(cpu["SQLReceipts.submit (SQLite, writer running)"])
    return (
        "### What `submit()` costs the request\n\n"
        "In process, measured with the request thread's own CPU clock (time spent waiting for "
        "the GIL while the writer works is not counted; the wall clock column counts it). "
        "`SQLReceipts.submit` only appends the receipt to the writer's queue while the writer "
        "thread really writes the same receipts to SQLite; `ReceiptRecorder.record` also builds "
        "the receipt (128 random bits for its id, the time, the HMAC of the user agent, the "
        f"field checks), as the consent route does. {rounds} interleaved rounds of {number} "
        "calls.\n\n" + "\n".join(rows) + "\n\n"
        f"`SQLReceipts.submit` costs the request {fmt_ns(ours)} (a bare "
        f"`queue.Queue.put_nowait`: {fmt_ns(statistics.median(cpu[reference]))}). The work "
        f"moved off the request path is the writer's: {fmt_ns(writer_cpu / max(written, 1))} "
        f"of CPU per receipt ({written} during the rounds, in batches of up to 500, one SQLite "
        "transaction each), on the writer thread.\n"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no server on {port}")


class _Connection:
    """One keep-alive HTTP/1.1 connection; the client is raw streams, so its own cost per
    post is small next to the server's."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.closed = True

    async def open(self) -> None:
        """(Re)connect, outside the timed part: werkzeug's server closes after each response."""
        if self.closed:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.closed = False

    async def post(self, request: bytes, started: float) -> float:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        if status != b"303":
            raise RuntimeError(f"status {status!r}: {head!r}")
        length = 0
        for line in head.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
            elif line.startswith(b"connection:") and b"close" in line:
                self.closed = True
        await self.reader.readexactly(length)
        elapsed = time.perf_counter() - started
        if self.closed:
            self.writer.close()
        return elapsed


_CODEC = ConsentCookie(Policy.default(), scenarios.KEY)


def _request(port: int, visitor: str) -> bytes:
    action = random.choice(["accept_all", "reject_all", "save"])
    body = f"action={action}&category=statistical&next=/pricing%3Fplan%3Dpro".encode()
    earlier = _CODEC.dumps(["third_party"], consent_id=visitor)
    return (
        f"POST /_consent HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Origin: http://127.0.0.1:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Cookie: cookies_preferences={earlier}\r\n"
        f"User-Agent: {scenarios.USER_AGENT}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _latency(ports: dict[str, int], rounds: int) -> dict[str, list[list[float]]]:
    pools = {name: [_Connection(port) for _ in range(CONCURRENCY)] for name, port in ports.items()}
    results: dict[str, list[list[float]]] = {name: [] for name in ports}

    async def burst(name: str, round_: int) -> list[float]:
        port = ports[name]
        requests = [_request(port, f"v{round_ + 2:04d}x{i:04d}") for i in range(CONCURRENCY)]
        await asyncio.gather(*(connection.open() for connection in pools[name]))
        started = time.perf_counter()
        return list(
            await asyncio.gather(
                *(c.post(r, started) for c, r in zip(pools[name], requests, strict=True))
            )
        )

    try:
        names = list(ports)
        for name in names:  # warm-up: writer threads started, tables made
            await burst(name, -1)
            await burst(name, -2)
        for round_ in range(rounds):
            for name in names if round_ % 2 == 0 else names[::-1]:
                results[name].append(await burst(name, round_))
                await asyncio.sleep(0.2)  # a burst, then quiet: the writer drains in between
    finally:
        for pool in pools.values():
            for connection in pool:
                if not connection.closed:
                    connection.writer.close()
    return results


def _ratios(bursts: list[list[float]], others: list[list[float]]) -> list[float]:
    return [
        statistics.median(b) / statistics.median(o) for b, o in zip(bursts, others, strict=True)
    ]


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _ms(seconds: float) -> str:
    return fmt_ns(seconds * 1e9)


def latency_section(kind: str, sinks: dict[str, str | None], rounds: int) -> Result:
    procs: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for sink, url in sinks.items():
            port = _free_port()
            argv = [sys.executable, "-m", "benchmarks._receipts", kind, str(port), sink]
            if url:
                argv.append(url)
            procs[sink] = (subprocess.Popen(argv, cwd=ROOT), port)
            _wait_for(port)
        results = asyncio.run(_latency({k: p for k, (_, p) in procs.items()}, rounds))
    finally:
        for proc, _ in procs.values():
            proc.terminate()
        for proc, _ in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    rows = [
        "| receipts | p50 (median over bursts) | p90 | p99 | p50 / no receipts, per burst "
        "| p50 / made and discarded, per burst |",
        "|---|---|---|---|---|---|",
    ]
    for name, bursts in results.items():
        versus_none = "1" if name == "none" else fmt_ratio(_ratios(bursts, results["none"]))
        versus_built = "1" if name == "built" else fmt_ratio(_ratios(bursts, results["built"]))
        rows.append(
            f"| {LABELS[name]} | {_ms(statistics.median([statistics.median(b) for b in bursts]))} "
            f"| {_ms(statistics.median([_p(b, 0.9) for b in bursts]))} "
            f"| {_ms(statistics.median([_p(b, 0.99) for b in bursts]))} "
            f"| {versus_none} | {versus_built} |"
        )
    server = "uvicorn (h11, one worker)" if kind == "asgi" else "werkzeug's threaded server"
    verdicts = [
        Verdict(
            f"Consent route, {kind.upper()} under {server}, 200 concurrent posts: p50 with "
            f"{LABELS[name]} / without receipts",
            _ratios(results[name], results["none"]),
        )
        for name in ("sqlite", "postgres")
        if name in results
    ]
    section = (
        f"### {kind.upper()} under {server}: bursts of {CONCURRENCY} consent posts\n\n"
        f"{rounds} interleaved bursts per row: {CONCURRENCY} form posts to `/_consent` sent "
        f"at once on {CONCURRENCY} connections opened beforehand (werkzeug closes each after "
        "its response; it is reopened before the next burst), each post a different visitor "
        "with an earlier consent cookie; a post's latency runs from the burst's start to its "
        "whole response, so it includes waiting behind the burst's other posts. 0.2 s of quiet "
        "after each burst. *No receipts* is the route with a receipt builder that builds "
        "none; *made, then discarded* builds every receipt and drops it: the stores' rows "
        "against it show what writing adds, against *no receipts* what receipts add in all.\n\n"
        + "\n".join(rows)
        + "\n"
    )
    return Result(section, verdicts)


@contextlib.contextmanager
def postgres(url: str | None) -> Iterator[str | None]:
    """``url``, or with ``"auto"`` a throwaway local server (tests/support/postgres.py) when
    Debian's server binaries are installed, or None."""
    if url != "auto":
        yield url
        return
    from tests.support.postgres import PostgresServer, server_bindir

    bindir = server_bindir()
    if bindir is None:
        yield None
        return
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server.create_database()
    finally:
        server.remove()


def run(*, quick: bool, postgres_url: str | None) -> Result:
    """Every receipts row: the Markdown section and the target verdicts."""
    random.seed(0)
    started = time.monotonic()
    with postgres(postgres_url) as url:
        sinks: dict[str, str | None] = dict.fromkeys(("none", "built", "log", "sqlite"))
        if url:
            sinks["postgres"] = url
        parts = [
            "## Receipts: the consent route with and without them\n",
            f"*{machine()}; {versions('consentware', 'sqlalchemy', 'psycopg', 'uvicorn')}; "
            f"{os.cpu_count()} cores shared by the servers and the client"
            + ("" if url else "; no PostgreSQL server here, so no PostgreSQL row")
            + ".*\n",
        ]
        verdicts = []
        for kind in ("asgi", "wsgi"):
            result = latency_section(kind, sinks, 4 if quick else 20)
            parts.append(result.section)
            verdicts += result.verdicts
    parts.append(submit_section(8 if quick else 30))
    parts.append(f"*{time.monotonic() - started:.0f} s.*\n")
    return Result("\n".join(parts), verdicts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default="auto",
        help="a PostgreSQL store row on this database; 'auto' (the default) starts a "
        "throwaway server when one is installed; 'none' for no row",
    )
    parser.add_argument("--output", type=Path, help="also write the section here")
    args = parser.parse_args(argv)
    result = run(quick=args.quick, postgres_url=None if args.postgres == "none" else args.postgres)
    print(result.section)
    for verdict in result.verdicts:
        mark = "ok  " if verdict.met else "MISS"
        print(f"  {mark} {verdict.row}: {fmt_ratio(verdict.ratios)} (target ≤ {TARGET})")
    if args.output:
        args.output.write_text(result.section, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
