"""The PostgreSQL fixture's own rules: skip only without binaries, and never under CI."""

from __future__ import annotations

import pytest

from tests.support import postgres


def test_no_binaries_skips_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "INITDB_GLOB", "/nonexistent/postgresql/*/bin/initdb")
    for name in postgres.REQUIRE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert postgres.server_bindir() is None
    with pytest.raises(pytest.skip.Exception, match="apt-get install postgresql"):
        postgres.missing_server()


@pytest.mark.parametrize(
    ("name", "value"),
    [("CI", "1"), ("CI", "true"), ("CONSENTWARE_REQUIRE_POSTGRES", "1")],
)
def test_under_ci_no_binaries_fails(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    for other in postgres.REQUIRE_VARIABLES:
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(name, value)
    with pytest.raises(pytest.fail.Exception, match="required"):
        postgres.missing_server()


def test_versions_sort_as_numbers() -> None:
    assert postgres._version_key("9.6") < postgres._version_key("15") < postgres._version_key("16")


@pytest.mark.postgres
def test_the_server_stops_and_starts_on_the_same_port(
    postgres_server: postgres.PostgresServer, postgres_url: str
) -> None:
    import psycopg

    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    port = postgres_server.port
    postgres_server.stop()
    assert not postgres_server.running
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2).close()
    postgres_server.start()
    assert postgres_server.port == port
    with psycopg.connect(dsn) as connection:
        assert connection.execute("select 1").fetchone() == (1,)
