"""A study file moved, renamed or replaced while open: writes are refused, nothing is written.

A tester found saves of a moved study landing in the pooled connection's moved inode and in a
``-wal`` left at the old name while the window said "All changes saved".  The study records the
file's identity (st_dev, st_ino) when it opens and every write transaction checks it
(:mod:`cobbdesk.core.store.file_identity`).  Each test first reads *and* writes through the
pool, so the connection that would write already holds the file open.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import insert

from cobbdesk.core.errors import StoreError, StudyMovedError
from cobbdesk.core.store import Study
from cobbdesk.core.store.file_identity import MOVED, WAL_GONE, FileGuard, identity
from cobbdesk.core.store.outbox import First, Outbox, Phase
from cobbdesk.core.store.schema import patients


def _digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def _files(folder: Path) -> dict[str, str | None]:
    """Every file's content hash; the -shm index is left out (readers write to it)."""
    return {p.name: _digest(p) for p in sorted(folder.iterdir()) if not p.name.endswith("-shm")}


def _rows(path: Path) -> int:
    """Patients in the file at ``path``, read fresh (a new connection, WAL applied)."""
    with Study.open(path) as fresh:
        return len(fresh.patients())


def _rows_as_is(path: Path) -> int:
    """Patients in the file at ``path`` alone, read without writing a byte (immutable)."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as raw:
        return int(raw.execute("SELECT count(*) FROM patients").fetchone()[0])


def _warm(folder: Path, name: str = "s.cobbdesk") -> tuple[Study, Path]:
    """A study with one patient whose pool has read and written already."""
    path = folder / name
    study = Study.create(path, actor="tester")
    study.add_patient("P0001")
    assert [p.study_id for p in study.patients()] == ["P0001"]
    return study, path


def test_a_study_moved_to_another_folder_refuses_writes_and_writes_nothing(
    tmp_path: Path,
) -> None:
    study, path = _warm(tmp_path / "a")
    (tmp_path / "b").mkdir()
    moved = tmp_path / "b" / "s.cobbdesk"
    os.rename(path, moved)
    before_a, before_b = _files(tmp_path / "a"), _files(tmp_path / "b")
    rows_before = _rows_as_is(moved)
    with pytest.raises(StudyMovedError) as refused:
        study.add_patient("P0002")
    assert str(refused.value) == f"s.cobbdesk: {MOVED}"
    assert "\n" not in str(refused.value)
    assert _files(tmp_path / "a") == before_a  # the -wal left at the old name: untouched
    assert _files(tmp_path / "b") == before_b  # the moved inode: untouched
    assert not path.exists()  # nothing re-created at the old name
    assert [p.study_id for p in study.patients()] == ["P0001"]  # reads go on
    study.close()
    assert _files(tmp_path / "a") == before_a and _files(tmp_path / "b") == before_b
    assert _rows_as_is(moved) == rows_before  # the moved file alone: as before the refusal
    # P0001 was committed into the -wal that stays at the old name (SQLite does not
    # checkpoint into a renamed file): moved back, the study is whole, P0002 is nowhere
    os.rename(moved, path)
    assert _rows(path) == 1


def test_a_write_that_bypasses_the_write_path_is_refused_at_commit(tmp_path: Path) -> None:
    """The commit listener: any transaction's changes, however begun, never reach the file."""
    study, path = _warm(tmp_path)
    moved = tmp_path / "elsewhere.cobbdesk"
    path.rename(moved)
    before = _files(tmp_path)
    with pytest.raises(StudyMovedError), study.engine.begin() as conn:
        conn.execute(insert(patients).values(study_id="P0002", created_utc="2026-01-01"))
    assert _files(tmp_path) == before
    study.close()
    moved.rename(path)
    assert _rows(path) == 1


@pytest.mark.parametrize("how", ["replace", "replace-after-delete"])
def test_a_study_replaced_at_its_path_refuses_writes(tmp_path: Path, how: str) -> None:
    study, path = _warm(tmp_path / "a")
    other_folder = tmp_path / "other"
    other = Study.create(other_folder / "o.cobbdesk", actor="someone")
    other.add_patient("Q0001")
    other.add_patient("Q0002")
    other.close()
    copy = tmp_path / "a" / "incoming.tmp"
    shutil.copy2(other_folder / "o.cobbdesk", copy)  # a file manager: copy, then rename over
    if how == "replace-after-delete":
        path.unlink()
    os.replace(copy, path)
    assert identity(path) != study.file_guard.opened  # type: ignore[union-attr]
    before = _files(tmp_path / "a")
    with pytest.raises(StudyMovedError):
        study.add_patient("P0002")
    study.engine.dispose()  # a new connection opens the replacement: refused all the same
    with pytest.raises(StudyMovedError):
        study.add_patient("P0003")
    assert _files(tmp_path / "a") == before
    study.close()
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as raw:  # the file alone
        names = [r[0] for r in raw.execute("SELECT study_id FROM patients ORDER BY study_id")]
    assert names == ["Q0001", "Q0002"]  # the replacement holds exactly its own patients
    with Study.open(path) as fresh:  # with the -wal left at the name: never a refused edit
        assert not {"P0002", "P0003"} & {p.study_id for p in fresh.patients()}


