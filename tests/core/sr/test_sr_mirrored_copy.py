"""An SR computed on a mirrored copy of the study film (same SOP Instance UID, same spacing) is
refused: CobbDesk's SR carries the source image's pixel SHA-256, and without it (an older SR)
the signed angle it states is held against the angle its points give under the study film's
facing — a mirror swaps the anterior/posterior labels, which flips the sign.

Hand-computed: film 300 columns wide, facing left (Patient Orientation P\\F).  Genuine points:
upper (100, 100)→(140, 110), lower (100, 300)→(140, 290), anterior at x = 100: each line tilts
atan(10/40) = 14.0362°, converging posteriorly: +28.0725° (2·atan(1/4)).  The mirror (x' = 299 - x,
facing right) holds the same lines at upper (199, 100)→(159, 110), lower (199, 300)→(159, 290),
anterior at x = 199: +28.0725° on the mirror.  On the genuine film facing left, anterior is the
smaller x, so the labels swap: upper (159, 110)→(199, 100), lower (159, 290)→(199, 300): the
lines diverge posteriorly: -28.0725°.
Pixel hash: SHA-256 of "400x300:<u2:" followed by the stored values (reader._pixel_hash)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pydicom
import pytest

from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.sr import codes
from cobbdesk.core.sr.reader import import_report
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from tests.conftest import make_dataset

LORDOSIS = math.degrees(2 * math.atan(10 / 40))
GENUINE = [(100, 100), (140, 110), (100, 300), (140, 290)]
MIRRORED = [(299 - x, y) for x, y in GENUINE]


def test_hand_computed_constants() -> None:
    assert round(LORDOSIS, 4) == 28.0725 and MIRRORED[0] == (199, 100)


def _films(folder: Path) -> tuple[Path, Path, np.ndarray]:
    pixels = np.random.default_rng(8).integers(0, 4000, (400, 300), dtype=np.uint16)
    ds = make_dataset(pixels, PatientOrientation=["P", "F"])
    genuine = folder / "genuine.dcm"
    ds.save_as(genuine, enforce_file_format=True)
    ds.PixelData = np.ascontiguousarray(np.fliplr(pixels)).tobytes()
    ds.PatientOrientation = ["A", "F"]  # a mirror flips the row direction
    mirror = folder / "mirror.dcm"
    ds.save_as(mirror, enforce_file_format=True)
    return genuine, mirror, pixels


def _sr_of(folder: Path, film: Path, points: list[tuple[int, int]]) -> Path:
    with Study.create(folder / f"{film.stem}.cobbdesk", actor="ann") as study:
        import_paths(study, [film])
        (record,) = study.films()
        upper, lower = EndplateLine(*points[:2]), EndplateLine(*points[2:])
        uid = record.sop_instance_uid
        m = CobbMeasurement(uid, "", "C2-C7", upper, lower, spacing=(0.15, 0.15),
                            spacing_source="PixelSpacing", rater="ann")  # fmt: skip
        assert m.angle == pytest.approx(LORDOSIS, abs=1e-9)
        study.save_measurement(record.id, m)
        (written,), _ = export_sr(study, folder / f"{film.stem}-sr")
    return written.path


def _pixel_hash_item(sr: Path) -> str:
    for item in pydicom.dcmread(sr).ContentSequence[-1].ContentSequence[0].ContentSequence:
        concept = item.ConceptNameCodeSequence[0]
        if (concept.CodeValue, concept.CodingSchemeDesignator) == ("PIXELSHA256", "99COBBDESK"):
            return str(item.TextValue)
    return ""


def _import(folder: Path, film: Path, sr: Path) -> tuple[list[float], list[str]]:
    with Study.create(folder / "into.cobbdesk", actor="bob") as study:
        import_paths(study, [film])
        report = import_report(study, sr)
        return [m.angle for m in study.measurements()], report.errors


def test_the_sr_carries_the_decoded_pixels_sha256(tmp_path: Path) -> None:
    genuine, _, pixels = _films(tmp_path)
    reference = hashlib.sha256(b"400x300:<u2:" + pixels.astype("<u2").tobytes()).hexdigest()
    assert _pixel_hash_item(_sr_of(tmp_path, genuine, GENUINE)) == reference


def test_the_genuine_sr_imports_at_plus_28_07(tmp_path: Path) -> None:
    genuine, _, _ = _films(tmp_path)
    angles, errors = _import(tmp_path, genuine, _sr_of(tmp_path, genuine, GENUINE))
    assert errors == [] and angles == [pytest.approx(LORDOSIS, abs=1e-9)]


def test_an_sr_of_a_mirrored_copy_is_refused_by_its_pixel_hash(tmp_path: Path) -> None:
    genuine, mirror, _ = _films(tmp_path)
    sr = _sr_of(tmp_path, mirror, MIRRORED)
    angles, errors = _import(tmp_path, genuine, sr)
    assert angles == []
    assert "the SR was computed on other pixels" in errors[0]


def test_without_the_hash_the_flipped_sign_refuses_it(tmp_path: Path) -> None:
    genuine, mirror, _ = _films(tmp_path)
    sr = _sr_of(tmp_path, mirror, MIRRORED)
    ds = pydicom.dcmread(sr)  # an SR written before the hash was carried
    group = ds.ContentSequence[-1].ContentSequence[0]
    hash_code = codes.PIXEL_HASH.value
    group.ContentSequence = [i for i in group.ContentSequence
                             if i.ConceptNameCodeSequence[0].CodeValue != hash_code]  # fmt: skip
    ds.save_as(sr)
    angles, errors = _import(tmp_path, genuine, sr)
    assert angles == []
    assert (f"the SR states +{LORDOSIS:.2f}°, its points give -{LORDOSIS:.2f}° with the film's "
            "facing (left): the SR was computed on a mirrored copy") in errors[0]  # fmt: skip


def _stripped(sr: Path, drop: tuple[str, ...]) -> Path:
    """``sr`` without the group's items whose concept is in ``drop`` (saved in place)."""
    ds = pydicom.dcmread(sr)
    group = ds.ContentSequence[-1].ContentSequence[0]
    group.ContentSequence = [i for i in group.ContentSequence
                             if i.ConceptNameCodeSequence[0].CodeValue not in drop]  # fmt: skip
    ds.save_as(sr)
    return sr


