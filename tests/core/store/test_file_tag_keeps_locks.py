"""Reading the study tag never drops this process's SQLite locks on the study file.

POSIX: closing any descriptor of a file drops every lock the process holds on it
(https://www.sqlite.org/howtocorrupt.html §2.2).  A connection in WAL mode holds a shared lock
on the database file while it is open; with it gone, another program may take the file back
out of WAL mode (or, closing last, delete the ``-wal`` under us).  ``file_tag`` runs before
every write transaction, so it must read without ``open()``/``close()`` of its own.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cobbdesk.core.store import Study
from cobbdesk.core.store.file_identity import file_tag
from tests.sqlite_locks import other_program_leaves_wal


def test_reading_the_tag_keeps_the_locks_of_an_open_connection(tmp_path: Path) -> None:
    path = tmp_path / "s.cobbdesk"
    Study.create(path, actor="t").close()
    with Study.open(path) as study:
        study.add_patient("P1")  # a write: the study's tag is in the file
    held = sqlite3.connect(path)
    try:
        assert held.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        held.execute("SELECT count(*) FROM patients").fetchone()  # holds its shared lock
        assert file_tag(path) not in (None, 0)
        # the lock still stands: the other program cannot take the file out of WAL mode
        assert other_program_leaves_wal(path) == "database is locked"
    finally:
        held.close()
    assert other_program_leaves_wal(path) == "delete"  # and can once we let go


def test_a_file_that_is_not_sqlite_has_no_tag(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(b"not a database" * 20)
    (tmp_path / "empty").write_bytes(b"")
    assert file_tag(tmp_path / "x") is None
    assert file_tag(tmp_path / "empty") is None
    assert file_tag(tmp_path / "missing") is None


def test_opening_the_study_again_in_this_process_keeps_the_locks(tmp_path: Path) -> None:
    """Study.open checks the file is SQLite before opening it (dialect.probe): through
    SQLite, so a second opening here (another window, a CLI helper) leaves the first one's
    locks standing."""
    path = tmp_path / "s.cobbdesk"
    Study.create(path, actor="t").close()
    held = sqlite3.connect(path)
    try:
        held.execute("SELECT count(*) FROM patients").fetchone()
        Study.open(path, read_only=True).close()
        Study.open(path).close()
        assert other_program_leaves_wal(path) == "database is locked"
    finally:
        held.close()
