"""A study file rewritten *in place* by another study while open: writes are refused.

``cp other.cobbdesk study.cobbdesk`` (or a sync tool writing into the file) keeps the inode, so
the move check (st_dev, st_ino) did not see it, and the next save went into the other study's
file.  Each study now carries its own tag in the file's header, read from the disk before every
write transaction (:mod:`cobbdesk.core.store.file_identity`).  Each test rewrites the open
study's file with another real study file, byte for byte, through the same inode.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from cobbdesk.core.errors import StudyMovedError
from cobbdesk.core.store import Study
from cobbdesk.core.store.file_identity import REPLACED, file_tag, identity
from cobbdesk.core.store.outbox import First, Outbox, Phase


def _other_study(folder: Path, *, tagged: bool = True) -> Path:
    path = folder / "other" / "o.cobbdesk"
    with Study.create(path, actor="someone") as other:
        other.add_patient("Q0001")
        other.add_patient("Q0002")
    if not tagged:
        _untag(path)
    return path


def _untag(path: Path) -> None:
    """Make ``path`` a study from before the tag (header user version 0), closed."""
    with sqlite3.connect(path, isolation_level=None) as raw:
        raw.execute("PRAGMA user_version=0")
        raw.execute("PRAGMA journal_mode=DELETE")
    raw.close()
    assert file_tag(path) == 0


def _rewrite(source: Path, target: Path) -> None:
    """``cp source target``: truncate ``target`` and write ``source``'s bytes into its inode."""
    before = identity(target)
    shutil.copyfile(source, target)
    assert identity(target) == before  # the same file: the move check cannot see it


def _names_on_disk(path: Path) -> list[str]:
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as raw:
        return [r[0] for r in raw.execute("SELECT study_id FROM patients ORDER BY study_id")]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_study_rewritten_in_place_by_another_refuses_writes(tmp_path: Path) -> None:
    path = tmp_path / "a" / "s.cobbdesk"
    study = Study.create(path, actor="tester")
    study.add_patient("P0001")
    assert [p.study_id for p in study.patients()] == ["P0001"]  # the pool has read, too
    _rewrite(_other_study(tmp_path), path)
    before = _digest(path)
    with pytest.raises(StudyMovedError) as refused:
        study.add_patient("P0002")
    assert str(refused.value) == f"s.cobbdesk: {REPLACED}"
    assert "\n" not in str(refused.value)
    study.engine.dispose()  # a new pooled connection is refused as well
    with pytest.raises(StudyMovedError):
        study.add_patient("P0003")
    assert study.file_guard is not None and study.file_guard.moved()
    assert _digest(path) == before  # not a byte of the other study's file changed
    study.close()
    assert _names_on_disk(path) == ["Q0001", "Q0002"]


def test_the_write_queue_keeps_the_edit_until_the_study_is_put_back(tmp_path: Path) -> None:
    """As for a moved file: the edit is kept (never failed), the reason says "overwritten",
    and it is saved once the study's own file is back at its name."""
    path = tmp_path / "a" / "s.cobbdesk"
    study = Study.create(path, actor="tester")
    study.add_patient("P0001")
    kept_copy = tmp_path / "own.cobbdesk"
    shutil.copyfile(path, kept_copy)  # the study's own file, whole (checkpointed after writes)
    _rewrite(_other_study(tmp_path), path)
    box = Outbox("rewritten", backoff=(3600.0,), first_wait_s=5.0)
    first, _ = box.call(lambda: study.add_patient("P0002"), "adding a patient")
    assert first is First.KEPT
    state = box.state()
    assert state.phase is Phase.WAITING and state.pending == 1
    assert state.problem == f"s.cobbdesk: {REPLACED}"
    _rewrite(kept_copy, path)  # put back
    box.retry_now()
    assert box.wait_idle(30)
    assert box.state().text() == "All changes saved"
    box.close()
    study.close()
    with Study.open(path) as fresh:
        assert [p.study_id for p in fresh.patients()] == ["P0001", "P0002"]


def test_every_new_study_has_its_own_tag_in_its_file(tmp_path: Path) -> None:
    tags = set()
    for name in ("a", "b", "c"):
        with Study.create(tmp_path / f"{name}.cobbdesk", actor="tester") as study:
            assert study.file_guard is not None and study.file_guard.tag
            tags.add(file_tag(tmp_path / f"{name}.cobbdesk"))
    assert len(tags) == 3 and 0 not in tags and None not in tags


def test_an_older_study_gets_its_tag_at_its_first_write_then_is_guarded(tmp_path: Path) -> None:
    """A study from before the tag: its first write records one (into the file by the
    checkpoint after it); from then on an untagged file written over it is refused."""
    path = tmp_path / "a" / "s.cobbdesk"
    with Study.create(path, actor="tester") as study:
        study.add_patient("P0001")
    _untag(path)
    study = Study.open(path, actor="tester")
    assert study.file_guard is not None and study.file_guard.tag == 0
    study.add_patient("P0002")
    tag = file_tag(path)
    assert tag and study.file_guard.assigned == tag
    assert not study.file_guard.moved() and study.file_guard.tag == tag
    _rewrite(_other_study(tmp_path, tagged=False), path)
    with pytest.raises(StudyMovedError, match="overwritten with another study"):
        study.add_patient("P0003")
    study.close()
    assert _names_on_disk(path) == ["Q0001", "Q0002"]


def test_two_programs_writing_an_older_study_agree_on_its_tag(tmp_path: Path) -> None:
    """The tag is read under the write lock: the second writer takes the first one's."""
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="tester") as study:
        study.add_patient("P0001")
    _untag(path)
    one, two = Study.open(path, actor="one"), Study.open(path, actor="two")
    one.add_patient("P0002")
    two.add_patient("P0003")
    one.add_patient("P0004")
    assert one.file_guard is not None and two.file_guard is not None
    assert one.file_guard.tag == two.file_guard.tag == file_tag(path) != 0
    one.close()
    two.close()
    with Study.open(path) as fresh:
        assert len(fresh.patients()) == 4


def test_a_rewrite_that_leaves_no_sqlite_header_is_refused(tmp_path: Path) -> None:
    """A file truncated, or half written by a copy in progress: no header, no tag."""
    path = tmp_path / "s.cobbdesk"
    study = Study.create(path, actor="tester")
    study.add_patient("P0001")
    with open(path, "r+b") as handle:  # the same inode, emptied as ``cp`` does first
        handle.truncate(0)
    assert file_tag(path) is None
    with pytest.raises(StudyMovedError, match="overwritten"):
        study.add_patient("P0002")
    study.close()
    assert path.stat().st_size == 0


def test_closing_copies_none_of_the_studys_pages_into_the_other_studys_file(
    tmp_path: Path,
) -> None:
    """Commits still in the ``-wal`` (a reader held them back) when the file is overwritten:
    SQLite's own checkpoint at the last close (the inode looks unmoved) copied them into the
    other study's file, which then showed this study's patients."""
    path = tmp_path / "a" / "s.cobbdesk"
    study = Study.create(path, actor="tester")
    study.add_patient("P0001")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM patients").fetchone()
    study.add_patient("P0002")  # its frames stay in the -wal while the reader's snapshot lasts
    reader.execute("COMMIT")
    reader.close()
    _rewrite(_other_study(tmp_path), path)
    before = _digest(path)
    study.close()
    assert _digest(path) == before
    assert _names_on_disk(path) == ["Q0001", "Q0002"]
    with Study.open(path) as fresh:  # opened with what is left beside it: the other study
        assert [p.study_id for p in fresh.patients()] == ["Q0001", "Q0002"]