def _import_as_ohif(folder: Path, film: Path, sr: Path) -> tuple[list[float], list[str]]:
    with Study.create(folder / "into.cobbdesk", actor="bob") as study:
        import_paths(study, [film])
        report = import_report(study, sr, template="C2-C7")  # no record: named as for OHIF's
        return [m.angle for m in study.measurements()], report.errors + report.warnings


STRIP = (codes.PIXEL_HASH.value, codes.RECORD.value)


def test_stripped_of_hash_and_record_its_finding_refuses_the_flipped_sign(
    tmp_path: Path,
) -> None:
    genuine, mirror, _ = _films(tmp_path)
    sr = _stripped(_sr_of(tmp_path, mirror, MIRRORED), STRIP)
    angles, errors = _import_as_ohif(tmp_path, genuine, sr)
    assert angles == []
    assert (f"the SR states +{LORDOSIS:.2f}°, its points give -{LORDOSIS:.2f}° with the film's "
            "facing (left): the SR was computed on a mirrored copy") in errors[0]  # fmt: skip


@pytest.mark.parametrize("also", [(), ("SIGN",), ("121071",)])
def test_stripped_genuine_sr_imports_signed_without_a_difference_warning(
    tmp_path: Path, also: tuple[str, ...]
) -> None:
    genuine, _, _ = _films(tmp_path)
    sr = _stripped(_sr_of(tmp_path, genuine, GENUINE), STRIP + also)
    angles, notes = _import_as_ohif(tmp_path, genuine, sr)
    assert angles == [pytest.approx(LORDOSIS, abs=1e-9)]
    assert not [n for n in notes if "the SR states" in n]


@pytest.mark.parametrize("drop", [("SIGN",), ("121071",)])
def test_the_finding_or_the_sign_convention_alone_refuses_the_flip(
    tmp_path: Path, drop: tuple[str, ...]
) -> None:
    genuine, mirror, _ = _films(tmp_path)
    sr = _stripped(_sr_of(tmp_path, mirror, MIRRORED), STRIP + drop)
    angles, errors = _import_as_ohif(tmp_path, genuine, sr)
    assert angles == [] and "computed on a mirrored copy" in errors[0]
