"""An SR export into a folder other studies export into too (two raters, each with a study file
of their own on the same films, one shared folder) removes only ITS OWN earlier SRs: an SR is
this study's when every measurement its CobbDesk records name is one of the study's (live or
deleted).  Another study's SR is left alone, and refused when a report would take its name
(breaker 9: the second study's export deleted all of the first's).  Reading the folder never
opens the study this process has open (its SQLite locks would drop: sqlite.org/howtocorrupt
§2.2): checked with a second process that must still find the study locked."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.core.errors import ExportError
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from tests.core.sr.test_sr import _film, _measure
from tests.sqlite_locks import other_program_leaves_wal


def _study(path: Path, films: list[Path], rater: str) -> Path:
    """A study at ``path`` of ``films``, each measured once by ``rater``."""
    with Study.create(path, actor=rater) as study:
        import_paths(study, films)
        for record in study.films():
            study.save_measurement(record.id, _measure(record.sop_instance_uid, rater))
    return path


@pytest.fixture
def films(tmp_path: Path) -> list[Path]:
    (tmp_path / "films").mkdir()
    return [_film(tmp_path / "films") for _ in range(2)]


def _export(path: Path, out: Path) -> list[Path]:
    removed: list[Path] = []
    with Study.open(path) as study:
        files, problems = export_sr(study, out, removed=removed)
    assert problems == [] and files
    return removed


def test_another_raters_study_keeps_its_srs_in_the_shared_folder(
    films: list[Path], tmp_path: Path
) -> None:
    kim = _study(tmp_path / "K.cobbdesk", films, "kim")
    ann = _study(tmp_path / "A.cobbdesk", films, "ann")
    out = tmp_path / "X"
    _export(kim, out)
    kims = {p.name: p.read_bytes() for p in out.iterdir()}
    assert len(kims) == 2
    assert _export(ann, out) == []  # nothing of kim's is ann's study's to remove
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in kims} == kims
    assert len(list(out.iterdir())) == 4
    with Study.open(ann, actor="ann") as study:  # ann deletes one: only ann's SR goes
        first = study.films()[0]
        (m,) = study.measurements(first.id)
        study.delete_measurement(m.id, reason="wrong endplate")
    (gone,) = _export(ann, out)
    assert "ann" in gone.name and first.sop_instance_uid in gone.name
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in kims} == kims
    assert len(list(out.iterdir())) == 3


def test_another_studys_sr_at_a_reports_name_is_refused_untouched(
    films: list[Path], tmp_path: Path
) -> None:
    first = _study(tmp_path / "A1.cobbdesk", films, "ann")  # the same rater, two study files
    second = _study(tmp_path / "A2.cobbdesk", films, "ann")
    out = tmp_path / "X"
    _export(first, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with (
        Study.open(second) as study,
        pytest.raises(ExportError, match="holding measurements of another study; it was left "
                      "untouched"),  # fmt: skip
    ):
        export_sr(study, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_exporting_into_the_open_studys_own_folder_keeps_its_locks(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    film = _film(folder)
    study = Study.create(folder / "s.cobbdesk", actor="ann")
    try:
        import_paths(study, [film])
        (record,) = study.films()
        study.save_measurement(record.id, _measure(record.sop_instance_uid, "ann"))
        with study.engine.connect() as conn:  # a pooled connection stays open, with its locks
            conn.exec_driver_sql("SELECT count(*) FROM films").fetchall()
        assert (folder / "s.cobbdesk-wal").exists() and (folder / "s.cobbdesk-shm").exists()
        files, problems = export_sr(study, folder)
        assert problems == [] and len(files) == 1
        assert other_program_leaves_wal(study.path) == "database is locked"
    finally:
        study.close()
