"""Golden exports of the fixed fixture study (regenerate with COBBDESK_UPDATE_GOLDEN=1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cobbdesk.core.export import export_study
from cobbdesk.core.store import Study

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden"


@pytest.mark.parametrize(
    ("fmt", "raters", "name"),
    [
        ("wide", "mean", "wide.csv"),
        ("long", "mean", "long.csv"),
        ("wide", "each", "wide_each.csv"),
        ("long", "each", "long_each.csv"),
        ("wide", "B", "wide_rater_B.csv"),
        ("codebook", "mean", "codebook.csv"),
    ],
)
def test_golden_export(fresh_study: Path, tmp_path: Path, fmt: str, raters: str, name: str) -> None:
    out = tmp_path / name
    with Study.open(fresh_study) as study:
        export_study(study, fmt, out, raters=raters)  # type: ignore[arg-type]
    if os.environ.get("COBBDESK_UPDATE_GOLDEN"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        (GOLDEN / name).write_bytes(out.read_bytes())
    assert out.read_bytes() == (GOLDEN / name).read_bytes()


def test_csv_conventions(fresh_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "wide.csv"
    with Study.open(fresh_study) as study:
        export_study(study, "wide", out, convention_comment=True, raters="each")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf# Cobb angle sign convention: positive = lordosis")
    text = raw.decode("utf-8-sig")
    assert "\r" not in text
    header = text.splitlines()[1].split(",")
    assert header[:3] == ["study_id", "rater", "sex"]
    assert "cervical_spacing_source_admission" in header
    assert "ana_delta" not in header and "ana_month3" in header
    p003 = next(line for line in text.splitlines() if line.startswith("P003,"))
    cells = p003.split(",")
    assert cells[header.index("cervical_cobb_month3")] == ""  # missing visit: empty cells
    assert cells[header.index("month3_day")] == ""
    assert cells[header.index("cervical_cobb_admission")] == "5.0"
