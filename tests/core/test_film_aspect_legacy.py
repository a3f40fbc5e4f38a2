"""A film imported before CobbDesk read Pixel Aspect Ratio takes its file's at a verified open.

Schema 3 added an empty aspect to every film, and the import read Pixel Aspect Ratio
(0028,0034) only later: a genuine 1:2 film of that era was refused on every open ("Pixel Aspect
Ratio is 1:2, the study recorded 1:1").  The study is a frozen schema-1 file
(``tests/data/study_v1.sql``) whose film is pointed at a real DICOM file written here (Pixel
Aspect Ratio 1\\2, no spacing, its pixel hash recorded as a first opening would have): opened,
it is migrated, the v4 migration's audit snapshot marking the film as imported before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from cobbdesk.core.compare.saver import read_saved
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.errors import ValidationError
from cobbdesk.core.importing.film_check import checked_film_file
from cobbdesk.core.importing.relink import from_saved, mismatch, recorded
from cobbdesk.core.store import Study
from cobbdesk.core.store.film_aspect import REASON, aspect_unrecorded, early_films
from cobbdesk.core.store.schema import audit

FROZEN_V1 = Path(__file__).resolve().parents[1] / "data" / "study_v1.sql"
UID = "1.2.826.0.1.3680043.8.498.778"


def _film(make_ds: Callable[..., Any], path: Path, aspect: str | None = "1\\2") -> Path:
    pixels = np.random.default_rng(5).integers(0, 4000, (400, 300), dtype=np.uint16)
    extra: dict[str, Any] = {"SOPInstanceUID": UID, "PatientOrientation": ["A", "F"]}
    if aspect is not None:
        extra["PixelAspectRatio"] = aspect.split("\\")
    ds = make_ds(pixels, pixel_spacing=None, **extra)
    ds.file_meta.MediaStorageSOPInstanceUID = UID
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _legacy(tmp_path: Path, film: Path, *, measured_in: str | None = None) -> Study:
    """The schema-1 study, its film #1 being ``film`` (hashed); its one measurement kept in
    pixels (``measured_in="pixels"``), in mm (``"mm"``: the frozen row) or removed."""
    path = tmp_path / "legacy.cobbdesk"
    raw = sqlite3.connect(path)
    raw.executescript(FROZEN_V1.read_text(encoding="utf-8"))
    raw.execute(
        "UPDATE films SET sop_instance_uid = ?, pixel_sha256 = ?, path = ? WHERE id = 1",
        (UID, read_film(film).pixel_sha256, str(film)),
    )
    if measured_in == "pixels":  # as the code of that time stored it: no aspect, square
        raw.execute("UPDATE measurements SET spacing_row_mm = NULL, spacing_col_mm = NULL, "
                    "spacing_source = 'none'")  # fmt: skip
    elif measured_in == "calibration":  # computed with a calibration since retired
        raw.execute("UPDATE measurements SET spacing_source = 'user calibration'")
    elif measured_in is None:
        raw.execute("DELETE FROM measurements")
    raw.commit()
    raw.close()
    return Study.open(path, actor="dr_b")


def test_the_film_takes_its_files_aspect_at_its_first_verified_open(
    tmp_path: Path, make_ds: Callable[..., Any]
) -> None:
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    with _legacy(tmp_path, film) as study:
        record = study.film(1)
        assert record is not None and record.pixel_aspect is None
        assert recorded(study, record).aspect_known is False
        opened = checked_film_file(study, record, film)  # refused before: 1:2 against 1:1
        assert opened.pixel_aspect == (1.0, 2.0)
        again = study.film(1)
        assert again is not None and again.pixel_aspect == (1.0, 2.0)
        with study.engine.connect() as conn:
            assert not aspect_unrecorded(study, conn, 1)
        query = select(audit.c.field, audit.c.new_value, audit.c.reason).where(
            audit.c.entity == "film", audit.c.entity_id == "1"
        )
        with study.engine.connect() as conn:
            rows = [tuple(r) for r in conn.execute(query)]
        assert ("pixel_aspect_col", "2.0", REASON.format(row=1.0, col=2.0)) in rows
        assert recorded(study, again).aspect_known and checked_film_file(study, again, film)
        square = _film(make_ds, tmp_path / "other" / "a.dcm", aspect=None)
        film.write_bytes(square.read_bytes())  # from now on held to 1:2 like any film
        with pytest.raises(ValidationError, match=r"Pixel Aspect Ratio \(0028,0034\) is 1:1"):
            checked_film_file(study, again, film)


def test_the_window_takes_it_from_what_its_reads_worker_brought(
    tmp_path: Path, make_ds: Callable[..., Any]
) -> None:
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    with _legacy(tmp_path, film) as study:
        record = study.film(1)
        assert record is not None
        saved = read_saved(study, record)
        assert saved.aspect_unrecorded
        decoded = read_film(film)
        assert mismatch(from_saved(record, saved.measurements), decoded) is not None
        expected = from_saved(record, saved.measurements, aspect_unrecorded=True)
        assert mismatch(expected, decoded) is None


def test_a_film_of_that_era_measured_in_pixels_is_still_refused(
    tmp_path: Path, make_ds: Callable[..., Any]
) -> None:
    """Its saved angle was computed with square pixels: a 1:2 file would change its degrees
    (re-measure it); nothing is recorded."""
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    with _legacy(tmp_path, film, measured_in="pixels") as study:
        record = study.film(1)
        assert record is not None
        assert recorded(study, record).aspect_known
        assert not read_saved(study, record).aspect_unrecorded
        with pytest.raises(ValidationError, match="Pixel Aspect Ratio"):
            checked_film_file(study, record, film)
        again = study.film(1)
        assert again is not None and again.pixel_aspect is None


def test_a_film_of_that_era_measured_in_mm_takes_the_aspect(
    tmp_path: Path, make_ds: Callable[..., Any]
) -> None:
    """A measurement in mm does not depend on the aspect; its spacing is still compared with
    the file's (this file has none: refused for the spacing, not for the aspect)."""
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    with _legacy(tmp_path, film, measured_in="mm") as study:
        record = study.film(1)
        assert record is not None and not recorded(study, record).aspect_known
        with pytest.raises(ValidationError, match="pixel spacing") as refused:
            checked_film_file(study, record, film)
        assert "Pixel Aspect Ratio" not in str(refused.value)


