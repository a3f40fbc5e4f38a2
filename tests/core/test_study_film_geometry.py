"""film_check.study_film_geometry: what ``measure`` and the SR import read of a study film — the
file found as the study finds it, established to be the film, a user calibration in force in
place of its spacing, read once per stored path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.importing.film_check import FilmGeometry, study_film_geometry
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.store import Study
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

UID = "1.2.826.0.1.3680043.8.498.5151"


@pytest.fixture
def study(tmp_path: Path) -> Study:
    (tmp_path / "films").mkdir()
    spine = make_lateral_spine("cervical", 20.0, rows=1200, columns=1000, spacing_mm=(0.2, 0.1),
                               seed=5)  # fmt: skip
    film = write_dicom(spine, tmp_path / "films" / "a.dcm", sop_instance_uid=UID)
    made = Study.create(tmp_path / "s.cobbdesk", actor="t")
    assert len(import_paths(made, [film]).imported) == 1
    return made


def test_the_file_geometry_read_once_per_stored_path(study: Study, tmp_path: Path) -> None:
    record = study.film(1)
    cache: dict[str, FilmGeometry | str] = {}
    geo = study_film_geometry(study, record, cache)
    assert geo == FilmGeometry((0.2, 0.1), SpacingSource.PIXEL_SPACING, 1200, 1000)
    assert cache == {record.path: geo}
    Path(record.path).unlink()  # not read again: the cache answers
    assert study_film_geometry(study, record, cache) is geo
    gone = study_film_geometry(study, record, {})
    assert isinstance(gone, str) and "is missing" in gone
    study.close()


def test_a_user_calibration_replaces_the_file_spacing(study: Study) -> None:
    # a 100 px vertical line of 40 mm on pixels of shape 0.2:0.1 (vertical:horizontal):
    # k = 40 / sqrt((0 · 0.1)² + (100 · 0.2)²) = 2, spacing (k · 0.2, k · 0.1) = (0.4, 0.2) mm
    study.calibrate_film(1, (10, 10), (10, 110), 40.0, pixel_shape=(0.2, 0.1))
    geo = study_film_geometry(study, study.film(1), {})
    assert isinstance(geo, FilmGeometry)
    assert geo.spacing == pytest.approx((0.4, 0.2))
    assert (geo.source, geo.rows, geo.columns) == (SpacingSource.USER, 1200, 1000)
    study.close()


def test_an_older_relative_path_is_found_from_the_study_folder(study: Study,
                                                              tmp_path: Path) -> None:  # fmt: skip
    path = study.path
    study.close()
    with sqlite3.connect(path) as conn:  # as an older version wrote it
        conn.execute("UPDATE films SET path = 'films/a.dcm' WHERE id = 1")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.MonkeyPatch.context() as patch, Study.open(path) as again:
        patch.chdir(elsewhere)  # never the working folder
        geo = study_film_geometry(again, again.film(1), {})
    assert geo == FilmGeometry((0.2, 0.1), SpacingSource.PIXEL_SPACING, 1200, 1000)
