"""``cobbdesk film`` (listing and corrections) and what ``cobbdesk verify`` says about angles.

The measured pair is the hand-computed one of :mod:`cobbdesk.core.measure.geometry`: lines
(100,100)-(140,110) and (100,300)-(140,290) make 2·atan(10/40) = 28.0725°.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from cobbdesk.cli import SUBCOMMANDS, main
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Region, Study, VisitKind

CERVICAL, UNKNOWN, BARE = "1.2.840.1.1", "1.2.840.1.2", "1.2.840.1.3"


def _m(sop: str, spacing: tuple[float, float] | None = (0.15, 0.15)) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid=sop, pixel_sha256="", template="C2-C7", rater="A",
        upper=EndplateLine((100.0, 100.0), (140.0, 110.0)),
        lower=EndplateLine((100.0, 300.0), (140.0, 290.0)),
        spacing=spacing, spacing_source="PixelSpacing" if spacing else "none",
    )  # fmt: skip


@pytest.fixture
def study_path(tmp_path: Path) -> Path:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="tester") as study:
        pid = study.add_patient("P0001", name="Doe^Jane", mrn="MRN-77", birth_date="1970-01-01")
        vid = study.add_visit(pid, "admission", visit_date="2026-01-05")
        first = study.add_film(vid, sop_instance_uid=CERVICAL, path="/f/a.dcm", region="cervical")
        second = study.add_film(vid, sop_instance_uid=UNKNOWN, path="/f/b.dcm")
        study.add_film(vid, sop_instance_uid=BARE, path="/f/c.dcm", region="lumbar")
        study.save_measurement(first, _m(CERVICAL))
        study.save_measurement(second, _m(UNKNOWN, None))
    return path


def test_film_is_a_registered_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert "film" in SUBCOMMANDS
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "film" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["film", "--help"])
    out = capsys.readouterr().out
    assert "--list" in out and "--reason" in out and "--visit" in out


def test_list_text(study_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["film", str(study_path), "--list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[-1] == "3 film(s)"
    assert lines[0] == (
        f"{CERVICAL}  P0001  admission  cervical  facing unknown  spacing 0.15×0.15 mm "
        "[last measurement (PixelSpacing)]  1 measurement(s)"
    )
    assert lines[1].endswith("1 measurement(s); 1 on the wrong region (not exported)")
    assert "[last measurement (none: uncalibrated)]" in lines[1]
    assert "spacing — [film file missing]  0 measurement(s)" in lines[2]
    assert "Doe" not in out and "MRN" not in out and "1970" not in out


def test_list_json_reports_the_calibration_in_force(
    study_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Study.open(study_path) as study, study.transaction() as conn:
        conn.execute(text(
            "INSERT INTO calibrations (film_id, kind, x1, y1, x2, y2, length_mm, spacing_row_mm,"
            " spacing_col_mm, rater, created_utc) VALUES (3, 'ruler', 0, 0, 100, 0, 12, 0.12,"
            " 0.12, 'A', '2026-01-01T00:00:00Z')"))  # fmt: skip
    assert main(["film", str(study_path), "--list", "--json"]) == 0
    rows = {r["sop_instance_uid"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[BARE]["spacing_mm"] == [0.12, 0.12]
    assert rows[BARE]["spacing_from"] == "calibration (ruler)"
    assert rows[CERVICAL]["spacing_from"] == "last measurement (PixelSpacing)"
    assert rows[UNKNOWN] | {"spacing_from": None} == {
        "sop_instance_uid": UNKNOWN, "study_id": "P0001", "visit": "admission",
        "visit_date": "2026-01-05", "region": "unknown", "facing": None, "facing_source": None,
        "spacing_mm": None, "spacing_from": None, "measurements": 1, "region_mismatches": 1,
    }  # fmt: skip


def test_change_region_and_facing(study_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["film", str(study_path), UNKNOWN, "--region", "cervical", "--facing", "left",
                 "--reason", "lateral c-spine", "--rater", "dr_b"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines() == [
        f"{UNKNOWN}: region: unknown → cervical",
        f"{UNKNOWN}: facing: — → left",
        f"{UNKNOWN}: facing_source: — → user",
    ]
    with Study.open(study_path) as study:
        film = study.film_by_sop(UNKNOWN)
        assert film is not None
        assert (film.region, film.facing, film.facing_source) == (Region.CERVICAL, "left", "user")
        assert study.overview()[0].visits[0].mismatched == {}
        assert study.verify_audit().ok


def test_facing_change_relabels_saved_measurements(
    study_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Setting the facing re-labels the film's saved lines as the viewer does: a measurement
    clicked anterior-left on a film now said to face right is stored with the sign its
    corners give under that facing (−28.0725°), never left at +28.0725° (issue #10)."""
    argv = ["film", str(study_path), CERVICAL, "--facing", "right", "--reason", "faces right"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "+28.07° → -28.07° (corners re-labelled for facing right)" in out
    with Study.open(study_path) as study:
        film = study.film_by_sop(CERVICAL)
        assert film is not None
        (m,) = study.measurements(film.id)
        assert m.angle == pytest.approx(-28.0725, abs=1e-4)
        assert m.upper.anterior == (140.0, 110.0) and m.lower.anterior == (140.0, 290.0)
        assert study.angle_discrepancies() == [] and study.verify_audit().ok
    assert main(["film", str(study_path), CERVICAL, "--facing", "left", "--reason", "no"]) == 0
    with Study.open(study_path) as study:
        film = study.film_by_sop(CERVICAL)
        assert film is not None
        assert study.measurements(film.id)[0].angle == pytest.approx(28.0725, abs=1e-4)


def test_change_visit_creates_month3(study_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["film", str(study_path), BARE, "--visit", "month3", "--reason", "dated 3 mo"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines() == ["new visit: undated month3", f"{BARE}: visit: admission → month3"]
    with Study.open(study_path) as study:
        film = study.film_by_sop(BARE)
        assert film is not None
        kinds = {v.id: v.kind for v in study.visits(study.patients()[0].id)}
        assert kinds[film.visit_id] is VisitKind.MONTH3


def test_region_change_warns_about_mismatched_measurements(
    study_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["film", str(study_path), CERVICAL, "--region", "lumbar", "--reason", "x"]) == 0
    err = capsys.readouterr().err
    assert "1 measurement(s) on this film do not match its region lumbar" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([CERVICAL, "--region", "lumbar"], "changing a film needs a reason"),
        ([CERVICAL, "--reason", "why"], "nothing to change"),
        (["9.9.9", "--region", "lumbar", "--reason", "x"], "no film with SOP Instance UID 9.9.9"),
        ([CERVICAL, "--visit", "", "--reason", "x"], "name the visit"),
        ([], "give either --list or the SOP Instance UID"),
        ([CERVICAL, "--list"], "give either --list or the SOP Instance UID"),
    ],
)
def test_refusals(
    study_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["film", str(study_path), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cobbdesk: error: ") and message in err
    with Study.open(study_path) as study:
        film = study.film_by_sop(CERVICAL)
        assert film is not None and film.region is Region.CERVICAL


def test_verify_reports_stale_angles_and_mismatches(
    study_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", str(study_path)]) == 0  # a mismatch alone is a warning
    out, err = capsys.readouterr()
    assert "0 stale angle(s); 0 film(s) measured with different pixel shapes; " in out
    assert "; 1 region mismatch(es)" in out
    assert f"cobbdesk: warning: region mismatch: P0001 film {UNKNOWN} measurement" in err
    with Study.open(study_path) as study:
        mid = study.measurements(1)[0].id
        with study.transaction() as conn:
            conn.execute(
                text("UPDATE measurements SET angle_deg = 33.07 WHERE id = :i"), {"i": mid}
            )
    assert main(["verify", str(study_path)]) == 1
    out, err = capsys.readouterr()
    stale = [line for line in err.splitlines() if "stale angle" in line]
    assert stale == [
        f"cobbdesk: error: stale angle: P0001 film {CERVICAL} measurement {mid} (C2-C7): "
        "stored angle +33.0700° but its points give +28.0725°"
    ]
    assert "Doe" not in out + err and "MRN" not in out + err
    assert main(["verify", str(study_path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [d["measurement_id"] for d in report["stale_angles"]] == [mid]
    assert report["stale_angles"][0]["recomputed_deg"] == pytest.approx(28.0725, abs=5e-5)
    assert report["region_mismatches"][0]["film_region"] == "unknown"


def test_list_gives_every_unmeasured_film_its_header_spacing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A film nobody has measured or calibrated still shows a spacing and where it comes
    from: its own header (here Pixel Spacing 0.6 mm × 0.5 mm as written), or why there is none."""
    from cobbdesk.synth.dicom import write_dicom
    from cobbdesk.synth.spine import make_lateral_spine

    spine = make_lateral_spine("lumbar", 30.0, rows=400, columns=320, spacing_mm=(0.6, 0.5))
    spaced = write_dicom(spine, tmp_path / "spaced.dcm", sop_instance_uid="1.2.840.7.1")
    unspaced = write_dicom(
        spine, tmp_path / "bare.dcm", sop_instance_uid="1.2.840.7.2", spacing_tag=None
    )
    path = tmp_path / "h.cobbdesk"
    with Study.create(path, actor="tester") as study:
        vid = study.add_visit(study.add_patient("P0001"), "admission", visit_date="2026-01-05")
        study.add_film(vid, sop_instance_uid="1.2.840.7.1", path=spaced, region="lumbar")
        study.add_film(vid, sop_instance_uid="1.2.840.7.2", path=unspaced, region="lumbar")
        study.add_film(vid, sop_instance_uid="1.2.840.7.3", path=tmp_path / "gone.dcm")
    assert main(["film", str(path), "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "spacing 0.6×0.5 mm [header (PixelSpacing)]  0 measurement(s)" in lines[0]
    assert "spacing — [header (none: uncalibrated)]  0 measurement(s)" in lines[1]
    assert "spacing — [film file missing]  0 measurement(s)" in lines[2]
    assert main(["film", str(path), "--list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["spacing_mm"], r["spacing_from"]) for r in rows] == [
        ([0.6, 0.5], "header (PixelSpacing)"),
        (None, "header (none: uncalibrated)"),
        (None, "film file missing"),
    ]
    assert all(r["spacing_from"] != "none" for r in rows)


def test_moving_a_measured_film_beside_another_of_its_region_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tester's find: moving a measured admission lumbar film into month 3, which has a
    measured lumbar film, silently dropped one angle from exports: the command now warns,
    naming the other film (verify's region duplicate, at the moment it is made)."""
    from tests.core.export.conftest import build_fixture_study

    path = build_fixture_study(tmp_path / "s.cobbdesk")
    with Study.open(path) as study:
        summaries = [s for s in study.film_summaries() if s.measurements
                     and s.region is Region.LUMBAR]  # fmt: skip
        by_patient: dict[str, dict[str, str]] = {}
        for s in summaries:
            by_patient.setdefault(s.study_id, {})[s.visit.kind.value] = s.sop_instance_uid
        moving, staying = next((v["admission"], v["month3"]) for v in by_patient.values()
                               if {"admission", "month3"} <= v.keys())  # fmt: skip
    capsys.readouterr()
    assert main(["film", str(path), moving, "--visit", "month3", "--reason", "test"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"cobbdesk: warning: {moving}: its visit now holds 2 measured lumbar films (also "
        f"{staying}); exports and statistics keep each rater's most recent measurement of "
        "them: move or delete the extra film"
    ]
    # a change that makes no pair says nothing
    assert main(["film", str(path), moving, "--visit", "admission", "--reason", "back"]) == 0
    assert capsys.readouterr().err == ""
