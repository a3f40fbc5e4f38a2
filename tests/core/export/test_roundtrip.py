"""Round trips: long CSV → wide equals the wide CSV; SAV and XLSX read back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
from openpyxl import load_workbook

from cobbdesk.core.export import export_study, long_columns, long_to_wide, wide_columns
from cobbdesk.core.export.columns import ColumnSpec
from cobbdesk.core.export.dataset import conform
from cobbdesk.core.store import Study


def read_export_csv(path: Path, columns: list[ColumnSpec]) -> pd.DataFrame:
    text = {c.name: str for c in columns if c.is_text}
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=text, keep_default_na=False,
                        na_values={c.name: [""] for c in columns if not c.is_text})  # fmt: skip
    return conform(frame, columns)


def test_long_to_wide_round_trip(fixture_study: Path, tmp_path: Path) -> None:
    with Study.open(fixture_study) as study:
        export_study(study, "long", tmp_path / "long.csv")
        export_study(study, "wide", tmp_path / "wide.csv")
    long = read_export_csv(tmp_path / "long.csv", long_columns())
    wide = read_export_csv(tmp_path / "wide.csv", wide_columns())
    assert len(long) == 2 * len(wide)
    pd.testing.assert_frame_equal(long_to_wide(long), wide)


def test_sav_labels_round_trip(fixture_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "study.sav"
    with Study.open(fixture_study) as study:
        result = export_study(study, "sav", out)
    frame, meta = pyreadstat.read_sav(str(out))
    assert list(frame.columns) == [c.name for c in wide_columns()]
    assert len(frame) == result.rows == 8  # rater policy mean: one row per patient
    assert result.policy.kind == "mean"
    labels = meta.column_names_to_labels
    assert labels["cervical_cobb_admission"] == "Cervical Cobb angle C2–C7, admission (°)"
    assert labels["crp_month3"] == "C-reactive protein (CRP), month 3 (mg/L)"
    assert meta.variable_value_labels["sex"] == {"F": "female", "M": "male", "O": "other"}
    assert meta.variable_value_labels["ana_admission"] == {0.0: "negative", 1.0: "positive"}
    assert meta.variable_measure["cervical_cobb_delta"] == "scale"
    assert meta.variable_measure["sex"] == "nominal"
    row = frame[frame["study_id"] == "-2"].iloc[0]  # SAV text is not prefixed
    assert row["cervical_cobb_admission"] == -3.0
    assert pd.isna(frame[frame["study_id"] == "P003"].iloc[0]["cervical_cobb_month3"])


def test_xlsx_typed_cells_without_formulas(fixture_study: Path, tmp_path: Path) -> None:
    out = tmp_path / "study.xlsx"
    with Study.open(fixture_study) as study:
        export_study(study, "xlsx", out)
    book = load_workbook(out)
    assert book.sheetnames == ["wide", "long", "codebook"]
    formulas = [c for ws in book.worksheets for row in ws.iter_rows() for c in row
                if c.data_type == "f"]  # fmt: skip
    assert formulas == []
    wide = book["wide"]
    header = [c.value for c in wide[1]]
    ids = [row[0].value for row in wide.iter_rows(min_row=2)]
    assert '\'=HYPERLINK("http://x","y")' in ids and "'+1" in ids and "'-2" in ids
    row = next(r for r in wide.iter_rows(min_row=2) if r[0].value == "'-2")
    cell = row[header.index("cervical_cobb_admission")]
    assert cell.value == -3.0 and cell.data_type == "n"
    p003 = next(r for r in wide.iter_rows(min_row=2) if r[0].value == "P003")
    assert p003[header.index("lumbar_cobb_month3")].value is None
    assert p003[header.index("age_admission")].data_type == "n"
