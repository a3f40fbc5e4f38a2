"""Files of a study this process has open are never opened and closed again: that would drop
SQLite's POSIX locks on them (https://www.sqlite.org/howtocorrupt.html §2.2), and another
program could then take the study out of WAL mode or delete its ``-wal`` under us.  Checked
with a real second process: while our locks stand it cannot switch the study out of WAL."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.core.errors import ExportError
from cobbdesk.core.importing.films import film_files
from cobbdesk.core.private import check_target
from cobbdesk.core.store import Study
from tests.sqlite_locks import other_program_leaves_wal


@pytest.fixture
def open_study(tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "films"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a film")
    study = Study.create(folder / "s.cobbdesk", actor="t")
    study.add_patient("P1")
    with study.engine.connect() as conn:  # a pooled connection stays open, with its locks
        conn.exec_driver_sql("SELECT count(*) FROM patients").fetchall()
    assert (folder / "s.cobbdesk-wal").exists() and (folder / "s.cobbdesk-shm").exists()
    yield study
    study.close()


def test_walking_a_folder_that_holds_the_open_study_keeps_its_locks(open_study: Study) -> None:
    folder = open_study.path.parent
    files, issues = film_files([folder])
    assert files == [] and issues == []
    assert other_program_leaves_wal(open_study.path) == "database is locked"


def test_naming_the_open_study_as_a_film_is_refused_unread(open_study: Study) -> None:
    files, issues = film_files([open_study.path])  # named: refused unread, said why
    assert files == [] and "CobbDesk has open" in issues[0].message
    assert other_program_leaves_wal(open_study.path) == "database is locked"


def test_an_output_named_like_the_open_study_is_refused_unread(open_study: Study) -> None:
    with pytest.raises(ExportError, match="open in CobbDesk: not read"):
        check_target(open_study.path)
    assert other_program_leaves_wal(open_study.path) == "database is locked"


def test_the_study_closed_its_files_are_free_again(open_study: Study) -> None:
    open_study.close()
    assert other_program_leaves_wal(open_study.path) == "delete"


def test_importing_the_folder_that_holds_the_open_study_keeps_its_locks(
    open_study: Study,
) -> None:
    """The import itself (header scan, photos), not just the film filter: the study, its
    -wal and -shm are not read, not counted, not listed as skipped; the next save lands."""
    from cobbdesk.core.importing.importer import import_paths

    report = import_paths(open_study, [open_study.path.parent])
    shown = " | ".join(str(issue) for issue in [*report.skipped, *report.errors])
    assert "s.cobbdesk" not in shown
    assert other_program_leaves_wal(open_study.path) == "database is locked"
    open_study.add_patient("P2")  # the -wal is still ours: the write goes on
    assert len(open_study.patients()) == 2


def test_importing_the_open_study_by_name_is_refused_unread(open_study: Study) -> None:
    from cobbdesk.core.importing.importer import import_paths

    report = import_paths(open_study, [open_study.path])
    shown = " | ".join(str(issue) for issue in [*report.skipped, *report.errors])
    assert "CobbDesk has open" in shown
    assert other_program_leaves_wal(open_study.path) == "database is locked"


def test_when_the_descriptors_cannot_be_listed_only_study_names_are_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No /dev/fd (review: every file was then taken as held and a folder import found
    nothing, silently): films are still found; a study's files are left unread, said so."""
    from cobbdesk.core import held_files
    from cobbdesk.core.importing.scan import collect_files

    (tmp_path / "a.dcm").write_bytes(b"x")
    (tmp_path / "s.cobbdesk").write_bytes(b"x")
    (tmp_path / "s.cobbdesk-wal").write_bytes(b"x")
    monkeypatch.setattr(held_files, "held_identities", lambda: None)
    monkeypatch.setattr("cobbdesk.core.importing.scan.held_identities", lambda: None)
    files, issues = collect_files([tmp_path])
    assert [f.name for f in files] == ["a.dcm"]
    assert sorted(i.path.name for i in issues) == ["s.cobbdesk", "s.cobbdesk-wal"]
