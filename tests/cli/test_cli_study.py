"""The study subcommands: import, labs, measure, verify."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cobbdesk.cli import SUBCOMMANDS, main
from cobbdesk.core.store import Study
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine


@pytest.fixture
def films(tmp_path: Path) -> Path:
    folder = tmp_path / "films"
    folder.mkdir()
    spine = make_lateral_spine("lumbar", 40.0, rows=400, columns=320, spacing_mm=(0.6, 0.6))
    for n, day in enumerate(("20260105", "20260407"), start=1):
        write_dicom(spine, folder / f"f{n}.dcm", patient_id="MRN-1", study_date=day,
                    sop_instance_uid=f"1.2.3.{n}")  # fmt: skip
    (folder / "readme.txt").write_text("not a film")
    (folder / "broken.dcm").write_bytes((folder / "f1.dcm").read_bytes()[:600])
    return folder


def test_subcommands_are_registered() -> None:
    assert {"import", "labs", "measure", "verify"} <= set(SUBCOMMANDS)


def test_import_then_verify(
    films: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "s.cobbdesk"
    code = main(["import", str(study), str(films), "--create", "--rater", "ab"])
    out, err = capsys.readouterr()
    assert code == 1  # broken.dcm was rejected
    assert "2 film(s) imported from 4 file(s)" in out
    assert "new visit: P0001 month3 2026-04-07" in out
    assert "broken.dcm" in err and err.count("cobbdesk: error:") == 1
    assert "reading headers" not in err  # progress only on a terminal
    assert main(["verify", str(study)]) == 0
    out, _ = capsys.readouterr()
    assert "audit chain ok" in out and "2 film(s)" in out
    with Study.open(study) as opened:
        assert {f.region.value for f in opened.films()} == {"lumbar"}


def test_import_json_and_duplicates_are_not_rejections(
    films: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (films / "broken.dcm").unlink()
    study = tmp_path / "s.cobbdesk"
    assert main(["import", str(study), str(films), "--create"]) == 0
    capsys.readouterr()
    assert main(["import", str(study), str(films), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == [] and len(report["duplicates"]) == 2 and report["ok"]
    assert report["skipped"][0]["path"].endswith("readme.txt")


def test_import_into_missing_study_without_create(
    films: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(tmp_path / "none.cobbdesk"), str(films)]) == 1
    assert "no such study file" in capsys.readouterr().err


def test_labs_and_measure(films: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    study = tmp_path / "s.cobbdesk"
    main(["import", str(study), str(films), "--create"])
    labs = tmp_path / "labs.csv"
    labs.write_text("patient_id;visit;vas;crp\nMRN-1;admission;4;3,5\nMRN-1;month3;11;2\n")
    capsys.readouterr()
    assert main(["labs", str(study), str(labs)]) == 1
    out, err = capsys.readouterr()
    assert "2 row(s): 1 imported" in out
    assert "labs.csv row 3: vas = 11 is impossible" in err
    points = tmp_path / "points.csv"
    points.write_text(
        "sop_instance_uid,template,upper_anterior_x,upper_anterior_y,upper_posterior_x,"
        "upper_posterior_y,lower_anterior_x,lower_anterior_y,lower_posterior_x,"
        "lower_posterior_y\n1.2.3.1,L1-S1,100,100,140,110,100,300,140,290\n"
    )
    assert main(["measure", str(study), str(points), "--json", "--rater", "cd"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 1 and report["measurements"][0]["angle"] == pytest.approx(
        28.072, abs=1e-3
    )
    with Study.open(study) as opened:
        assert opened.measurements()[0].rater == "cd"


def test_verify_reports_a_damaged_audit(
    films: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "s.cobbdesk"
    main(["import", str(study), str(films), "--create"])
    con = sqlite3.connect(study)
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET new_value = 'x' WHERE seq = 2")
    con.commit()
    con.close()
    capsys.readouterr()
    assert main(["verify", str(study), "--json"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["audit_ok"] is False and "audit trail damaged" in err
