"""``cobbdesk plan`` / ``measure --plan`` / ``stats --plan`` end to end (#14)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.store import Study
from tests.core.reading.helpers import A1, B1
from tests.core.reading.test_plans import R_INTER, R_INTER_K

SECRETS = ("P00", "Doe", "MRN", "1960", "2026", "admission", "month3", "Synthetic")


@pytest.fixture
def study_path(tmp_path: Path, dicom_factory: Callable[..., Path]) -> Path:
    path = tmp_path / "cli.cobbdesk"
    pixels = np.zeros((400, 300), dtype=np.uint16)
    with Study.create(path, actor="tester") as study:
        for p in range(4):
            pid = study.add_patient(f"P{p + 1:03d}", name=f"Doe^Jane{p}", mrn=f"MRN{p:05d}")
            for v, (kind, day) in enumerate(
                (("admission", "2026-01-05"), ("month3", "2026-04-06"))
            ):
                vid = study.add_visit(pid, kind, visit_date=day)
                uid = f"1.2.826.0.1.{p + 1}.{v + 1}"  # the file is the film recorded
                film = dicom_factory(pixels, f"f{p}{v}.dcm", SOPInstanceUID=uid,
                                     StudyDate=day.replace("-", ""))  # fmt: skip
                study.add_film(vid, sop_instance_uid=uid, path=film,
                               region="cervical", study_date=day, pixel_rows=400,
                               pixel_columns=300)  # fmt: skip
    return path


def _points(path: Path, rater: str, values: tuple[float, ...], sops: list[str]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sop_instance_uid", "template", "rater", "upper_anterior_x",
                         "upper_anterior_y", "upper_posterior_x", "upper_posterior_y",
                         "lower_anterior_x", "lower_anterior_y", "lower_posterior_x",
                         "lower_posterior_y"])  # fmt: skip
        for sop, value in zip(sops, values, strict=True):
            t = math.radians(value)
            writer.writerow([sop, "C2-C7", rater, 200, 100, 100, 100,
                             repr(100 + 100 * math.cos(t)), repr(300 + 100 * math.sin(t)),
                             100, 300])  # fmt: skip
    return path


def test_plan_from_the_command_line(study_path: Path, tmp_path: Path, capsys) -> None:
    s = str(study_path)
    assert main(["plan", "create", s, "rel", "--raters", "A,B", "--rounds", "2",
                 "--washout-days", "14", "--seed", "5", "--region", "cervical"]) == 0  # fmt: skip
    capsys.readouterr()
    lists = {}
    for rater in ("A", "B"):
        assert main(["plan", "worklist", s, "rel", "--rater", rater, "--round", "1", "--json"]) == 0
        out = capsys.readouterr().out
        assert not any(secret in out for secret in SECRETS)
        lists[rater] = [f["sop_instance_uid"] for f in json.loads(out)["films"]]
    assert lists["A"] != lists["B"] and sorted(lists["A"]) == sorted(lists["B"])
    sops = sorted(lists["A"])  # film order = creation order = A1/B1 order
    for rater, values in (("A", A1), ("B", B1)):
        csv_path = _points(tmp_path / f"{rater}.csv", rater, values, sops)
        code = main(["measure", s, str(csv_path), "--plan", "rel", "--round", "1", "--json"])
        assert code == 0, capsys.readouterr()
        assert json.loads(capsys.readouterr().out)["imported"] == 8
    # round 2 before the washout: every row refused, nothing stored
    csv_path = _points(tmp_path / "A2.csv", "A", A1, sops)
    assert main(["measure", s, str(csv_path), "--plan", "rel", "--round", "2"]) == 1
    assert "washout" in capsys.readouterr().err
    assert main(["plan", "status", s, "rel", "--json"]) == 0
    rounds = {(r["rater"], r["round"]): r for r in json.loads(capsys.readouterr().out)["rounds"]}
    assert (rounds[("A", 1)]["done"], rounds[("A", 2)]["done"], rounds[("A", 2)]["open"]) == (
        8, 0, False)  # fmt: skip
    report = tmp_path / "rel.html"
    assert main(["stats", s, "--plan", "rel", "--json", "--report", str(report)]) == 0
    data = json.loads(capsys.readouterr().out)
    inter = data["regions"][0]["inter_rater"]
    assert (inter["icc_a1"]["icc"], inter["icc_a1"]["ci_low"], inter["icc_a1"]["ci_high"]) == (
        pytest.approx(R_INTER, abs=1e-9))  # fmt: skip
    assert inter["icc_ak"] == pytest.approx(R_INTER_K[0], abs=1e-9)
    text = report.read_text()
    assert text.count("data:image/png;base64,") == 1 and "Doe" not in text
    with Study.open(study_path) as study:  # the readings never became clinical measurements
        assert study.measurements() == [] and study.verify_integrity().ok
