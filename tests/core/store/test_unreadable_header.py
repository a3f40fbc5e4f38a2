"""A study whose main file cannot be read alone (a checkpoint stopped by a full disk leaves it
inconsistent without its ``-wal``: an immutable read says "database disk image is malformed")
opens, saves and is never called "not a SQLite database" nor "moved" (user-level tester: after
freeing the disk, ``verify`` refused the study as not SQLite, and the app paused every save as
"Study file moved" for good)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cobbdesk.core.store import Study, file_identity


def test_a_study_whose_header_cannot_be_read_alone_opens_and_saves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="t") as study:
        study.add_patient("P1")  # tagged
    monkeypatch.setattr(file_identity, "_user_version", _raise_malformed)
    monkeypatch.setattr(file_identity.time, "sleep", lambda _s: None)
    assert file_identity.file_tag(path) == file_identity.UNREADABLE
    with Study.open(path) as study:  # not "not a CobbDesk study"
        assert study.file_guard is not None and study.file_guard.problem() is None
        study.add_patient("P2")  # not "moved"
        assert len(study.patients()) == 2


def test_a_file_that_is_not_sqlite_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.cobbdesk"
    path.write_bytes(b"not a database at all" * 10)
    assert file_identity.file_tag(path) is None
    with pytest.raises(Exception, match="not a SQLite database"):
        Study.open(path)


def _raise_malformed(uri: str) -> int:
    raise sqlite3.DatabaseError("database disk image is malformed")
