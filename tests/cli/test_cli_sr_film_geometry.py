"""An SR's Cobb angle is stored only when the geometry it was computed with is the study
film's, read from the film's own file: an SR made on another file with the same SOP Instance
UID (a square 0.2 × 0.2 mm copy of a 2:1 film without spacing) is refused naming the film and
the field, a missing film file refuses it, and the genuine SR is still imported.

Angles by hand (atan2 of the line slopes in mm / pixel-shape units), points upper
((100, 100), (160, 110)), lower ((100, 200), (160, 180)):
square pixels: atan(10/60) + atan(20/60) = 9.4623° + 18.4349° = 27.8973°;
2:1 pixels (rows twice as tall): atan(20/60) + atan(40/60) = 18.4349° + 33.6901° = 52.1251°.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from cobbdesk.cli.main import main
from cobbdesk.core.store import Study

UID = "1.2.826.0.1.3680043.10.543.21"
SQUARE_DEG = math.degrees(math.atan2(10, 60) + math.atan2(20, 60))
ASPECT_DEG = math.degrees(math.atan2(20, 60) + math.atan2(40, 60))


def test_hand_computed_constants() -> None:
    assert round(SQUARE_DEG, 2) == 27.90 and round(ASPECT_DEG, 2) == 52.13


def _film(path: Path, *, spacing: str | None, aspect: str | None) -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    meta.MediaStorageSOPInstanceUID = UID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, UID
    ds.PatientID, ds.PatientName = "HOSP-778899", "Burns^Montgomery"
    ds.PatientBirthDate, ds.StudyDate = "19450315", "20260107"
    ds.Modality, ds.BodyPartExamined, ds.ViewPosition = "DX", "CSPINE", "LL"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3.4.5", "1.2.3.4.5.1"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 512, 400, 1
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    if spacing:
        ds.PixelSpacing = spacing
    if aspect:
        ds.PixelAspectRatio = aspect
    pixels = np.random.default_rng(3).integers(0, 4000, (512, 400), dtype=np.uint16)
    ds.PixelData = pixels.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _points(folder: Path) -> Path:
    path = folder / "pts.csv"
    path.write_text(
        "sop_instance_uid,template,upper_anterior_x,upper_anterior_y,upper_posterior_x,"
        "upper_posterior_y,lower_anterior_x,lower_anterior_y,lower_posterior_x,lower_posterior_y\n"
        f"{UID},C2-C7,100,100,160,110,100,200,160,180\n"
    )
    return path


def _study(folder: Path, film: Path, *, measured: bool) -> Path:
    study = folder / "s.cobbdesk"
    assert main(["import", str(study), str(film), "--create"]) == 0
    if measured:
        assert main(["measure", str(study), str(_points(folder))]) == 0
    return study


def _sr(folder: Path, study: Path) -> Path:
    out = folder / "sr"
    assert main(["export", str(study), "--format", "sr", "-o", str(out)]) == 0
    (sr,) = out.glob("*.dcm")
    return sr


@pytest.fixture
def square_sr(tmp_path: Path) -> Path:
    """An SR exported from a study measuring a square 0.2 × 0.2 mm copy of film .21."""
    folder = tmp_path / "b"
    film = _film(folder / "films" / "copy.dcm", spacing="0.2\\0.2", aspect=None)
    return _sr(folder, _study(folder, film, measured=True))


def _angles(study: Path) -> list[tuple[float, object, str]]:
    with Study.open(study) as opened:
        return sorted((m.angle, m.spacing, m.spacing_source.value) for m in opened.measurements())


def test_an_sr_of_a_square_copy_is_refused_on_the_2_to_1_film(
    tmp_path: Path, square_sr: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _angles(square_sr.parents[1] / "s.cobbdesk") == [
        (pytest.approx(SQUARE_DEG, abs=1e-9), (0.2, 0.2), "PixelSpacing")]  # fmt: skip
    folder = tmp_path / "a"
    study = _study(folder, _film(folder / "films" / "p2.dcm", spacing=None, aspect="2\\1"),
                   measured=True)  # fmt: skip
    capsys.readouterr()
    assert main(["import", str(study), str(square_sr)]) == 1
    captured = capsys.readouterr()
    line = next(ln for ln in captured.err.splitlines() if square_sr.name in ln)
    assert (f"film #1 (SOP Instance UID {UID}): the SR used pixel spacing 0.2 × 0.2 mm (row × "
            "column) (PixelSpacing); the film has no pixel spacing (Pixel Aspect Ratio 2:1)"
            ) in line  # fmt: skip
    assert "Burns" not in captured.err and "778899" not in captured.err
    assert "0 imported, 0 unchanged, 1 refused" in captured.out
    assert _angles(study) == [(pytest.approx(ASPECT_DEG, abs=1e-9), None, "none")]


def test_a_refused_sr_leaves_a_film_without_measurements_to_its_genuine_file(
    tmp_path: Path, square_sr: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "a"
    study = _study(folder, _film(folder / "films" / "p2.dcm", spacing=None, aspect="2\\1"),
                   measured=False)  # fmt: skip
    assert main(["import", str(study), str(square_sr)]) == 1
    assert _angles(study) == []
    capsys.readouterr()
    assert main(["measure", str(study), str(_points(folder))]) == 0  # the genuine file
    assert _angles(study) == [(pytest.approx(ASPECT_DEG, abs=1e-9), None, "none")]


def test_a_missing_film_file_refuses_the_sr_row(
    tmp_path: Path, square_sr: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "a"
    film = _film(folder / "films" / "copy.dcm", spacing="0.2\\0.2", aspect=None)
    study = _study(folder, film, measured=False)
    film.unlink()
    capsys.readouterr()
    assert main(["import", str(study), str(square_sr)]) == 1
    err = capsys.readouterr().err
    assert f"film #1 (SOP Instance UID {UID}): the film file" in err and "is missing" in err
    assert _angles(study) == []


def test_the_genuine_sr_of_the_2_to_1_film_is_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "a"
    film = _film(folder / "films" / "p2.dcm", spacing=None, aspect="2\\1")
    sr = _sr(folder, _study(folder, film, measured=True))
    fresh = tmp_path / "fresh.cobbdesk"
    capsys.readouterr()
    assert main(["import", str(fresh), str(film), str(sr), "--create"]) == 0
    assert "1 imported, 0 unchanged, 0 refused" in capsys.readouterr().out
    assert _angles(fresh) == [(pytest.approx(ASPECT_DEG, abs=1e-9), None, "none")]
    with Study.open(fresh) as opened:
        (m,) = opened.measurements()
    assert m.pixel_aspect == (2.0, 1.0)


def test_a_file_given_a_spacing_is_refused_naming_the_spacing_not_a_wrong_aspect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "a"
    film = _film(folder / "films" / "p2.dcm", spacing=None, aspect="2\\1")
    study = _study(folder, film, measured=False)
    ds = pydicom.dcmread(film)
    ds.PixelSpacing = ["0.1", "0.2"]  # the Pixel Aspect Ratio 2\1 is kept
    ds.save_as(film)
    capsys.readouterr()
    assert main(["measure", str(study), str(_points(folder))]) == 1
    err = capsys.readouterr().err
    assert ("film file p2.dcm is not film #1 as the study recorded it (the file has Pixel "
            "Spacing (0028,0030) 0.1 × 0.2 mm (row × column), a pixel shape of 0.5:1 "
            "(vertical:horizontal); the study recorded a film without pixel spacing, Pixel "
            "Aspect Ratio 2:1)") in err  # fmt: skip
    assert "is 1:1" not in err
    assert _angles(study) == []
