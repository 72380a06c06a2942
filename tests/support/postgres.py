"""A throwaway PostgreSQL cluster on loopback, for the tests that need a real server.

When Debian's server binaries exist (``/usr/lib/postgresql/*/bin/initdb``), the session fixture
``postgres_server`` runs ``initdb`` in a temporary directory, starts ``postgres`` on 127.0.0.1
and a free port with trust authentication (nothing but loopback can reach it), and stops and
deletes it at the end of the session. PostgreSQL refuses to run as root, so under root every
server command runs as the ``postgres`` system user (``runuser -u postgres --``) in a directory
it owns. ``postgres_url`` gives each test a database of its own on that server.

The server can be stopped and started again in the middle of a test, which is how the outage
tests take the database away::

    def test_outage(postgres_server: PostgresServer, postgres_url: str) -> None:
        postgres_server.stop()     # pg_ctl stop: connections refused from here on
        ...
        postgres_server.start()    # same port, same data

Without the binaries these fixtures skip with the reason, unless ``CI`` or
``CONSENTWARE_REQUIRE_POSTGRES`` is set (1/true/yes): then their absence fails the test, so a CI
machine that lost PostgreSQL cannot pass by skipping. ``.ci/run`` installs ``postgresql``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from glob import glob
from pathlib import Path

import pytest

INITDB_GLOB = "/usr/lib/postgresql/*/bin/initdb"
REQUIRE_VARIABLES = ("CONSENTWARE_REQUIRE_POSTGRES", "CI")
_TIMEOUT = 120


def server_bindir() -> Path | None:
    """The newest installed server's bin directory, or None."""
    found = [Path(p).parent for p in glob(INITDB_GLOB)]
    if not found:
        return None
    return max(found, key=lambda p: _version_key(p.parent.name))


def postgres_required() -> bool:
    """Whether a missing server must fail instead of skip (CI)."""
    return any(
        os.environ.get(name, "").strip().lower() in ("1", "true", "yes")
        for name in REQUIRE_VARIABLES
    )


def missing_server() -> None:
    """Skip the calling test, or fail it where PostgreSQL is required."""
    reason = (
        f"no PostgreSQL server binaries ({INITDB_GLOB}); apt-get install postgresql (.ci/run does)"
    )
    if postgres_required():
        pytest.fail(f"{reason}, and CI/CONSENTWARE_REQUIRE_POSTGRES says they are required")
    pytest.skip(reason)


class PostgresServer:
    """One throwaway cluster: ``start``, ``stop``, ``url``, ``create_database``."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="consentware-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self._as_user = _run_as_postgres()
        if self._as_user:
            account = pwd.getpwnam("postgres")
            os.chown(self.root, account.pw_uid, account.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "--auth=trust",
            "--username=postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server (psycopg 3)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        status = self._run("pg_ctl", "status", "-D", str(self.data), check=False)
        return status.returncode == 0

    def start(self) -> None:
        """Start (or start again) on the same port; returns when it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c max_connections=200"
        )
        self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options)

    def stop(self) -> None:
        """Stop now (``-m fast``: open sessions are cut, as in a crash of the link)."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")

    def create_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self._dsn(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        import psycopg

        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self._dsn(), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            if self.running:
                self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def server_log(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def _dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def _run(
        self, program: str, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / program), *args]
        if self._as_user:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=_TIMEOUT, cwd=self.root, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} exited {result.returncode}:\n{result.stdout}"
                f"{result.stderr}\n{self.server_log()}"
            )
        return result


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A started throwaway server, removed on exit (skips or fails without binaries)."""
    bindir = server_bindir()
    if bindir is None:
        missing_server()
        raise AssertionError("unreachable")
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's throwaway PostgreSQL server."""
    with running_server() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database on the session's server (started again if a test left it stopped)."""
    if not postgres_server.running:
        postgres_server.start()
    url = postgres_server.create_database()
    yield url
    if not postgres_server.running:
        postgres_server.start()
    postgres_server.drop_database(url)


def _run_as_postgres() -> bool:
    if os.geteuid() != 0:
        return False
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root, and there is no 'postgres' user to run the server as")
    if shutil.which("runuser") is None:
        pytest.fail("running as root, and runuser (util-linux) is missing")
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)
