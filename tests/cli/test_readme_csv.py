"""The README's labs and points CSV examples import as the README says."""

from __future__ import annotations

import re
from pathlib import Path

from cobbdesk.cli import main
from cobbdesk.core.store import Study
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

README = Path(__file__).resolve().parents[2] / "README.md"


def example(command: str) -> str:
    """The first ```csv block after the heading of ``cobbdesk COMMAND``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"#### `cobbdesk {command} STUDY")
    return re.findall(r"```csv\n(.*?)```", text[start:], re.S)[0]


def test_labs_example_imports(tmp_path: Path) -> None:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="test") as study:
        study.add_patient("P0001")
    csv_file = tmp_path / "labs.csv"
    csv_file.write_text(example("labs"), encoding="utf-8")
    assert main(["labs", str(path), str(csv_file)]) == 0
    with Study.open(path) as study:
        pid = study.patient_by_study_id("P0001")
        assert pid is not None
        admission = study.visit(pid, "admission")
        assert admission is not None
        assert study.labs(admission.id)["neutrophil"] == 5.2  # decimal comma read
        assert study.labs(admission.id)["crp"] == 12.5


def test_points_example_imports(tmp_path: Path) -> None:
    rows = example("measure").strip().splitlines()
    uid = rows[1].split(",")[0]
    spine = make_lateral_spine("cervical", 15.0, rows=1100, columns=800, spacing_mm=(0.2, 0.2))
    film = write_dicom(spine, tmp_path / "film.dcm", sop_instance_uid=uid)
    path = tmp_path / "s.cobbdesk"
    assert main(["import", str(path), str(film), "--create"]) == 0
    csv_file = tmp_path / "points.csv"
    csv_file.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["measure", str(path), str(csv_file)]) == 0
    with Study.open(path) as study:
        record = study.film_by_sop(uid)
        assert record is not None
        (saved,) = study.measurements(record.id)
        assert saved.rater == "AB"
