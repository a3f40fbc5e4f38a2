"""``cobbdesk measure`` (import_points) establishes that a film's file IS the film the study
recorded before it accepts a row (tester's find: a never-opened film replaced by a file that
only adds Pixel Aspect Ratio 1\\2 was accepted, so one film held +21.16° and +10.70° for the
same points).

Films are written with pydicom in tmp_path, without a pixel spacing (so the Pixel Aspect
Ratio (0028,0034) decides the pixel shape).  The expected angles are computed here by hand:
the upper line is horizontal, the lower one rises 40 rows over 100 columns from posterior to
anterior, so on square pixels the Cobb angle is atan(40 / 100); on pixels twice as wide as
high (aspect 1:2, vertical:horizontal) the 100 columns are 200 units wide: atan(40 / 200).
The lines open anteriorly (converge posteriorly): lordosis, positive.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.importing.csv_import import import_points
from cobbdesk.core.importing.film_check import checked_film_file
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.importing.photos import PhotoTarget
from cobbdesk.core.importing.relink import from_saved, header_mismatch, mismatch, recorded
from cobbdesk.core.importing.scan import HeaderInfo, read_header
from cobbdesk.core.store import Region, Study
from cobbdesk.core.store.records import FilmRecord

UID = "1.2.826.0.1.3680043.8.498.777"
SQUARE_DEG = math.degrees(math.atan(40 / 100))  # 21.8014°
WIDE_DEG = math.degrees(math.atan(40 / 200))  # 11.3099°
HEADER = ("sop_instance_uid,template,upper_anterior_x,upper_anterior_y,upper_posterior_x,"
          "upper_posterior_y,lower_anterior_x,lower_anterior_y,lower_posterior_x,"
          "lower_posterior_y,rater\n")  # fmt: skip


def _pixels(seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4000, (400, 300), dtype=np.uint16)


def _film(make_ds: Callable[..., Any], path: Path, *, aspect: str | None = None,
          seed: int = 1) -> Path:  # fmt: skip
    """A lateral film without spacing (UID fixed; facing right: Patient Orientation A\\F),
    Pixel Aspect Ratio ``aspect`` ("1\\2")."""
    extra: dict[str, Any] = {"SOPInstanceUID": UID, "PatientOrientation": ["A", "F"]}
    if aspect is not None:
        extra["PixelAspectRatio"] = aspect.split("\\")
    ds = make_ds(_pixels(seed), pixel_spacing=None, **extra)
    ds.file_meta.MediaStorageSOPInstanceUID = UID
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _points(tmp_path: Path, uid: str = UID, name: str = "m.csv") -> Path:
    csv = tmp_path / name
    csv.write_text(HEADER + f"{uid},L1-S1,200,100,100,100,200,340,100,300,alice\n")
    return csv


def _study(tmp_path: Path, film: Path) -> Study:
    study = Study.create(tmp_path / "s.cobbdesk", actor="t")
    report = import_paths(study, [film])
    assert len(report.imported) == 1
    return study


def _replace(film: Path, make_ds: Callable[..., Any], tmp_path: Path, **kwargs: Any) -> None:
    other = _film(make_ds, tmp_path / "other" / film.name, **kwargs)
    shutil.copy(other, film)


def test_a_file_adding_pixel_aspect_1_2_is_refused_and_nothing_stored(tmp_path: Path,
                                                                       make_ds) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    study = _study(tmp_path, film)
    (record,) = study.films()
    assert record.pixel_aspect is None and record.pixel_sha256 is None  # 1:1, never opened
    original = film.read_bytes()
    _replace(film, make_ds, tmp_path, aspect="1\\2")
    report = import_points(study, _points(tmp_path))
    assert report.imported == 0 and study.measurements() == []
    (issue,) = report.errors
    assert issue.row == 2
    assert issue.message == (
        f"film file a.dcm is not film #{record.id} as the study recorded it (Pixel Aspect "
        "Ratio (0028,0034) is 1:2, the study recorded 1:1); relink it in the study window"
    )
    film.write_bytes(original)  # the genuine film: accepted, the square-pixel angle
    report = import_points(study, _points(tmp_path))
    assert report.imported == 1, report.errors
    (m,) = study.measurements()
    assert m.angle == pytest.approx(SQUARE_DEG, abs=1e-9)
    study.close()


def test_a_film_recorded_1_2_is_measured_with_it_and_a_square_replacement_refused(
    tmp_path: Path,
    make_ds,  # type: ignore[no-untyped-def]
) -> None:
    film = _film(make_ds, tmp_path / "films" / "w.dcm", aspect="1\\2")
    study = _study(tmp_path, film)
    (record,) = study.films()
    assert record.pixel_aspect == (1.0, 2.0)  # recorded at import, carried by the record
    original = film.read_bytes()
    _replace(film, make_ds, tmp_path)  # same UID, no Pixel Aspect Ratio: square
    report = import_points(study, _points(tmp_path))
    assert report.imported == 0 and study.measurements() == []
    assert "Pixel Aspect Ratio (0028,0034) is 1:1, the study recorded 1:2" in (
        report.errors[0].message
    )
    film.write_bytes(original)
    report = import_points(study, _points(tmp_path))
    assert report.imported == 1, report.errors
    (m,) = study.measurements()
    assert m.pixel_aspect == (1.0, 2.0)
    assert m.angle == pytest.approx(WIDE_DEG, abs=1e-9)
    study.close()


def test_a_hashed_film_needs_its_pixels_and_its_aspect(tmp_path: Path, make_ds) -> None:  # type: ignore[no-untyped-def]
    film = _film(make_ds, tmp_path / "films" / "h.dcm")
    study = _study(tmp_path, film)
    (record,) = study.films()
    study.update_film(record.id, reason="opened", pixel_sha256=read_film(film).pixel_sha256)
    original = film.read_bytes()
    _replace(film, make_ds, tmp_path, seed=2)  # same header, other pixels
    report = import_points(study, _points(tmp_path))
    assert report.imported == 0 and study.measurements() == []
    assert report.errors[0].message.startswith("film file h.dcm is not film #")
    assert "(other pixels than the film the study holds (pixel hash differs))" in (
        report.errors[0].message
    )
    _replace(film, make_ds, tmp_path, aspect="1\\2")  # the same pixels, wider: the hash alone
    report = import_points(study, _points(tmp_path, name="m2.csv"))  # would take it
    assert report.imported == 0 and study.measurements() == []
    assert "Pixel Aspect Ratio (0028,0034) is 1:2, the study recorded 1:1" in (
        report.errors[0].message
    )
    film.write_bytes(original)
    report = import_points(study, _points(tmp_path, name="m3.csv"))
    assert report.imported == 1, report.errors
    assert study.measurements()[0].angle == pytest.approx(SQUARE_DEG, abs=1e-9)
    study.close()


def test_a_photo_is_held_to_its_pixel_hash(tmp_path: Path) -> None:
    photo = tmp_path / "films" / "scan.png"
    photo.parent.mkdir()
    Image.fromarray((_pixels() // 16).astype(np.uint8)).save(photo)
    study = Study.create(tmp_path / "s.cobbdesk", actor="t")
    report = import_paths(study, [photo], photos=PhotoTarget("P1", "admission", Region.LUMBAR))
    assert len(report.imported) == 1
    (record,) = study.films()
    assert record.pixel_sha256 is not None
    original = photo.read_bytes()
    Image.fromarray((_pixels(seed=3) // 16).astype(np.uint8)).save(photo)
    report = import_points(study, _points(tmp_path, uid=record.sop_instance_uid))
    assert report.imported == 0 and study.measurements() == []
    assert "film file scan.png is not film #" in report.errors[0].message
    assert "pixel hash differs" in report.errors[0].message
    photo.write_bytes(original)
    report = import_points(study, _points(tmp_path, uid=record.sop_instance_uid, name="n.csv"))
    assert report.imported == 1, report.errors
    assert study.measurements()[0].angle == pytest.approx(SQUARE_DEG, abs=1e-9)
    study.close()


def test_the_header_check_and_the_decoded_check_say_the_same(tmp_path: Path, make_ds) -> None:  # type: ignore[no-untyped-def]
    """One set of field rules: a header read at import and the decoded film give the same
    refusal; from_saved (the window's record) compares the aspect it carries."""
    film = _film(make_ds, tmp_path / "films" / "a.dcm", aspect="1\\2")
    study = _study(tmp_path, film)
    (record,) = study.films()
    _replace(film, make_ds, tmp_path)
    header = read_header(film)
    assert isinstance(header, HeaderInfo)
    expected = "Pixel Aspect Ratio (0028,0034) is 1:1, the study recorded 1:2"
    assert header_mismatch(recorded(study, record), header) == expected
    assert mismatch(recorded(study, record), read_film(film)) == expected
    assert mismatch(from_saved(record, []), read_film(film)) == expected
    unrecorded = FilmRecord(record.id, record.visit_id, UID, None, record.path, record.region,
                            record.view, record.study_date, 400, 300)  # fmt: skip
    assert unrecorded.pixel_aspect is None  # an older caller's record: NULL = 1:1
    assert mismatch(from_saved(unrecorded, []), read_film(film)) is None
    with pytest.raises(Exception, match="relink it in the study window"):
        checked_film_file(study, record, film)
    study.close()


def test_sr_export_refuses_a_film_whose_file_was_replaced(tmp_path: Path, make_ds) -> None:  # type: ignore[no-untyped-def]
    from cobbdesk.core.sr.writer import export_sr

    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    study = _study(tmp_path, film)
    assert import_points(study, _points(tmp_path)).imported == 1
    original = film.read_bytes()
    _replace(film, make_ds, tmp_path, aspect="1\\2")
    written, problems = export_sr(study, tmp_path / "sr")
    assert written == [] and not (tmp_path / "sr").exists()  # the folder it made is removed
    assert problems == [
        "film #1: its file is not the film the study recorded (Pixel Aspect Ratio (0028,0034) "
        "is 1:2, the study recorded 1:1); relink it"
    ]
    film.write_bytes(original)
    written, problems = export_sr(study, tmp_path / "sr")
    assert len(written) == 1 and problems == []
    study.close()


def test_a_film_measured_in_pixels_keeps_its_pixel_shape(tmp_path: Path, make_ds) -> None:  # type: ignore[no-untyped-def]
    """Measured in pixels on square pixels: a file that now has a 0.1 × 0.2 mm spacing
    would give other degrees for the same points (refused); a square spacing gives the same
    degrees (accepted: atan(40 / 100) either way)."""
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    study = _study(tmp_path, film)
    assert import_points(study, _points(tmp_path)).imported == 1
    (record,) = study.films()
    for spacing, name in (((0.1, 0.2), "wide.dcm"), ((0.15, 0.15), "square.dcm")):
        ds = make_ds(_pixels(), pixel_spacing=spacing, SOPInstanceUID=UID,
                     PatientOrientation=["A", "F"])  # fmt: skip
        ds.save_as(film, enforce_file_format=True)
        report = import_points(study, _points(tmp_path, name=f"{name}.csv"))
        if spacing == (0.1, 0.2):
            assert report.imported == 0 and len(study.measurements()) == 1
            assert report.errors[0].message == (
                f"film file a.dcm is not film #{record.id} as the study recorded it (the pixel "
                "shape from the pixel spacing (PixelSpacing) is 0.1:0.2 (vertical:horizontal), "
                "the saved measurements in pixels used 1:1); relink it in the study window"
            )
        else:
            assert report.errors == [] and report.unchanged == 1  # the same points: identical
    csv = tmp_path / "other.csv"
    csv.write_text(HEADER + f"{UID},FREE,200,100,100,100,200,340,100,300,bob\n")
    assert import_points(study, csv).imported == 1
    assert {round(m.angle, 9) for m in study.measurements()} == {round(SQUARE_DEG, 9)}
    study.close()
