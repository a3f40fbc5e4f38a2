"""DICOM SR export and import of Cobb angles (issue #16).

Hand-computed reference: upper line (100, 100)→(140, 110) and lower line (100, 300)→(140, 290)
each tilt atan(10/40) = 14.03624°, converging posteriorly on a film facing left: lordosis of
2·atan(1/4) = 28.0724869° (square pixels).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.sr import codes
from cobbdesk.core.sr.reader import import_report, is_sr, read_report
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from tests.conftest import make_dataset
from tests.core.sr.ohif import ohif_cobb_sr

LORDOSIS_DEG = 28.0724869359  # 2 * atan(1/4) in degrees, by hand


def _film(folder: Path, orientation: list[str] | None = ("P", "F")) -> Path:  # type: ignore[assignment]
    extra = {"PatientOrientation": list(orientation)} if orientation else {}
    ds = make_dataset(np.zeros((400, 300), np.uint16), **extra)
    path = folder / f"film_{ds.SOPInstanceUID[-6:]}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def _measure(film_sop: str, rater: str, *, kyphosis: bool = False, **kw: object) -> CobbMeasurement:
    lower = EndplateLine((100, 300), (140, 310 if kyphosis else 290))
    return CobbMeasurement(
        sop_instance_uid=film_sop, pixel_sha256="", template="C2-C7",
        upper=EndplateLine((100.123456789, 100.3), (140, 110)) if kw.get("odd") else
        EndplateLine((100, 100), (140, 110)),
        lower=lower, spacing=(0.15, 0.15), spacing_source="PixelSpacing", rater=rater,
    )  # fmt: skip


@pytest.fixture
def measured(tmp_path: Path) -> tuple[Path, Path, list[CobbMeasurement]]:
    film = _film(tmp_path)
    study_path = tmp_path / "a.cobbdesk"
    with Study.create(study_path, actor="ann") as study:
        import_paths(study, [film])
        (record,) = study.films()
        ms = [_measure(record.sop_instance_uid, "ann"),
              _measure(record.sop_instance_uid, "ann", odd=True, kyphosis=True),
              _measure(record.sop_instance_uid, "Bøb Ünal")]  # fmt: skip
        for m in ms:
            study.save_measurement(record.id, m)
    return study_path, film, ms


def test_scoord_is_pixel_corner_origin_and_converts_back_exactly() -> None:
    # PS3.3 C.18.6.1.1: the centre of the top-left pixel is (0.5, 0.5) in SCOORD.
    assert codes.to_scoord((0.0, 0.0)) == (0.5, 0.5)
    assert codes.to_scoord((299.0, 399.0)) == (299.5, 399.5)
    for point in [(0.0, 0.0), (12.25, 7.75), (1023.5, 2047.125), (-0.5, -0.5)]:
        assert codes.from_scoord(codes.to_scoord(point)) == point


def test_export_writes_one_sr_per_film_and_rater_that_dcmtk_and_highdicom_read(
    measured: tuple[Path, Path, list[CobbMeasurement]], tmp_path: Path
) -> None:
    study_path, _, _ = measured
    with Study.open(study_path, actor="ann") as study:
        files, problems = export_sr(study, tmp_path / "out")
    assert problems == [] and sorted(f.measurements for f in files) == [1, 2]
    assert sorted(f.rater for f in files) == ["Bøb Ünal", "ann"]
    for f in files:
        assert is_sr(f.path) and f.path.stat().st_mode & 0o777 == 0o600
        sr = hd.sr.srread(f.path)
        assert isinstance(sr, hd.sr.ComprehensiveSR)
        for group in sr.content.get_image_measurement_groups():
            assert group.tracking_identifier == "cornerstone3DTools@^0.1.0:CobbAngle"
            assert [s.value.value for s in group.finding_sites] == ["122494005"]
            (num,) = group.get_measurements()
            assert (num.name.value, num.name.scheme_designator, num.unit.value) == (
                "285285000", "SCT", "deg")  # fmt: skip
    if shutil.which("dsrdump") is None:
        pytest.skip("DCMTK dsrdump is not installed")
    for f in files:
        run = subprocess.run(
            ["dsrdump", "-Ee", str(f.path)], capture_output=True, text=True, check=False
        )
        assert run.returncode == 0, run.stderr
        problems = [ln for ln in (run.stdout + run.stderr).splitlines()
                    if ln.startswith(("E:", "F:")) or (ln.startswith("W:")
                    and "does not support this Specific Character Set" not in ln)]  # fmt: skip
        assert problems == []


def test_the_sr_holds_the_signed_angle_the_sign_and_the_points_plus_half_a_pixel(
    measured: tuple[Path, Path, list[CobbMeasurement]], tmp_path: Path
) -> None:
    study_path, _, _ = measured
    with Study.open(study_path, actor="ann") as study:
        files, _ = export_sr(study, tmp_path / "out")
    ann = next(f for f in files if f.rater == "ann")
    ds = pydicom.dcmread(ann.path)
    groups = ds.ContentSequence[-1].ContentSequence
    found = {}
    for g in groups:
        items = {(i.ConceptNameCodeSequence[0].CodeValue): i for i in g.ContentSequence}
        num = items["285285000"]
        value = float(num.MeasuredValueSequence[0].NumericValue)
        found[items["121071"].ConceptCodeSequence[0].CodeValue] = (value, num)
    value, num = found["LORDOSIS"]
    assert value == pytest.approx(LORDOSIS_DEG, abs=1e-9)
    scoord = num.ContentSequence[0]
    assert (scoord.ValueType, scoord.GraphicType, scoord.RelationshipType) == (
        "SCOORD", "POLYLINE", "INFERRED FROM")  # fmt: skip
    assert list(scoord.GraphicData) == [100.5, 100.5, 140.5, 110.5, 100.5, 300.5, 140.5, 290.5]
    assert found["KYPHOSIS"][0] < 0  # the signed value, and the finding says which


def test_round_trip_into_a_fresh_study_gives_identical_measurements(
    measured: tuple[Path, Path, list[CobbMeasurement]], tmp_path: Path
) -> None:
    study_path, film, _ = measured
    with Study.open(study_path, actor="ann") as study:
        files, _ = export_sr(study, tmp_path / "out")
        before = study.measurements()
    with Study.create(tmp_path / "fresh.cobbdesk", actor="importer") as fresh:
        import_paths(fresh, [film])
        reports = [import_report(fresh, f.path) for f in files]
        after = fresh.measurements()
        again = [import_report(fresh, f.path) for f in files]
        with fresh.engine.connect() as conn:
            from sqlalchemy import select

            from cobbdesk.core.store.schema import audit

            reasons = {r for (r,) in conn.execute(select(audit.c.reason)) if r}
    assert all(r.ok and not r.warnings for r in reports)
    assert sorted(before, key=lambda m: m.id) == sorted(after, key=lambda m: m.id)
    assert after[0].upper.anterior in {(100.0, 100.0), (100.123456789, 100.3)}
    assert sum(r.unchanged for r in again) == 3 and not any(r.imported for r in again)
    assert {f"imported from SR {r.sr_sop_instance_uid}" for r in reports} <= reasons


def _ohif_case(tmp_path: Path, orientation: list[str] | None, angle: float) -> tuple[Path, Path]:
    film = _film(tmp_path, orientation)
    image = pydicom.dcmread(film)
    # Lower line first, each line drawn posterior → anterior, as a viewer user might.
    points = [(140.5, 290.5), (100.5, 300.5), (140.5, 110.5), (100.5, 100.5)]
    sr_path = tmp_path / "ohif.dcm"
    ohif_cobb_sr(image, points, angle).save_as(sr_path, enforce_file_format=True)
    return film, sr_path


def test_an_ohif_cobb_angle_is_imported_with_the_films_facing(tmp_path: Path) -> None:
    film, sr_path = _ohif_case(tmp_path, ["P", "F"], LORDOSIS_DEG)
    _, found = read_report(sr_path)
    assert found[0].points[3] == (100.0, 100.0)  # SCOORD (100.5, 100.5) is pixel (100, 100)
    with Study.create(tmp_path / "s.cobbdesk", actor="ann") as study:
        import_paths(study, [film])  # a cervical film (Body Part Examined CSPINE)
        report = import_report(study, sr_path, template="region")
        (m,) = study.measurements()
    assert report.ok, report.errors
    assert m.template.value == "C2-C7" and m.upper.anterior == (100.0, 100.0)
    assert m.angle == pytest.approx(LORDOSIS_DEG, abs=1e-9)
    assert not [w for w in report.warnings if "states" in w]


def test_a_stored_angle_that_disagrees_with_the_points_is_reported(tmp_path: Path) -> None:
    film, sr_path = _ohif_case(tmp_path, ["P", "F"], 31.0)
    with Study.create(tmp_path / "s.cobbdesk", actor="ann") as study:
        import_paths(study, [film])
        report = import_report(study, sr_path, template="C2-C7")
    assert report.ok
    assert any("states 31.00°" in w and "28.07°" in w for w in report.warnings)


def test_an_ohif_angle_on_a_film_of_unknown_facing_is_refused(tmp_path: Path) -> None:
    film, sr_path = _ohif_case(tmp_path, None, LORDOSIS_DEG)
    with Study.create(tmp_path / "s.cobbdesk", actor="ann") as study:
        import_paths(study, [film])
        report = import_report(study, sr_path)
        assert study.measurements() == []
    assert not report.ok and "facing is unknown" in report.errors[0]


def test_an_sr_of_a_film_not_in_the_study_is_refused(tmp_path: Path) -> None:
    _, sr_path = _ohif_case(tmp_path, ["P", "F"], LORDOSIS_DEG)
    with Study.create(tmp_path / "s.cobbdesk", actor="ann") as study:
        report = import_report(study, sr_path)
    assert not report.ok and "no film with SOP Instance UID" in report.errors[0]


def test_cli_exports_and_imports_srs(
    measured: tuple[Path, Path, list[CobbMeasurement]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cobbdesk.cli.main import main

    study_path, film, ms = measured
    out = tmp_path / "sr"
    assert main(["export", str(study_path), "--format", "sr", "-o", str(out)]) == 0
    files = sorted(out.glob("*.sr.dcm"))
    assert len(files) == 2 and "2 DICOM SR file(s) written" in capsys.readouterr().out
    fresh = tmp_path / "fresh.cobbdesk"
    args = ["import", str(fresh), str(film), *map(str, files), "--create", "--rater", "x"]
    assert main(args) == 0
    assert "1 film(s) imported" in capsys.readouterr().out
    with Study.open(fresh) as study:
        assert sorted(m.id for m in study.measurements()) == sorted(m.id for m in ms)
