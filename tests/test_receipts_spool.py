"""The spool on a real file system: appends, cuts, adoption of what a dead process left."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest

from consentware.receipts._spool import Spool
from tests.support.receipts import make_receipt


def own_files(spool: Spool) -> list[Path]:
    return sorted(p for p in spool.path.parent.iterdir() if p.name.startswith(spool.path.name))


def test_append_then_release_cuts_the_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "r.spool")
    receipts = [make_receipt(n) for n in range(5)]
    spool.append(receipts[:2])
    spool.append(receipts[2:])
    (segment,) = spool.segments()
    assert list(segment.receipts()) == receipts
    assert list(spool.peek()) == receipts
    segment.release()
    assert list(spool.peek()) == []
    assert not spool.has_pending()
    (path,) = own_files(spool)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    spool.close()
    assert own_files(spool) == []  # an empty own file is removed at close


def test_what_was_appended_during_a_replay_stays(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "r.spool")
    first, later = [make_receipt(n) for n in range(3)], [make_receipt(n) for n in range(3, 5)]
    spool.append(first)
    (segment,) = spool.segments()
    assert list(segment.receipts()) == first
    spool.append(later)  # while the first three were being committed
    segment.release()
    assert list(spool.peek()) == later
    (again,) = spool.segments()
    assert list(again.receipts()) == later
    spool.append([make_receipt(9)])  # the replaced file is still ours, locked and appendable
    assert len(list(spool.peek())) == 3


def test_a_live_spool_is_not_adopted_and_a_dead_one_is(tmp_path: Path) -> None:
    path = tmp_path / "r.spool"
    alive, other = Spool(path), Spool(path)
    mine = [make_receipt(1)]
    alive.append(mine)
    # Same path, another holder (another worker): its file is locked, so not ours to take.
    assert other.segments() == []
    assert list(other.peek()) == mine  # but reads see it
    alive.close()  # the worker exits with its spool not replayed
    (segment,) = other.segments()
    assert list(segment.receipts()) == mine
    segment.release()
    assert own_files(other) == []


def test_a_torn_last_line_is_reported_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "r.spool"
    good = make_receipt(1)
    path.write_text(good.to_json() + "\nnot json\n" + make_receipt(2).to_json()[:40])
    spool = Spool(path)
    assert list(spool.peek()) == [good]  # a read says nothing about lines it skips
    with caplog.at_level(logging.ERROR, logger="consentware.receipts"):
        (segment,) = spool.segments()
        assert list(segment.receipts()) == [good]
    messages = [r.getMessage() for r in caplog.records]
    assert any("line 2 is not a receipt" in m and "not json" in m for m in messages)
    assert any("torn line" in m for m in messages)


def test_an_unwritable_place_raises_os_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        Spool(blocker / "r.spool").append([make_receipt()])


def test_a_forked_child_writes_its_own_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "r.spool")
    spool.append([make_receipt(1)])
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            spool.append([make_receipt(2)])
            code = 0 if len(own_files(spool)) == 2 else 1
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sorted(r.consent_id for r in spool.peek()) == ["visitor-001", "visitor-002"]
    assert [len(list(s.receipts())) for s in spool.segments()] == [1, 1]