def test_a_user_calibration_keeps_the_refusal(tmp_path: Path, make_ds: Callable[..., Any]) -> None:
    """A calibration line gives a spacing through the pixel shape it was drawn with."""
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    with _legacy(tmp_path, film) as study:
        study.calibrate_film(1, (10.0, 10.0), (10.0, 110.0), 50.0, kind="ruler",
                             reason="ruler on the film", pixel_shape=None)  # fmt: skip
        record = study.film(1)
        assert record is not None and recorded(study, record).aspect_known
        with pytest.raises(ValidationError, match="Pixel Aspect Ratio"):
            checked_film_file(study, record, film)


def test_a_measurement_computed_with_a_user_calibration_keeps_the_refusal(
    tmp_path: Path, make_ds: Callable[..., Any]
) -> None:
    """Its spacing came through the pixel shape the calibration line was drawn with (review:
    the guard listed the source as "user", never stored, so the aspect was recorded under
    an angle computed square)."""
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    with _legacy(tmp_path, film, measured_in="calibration") as study:
        record = study.film(1)
        assert record is not None and recorded(study, record).aspect_known
        with pytest.raises(ValidationError, match="Pixel Aspect Ratio"):
            checked_film_file(study, record, film)


def test_a_film_imported_since_is_held_to_square_as_recorded(
    tmp_path: Path, make_ds: Callable[..., Any]
) -> None:
    """An empty aspect recorded by today's import means "none in the file" (1:1): a file that
    gains 1:2 is refused as before (a study created at schema 5 has no early films)."""
    square = _film(make_ds, tmp_path / "films" / "a.dcm", aspect=None)
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        visit = study.add_visit(study.add_patient("P0001"), "admission")
        fid = study.add_film(visit, sop_instance_uid=UID, path=str(square), region="cervical",
                             pixel_sha256=read_film(square).pixel_sha256)  # fmt: skip
        with study.engine.connect() as conn:
            assert early_films(conn) == frozenset()
        wide = _film(make_ds, tmp_path / "other" / "a.dcm")
        square.write_bytes(wide.read_bytes())
        record = study.film(fid)
        assert record is not None and recorded(study, record).aspect_known
        with pytest.raises(ValidationError, match=r"is 1:2, the study recorded 1:1"):
            checked_film_file(study, record, square)