def test_moved_back_writes_resume(tmp_path: Path) -> None:
    study, path = _warm(tmp_path)
    away = tmp_path / "away.cobbdesk"
    path.rename(away)
    with pytest.raises(StudyMovedError):
        study.add_patient("P0002")
    away.rename(path)  # the same inode at the path again
    assert study.file_guard is not None and not study.file_guard.moved()
    study.add_patient("P0002")
    study.close()
    assert _rows(path) == 2


def test_the_write_queue_keeps_the_edit_and_saves_it_when_the_file_is_back(
    tmp_path: Path,
) -> None:
    """The GUI's queue keeps a refused edit (never failed: the user does not lose it), says so,
    and saves it once the file is back — "All changes saved" only then."""
    study, path = _warm(tmp_path)
    box = Outbox("moved", backoff=(3600.0,), first_wait_s=5.0)
    away = tmp_path / "away.cobbdesk"
    path.rename(away)
    first, _ = box.call(lambda: study.add_patient("P0002"), "adding a patient")
    assert first is First.KEPT
    state = box.state()
    assert state.phase is Phase.WAITING and state.pending == 1
    assert state.text().startswith("Study file moved, saves paused — 1 edit kept")
    assert "All changes saved" not in state.text()
    assert state.problem == f"s.cobbdesk: {MOVED}"
    box.retry_now()  # still moved: kept again, nothing written
    assert not box.wait_idle(0.5)
    assert box.state().phase is Phase.WAITING
    away.rename(path)
    box.retry_now()
    assert box.wait_idle(30)
    assert box.state().text() == "All changes saved"
    box.close()
    study.close()
    assert _rows(path) == 2


def test_a_deleted_wal_refuses_writes(tmp_path: Path) -> None:
    """A ``-wal`` removed under the open study: later connections would not see its commits."""
    study, path = _warm(tmp_path)
    wal = path.with_name(path.name + "-wal")
    assert wal.is_file()
    wal.unlink()
    with pytest.raises(StudyMovedError) as refused:
        study.add_patient("P0002")
    assert WAL_GONE in str(refused.value)
    study.close()


def test_a_new_connection_after_the_move_reports_the_move(tmp_path: Path) -> None:
    """No idle pooled connection: the engine cannot open the old path (``mode=rw``); the fault
    is reported as the move (kept by the write queue), not as an unreadable file."""
    study, path = _warm(tmp_path)
    study.engine.dispose()
    path.rename(tmp_path / "moved.cobbdesk")
    with pytest.raises(StudyMovedError):
        study.add_patient("P0002")
    with pytest.raises(StoreError):
        study.patients()
    study.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moved.cobbdesk"]


def test_the_guard_follows_what_sqlite_opened_and_costs_a_stat(tmp_path: Path) -> None:
    """A study opened through a symbolic link is checked at the link's target (SQLite opened
    the resolved path); a folder or nothing at the path is "moved"."""
    study, path = _warm(tmp_path)
    study.close()
    link = tmp_path / "link.cobbdesk"
    link.symlink_to(path)
    guard = FileGuard(link)
    assert guard.opened == identity(path) and not guard.moved()
    link.unlink()  # the link is gone, the file SQLite opened is still there
    assert not guard.moved()
    path.rename(tmp_path / "x.cobbdesk")
    path.mkdir()
    assert guard.moved() and identity(path) is None


def test_a_read_only_study_has_no_guard_and_reads_after_a_move(tmp_path: Path) -> None:
    study, path = _warm(tmp_path)
    study.close()
    ro = Study.open(path, read_only=True)
    assert ro.file_guard is None
    assert len(ro.patients()) == 1
    ro.close()


def test_reads_after_a_move_are_not_refused(tmp_path: Path) -> None:
    """Only writes are checked: a read transaction that commits (an integrity check) goes on
    through the pooled connection."""
    study, path = _warm(tmp_path)
    path.rename(tmp_path / "moved.cobbdesk")
    assert study.verify_integrity().ok
    assert [p.study_id for p in study.patients()] == ["P0001"]
    study.close()


def test_no_new_study_is_created_over_the_wal_a_moved_study_left(tmp_path: Path) -> None:
    """The ``-wal`` a study moved while open leaves at its old name holds its newest commits;
    a new study created at that name was shown *those* patients (SQLite applied the -wal)."""
    study, path = _warm(tmp_path)
    study.add_patient("P0002")
    path.rename(tmp_path / "away.cobbdesk")
    study.close()
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 0  # SQLite does not checkpoint into a renamed file
    with pytest.raises(StoreError) as refused:
        Study.create(path, actor="new")
    assert "s.cobbdesk-wal file is left at this name" in str(refused.value)
    assert not path.exists()
    (tmp_path / "away.cobbdesk").rename(path)  # put back: the study is whole
    assert _rows(path) == 2
