"""The checkpointer never loses commits: a failed read of the file's header at close is not
taken for an overwritten file (review: one transient failure emptied the ``-wal`` and lost
two saved patients), an overwritten file's frames are kept beside it, and a checkpoint that
found SQLite's checkpoint lock busy is not counted as whole."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cobbdesk.core.store import Study, file_identity
from cobbdesk.core.store.checkpoint import checkpoint


def _patients(path: Path) -> list[str]:
    with Study.open(path, read_only=True) as study:
        return sorted(p.study_id for p in study.patients())


def test_a_failed_header_read_at_close_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.cobbdesk"
    Study.create(path, actor="t").close()
    with Study.open(path) as study:
        study.add_patient("P0")  # the study's tag is in the file
    study = Study.open(path)
    reader = sqlite3.connect(path, isolation_level=None)  # holds the frames in the -wal
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM patients").fetchone()
    study.add_patient("P1")
    study.add_patient("P2")
    real, calls = file_identity.file_tag, []

    def flaky(where: Path | str) -> int | None:  # one EIO/ESTALE-like failure
        calls.append(where)
        return None if len(calls) == 1 else real(where)

    monkeypatch.setattr(file_identity, "file_tag", flaky)
    study.close()
    monkeypatch.undo()
    reader.execute("COMMIT")
    reader.close()
    assert calls and _patients(path) == ["P0", "P1", "P2"]


def test_an_overwritten_files_frames_are_kept_beside_it(tmp_path: Path) -> None:
    path, other = tmp_path / "s.cobbdesk", tmp_path / "other.cobbdesk"
    for where, first in ((path, "P0"), (other, "Q0")):
        Study.create(where, actor="t").close()
        with Study.open(where) as made:
            made.add_patient(first)
    study = Study.open(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM patients").fetchone()
    study.add_patient("P1")  # in the -wal only: the reader holds it back
    reader.execute("COMMIT")
    reader.close()
    path.write_bytes(other.read_bytes())  # rewritten in place: same inode, another study
    study.close()
    kept = list(tmp_path.glob("s.cobbdesk-wal.replaced-*"))
    assert len(kept) == 1 and kept[0].stat().st_size > 0
    assert _patients(path) == ["Q0"]  # the other study's file got none of ours


def test_a_checkpoint_that_found_the_lock_busy_is_not_whole(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE t(x)")
    for _ in range(20):
        conn.execute("INSERT INTO t VALUES (randomblob(3000))")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()
    conn.execute("INSERT INTO t VALUES (1)")  # a frame the reader does not see
    full = subprocess.Popen([sys.executable, "-c", (
        "import sqlite3, sys; k = sqlite3.connect(sys.argv[1], isolation_level=None);"
        "k.execute('PRAGMA busy_timeout=3000'); k.execute('PRAGMA wal_checkpoint(FULL)')"
    ), str(path)])  # fmt: skip
    try:
        deadline = time.monotonic() + 2.0
        busy = None
        while time.monotonic() < deadline:  # until the other program holds the lock
            busy = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if busy[0] == 1:
                break
            time.sleep(0.02)
        assert busy is not None and busy[0] == 1, busy
        assert checkpoint(conn) is False
    finally:
        reader.execute("COMMIT")
        full.wait()
        reader.close()
        conn.close()
