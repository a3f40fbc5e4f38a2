"""``cobbdesk measure`` warns, one line per row, when a row's template belongs to another region
than the film's region recorded at import — the rule ``verify`` reports as a region mismatch —
naming the film number and both regions, never the patient; the row is still saved (the
existing policy: saved, left out of the region angle in exports).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cobbdesk.cli import main
from cobbdesk.core.store import Study
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

HEADER = (
    "sop_instance_uid,template,upper_anterior_x,upper_anterior_y,upper_posterior_x,"
    "upper_posterior_y,lower_anterior_x,lower_anterior_y,lower_posterior_x,lower_posterior_y\n"
)
PAIR = "100,100,140,110,100,300,140,290"  # 2·atan(10/40) = 28.0725° (hand-computed)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    spine = make_lateral_spine("lumbar", 40.0, rows=400, columns=320, spacing_mm=(0.6, 0.6))
    for n in (1, 2):
        write_dicom(spine, tmp_path / f"f{n}.dcm", patient_id="HOSP-4455",
                    patient_name="Zorkwell^Quintessa", sop_instance_uid=f"1.2.3.{n}")  # fmt: skip
    path = tmp_path / "s.cobbdesk"
    assert main(["import", str(path), str(tmp_path / "f1.dcm"), str(tmp_path / "f2.dcm"),
                 "--create"]) == 0  # fmt: skip
    with Study.open(path) as s:
        assert {f.region.value for f in s.films()} == {"lumbar"}
    return path


def test_wrong_region_row_warns_and_is_saved(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    points = tmp_path / "points.csv"
    points.write_text(f"{HEADER}1.2.3.1,C2-C7,{PAIR}\n1.2.3.2,L1-S1,{PAIR}\n")
    with Study.open(study) as s:
        wrong = s.film_by_sop("1.2.3.1").id
    capsys.readouterr()
    assert main(["measure", str(study), str(points)]) == 0
    out, err = capsys.readouterr()
    assert "2 row(s): 2 imported" in out
    region_lines = [line for line in err.splitlines() if "recorded as" in line]
    assert region_lines == [
        f"cobbdesk: warning: points.csv row 2: film #{wrong}: a C2-C7 (cervical) measurement "
        "on a film recorded as lumbar at import; saved, but left out of the film's region "
        "angle in exports until the film's region is corrected (cobbdesk film STUDY UID "
        "--region …)"
    ]
    assert "Zorkwell" not in err and "Quintessa" not in err and "HOSP-4455" not in err
    # the same rule as verify: exactly the warned row is a region mismatch there
    assert main(["verify", str(study), "--json"]) == 0
    mismatches = json.loads(capsys.readouterr().out)["region_mismatches"]
    assert [m["sop_instance_uid"] for m in mismatches] == ["1.2.3.1"]


def test_matching_rows_give_no_region_warning(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    points = tmp_path / "points.csv"
    points.write_text(f"{HEADER}1.2.3.1,L1-S1,{PAIR}\n")
    capsys.readouterr()
    assert main(["measure", str(study), str(points), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["imported"] == 1
    assert not [w for w in report["warnings"] if "recorded as" in str(w)]
