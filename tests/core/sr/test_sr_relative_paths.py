"""An older study holding its films' paths relative to the study file (``cobbdesk demo`` with a
relative folder) is exported as SR as it is measured: the film file is found beside the study
(:func:`~cobbdesk.core.importing.films.study_film_path`), never in the working folder."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from sqlalchemy import update

from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import films
from tests.core.sr.test_sr import _film, _measure


def test_a_film_stored_relative_to_the_study_file_is_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "project"
    (home / "films").mkdir(parents=True)
    film = _film(home / "films")
    study_path = home / "s.cobbdesk"
    with Study.create(study_path, actor="ann") as study:
        import_paths(study, [film])
        (record,) = study.films()
        study.save_measurement(record.id, _measure(record.sop_instance_uid, "ann"))
        with study.engine.begin() as conn:  # as an older version wrote it
            conn.execute(update(films).values(path=f"films/{film.name}"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the working folder holds no films/ folder
    with Study.open(study_path, actor="ann") as study:
        assert study.films()[0].path == f"films/{film.name}"
        written, problems = export_sr(study, tmp_path / "sr")
    assert problems == [] and len(written) == 1
    sr = pydicom.dcmread(written[0].path)
    evidence = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert evidence.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == record.sop_instance_uid
