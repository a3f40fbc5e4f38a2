"""De-identification by default, identified exports on request, audit of every export."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from cobbdesk.core.export import export_study, load_long, load_wide, neutralise
from cobbdesk.core.export.writers import sha256_of
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import audit

from .conftest import PATIENTS

FORMATS = {"wide": "w.csv", "long": "l.csv", "xlsx": "x.xlsx", "sav": "s.sav",
           "codebook": "c.csv"}  # fmt: skip


def exported_text(path: Path) -> str:
    """Everything readable in the file (XLSX parts unzipped; SAV bytes as Latin-1)."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(n).decode("utf-8") for n in archive.namelist())
    return path.read_bytes().decode("latin-1")


def identifiers() -> list[str]:
    return [s for p in PATIENTS for s in (p.name, p.mrn, p.birth_date, p.name.split()[0])]


def export_all(study_path: Path, folder: Path, identified: bool) -> dict[str, Path]:
    with Study.open(study_path) as study:
        for fmt, name in FORMATS.items():
            export_study(study, fmt, folder / name, identified=identified)  # type: ignore[arg-type]
    return {fmt: folder / name for fmt, name in FORMATS.items()}


def test_default_exports_hold_no_identifiers(fresh_study: Path, tmp_path: Path) -> None:
    for fmt, path in export_all(fresh_study, tmp_path, identified=False).items():
        text = exported_text(path)
        hits = [s for s in identifiers() if s in text]
        if fmt == "xlsx":  # the workbook's own creation time is a date, not a patient's
            text = re.sub(r"<dcterms:(created|modified)[^<]*</dcterms:\w+>", "", text)
        assert hits == [], fmt
        assert re.findall(r"\d{4}-\d{2}-\d{2}", text) == [], fmt


def test_identified_export_holds_identifiers_and_is_audited(
    fresh_study: Path, tmp_path: Path
) -> None:
    paths = export_all(fresh_study, tmp_path, identified=True)
    text = exported_text(paths["wide"])
    for p in PATIENTS:
        assert p.name in text and p.mrn in text and p.birth_date in text
    assert "2026-01-05" in text
    with Study.open(fresh_study) as study, study.engine.connect() as conn:
        rows = conn.execute(select(audit).where(audit.c.entity == "export")).mappings().all()
    assert len(rows) == 7 * len(FORMATS)  # format, file, rows, sha256, identified, raters, head
    by_file = {r["new_value"]: r["entity_id"] for r in rows if r["field"] == "file"}
    wide_id = by_file["w.csv"]
    fields = {r["field"]: r["new_value"] for r in rows if r["entity_id"] == wide_id}
    assert fields["sha256"] == sha256_of(paths["wide"])
    assert fields == {"format": "wide", "file": "w.csv", "rows": "8", "raters": "mean",
                      "sha256": fields["sha256"], "identified": "true",
                      "audit_head": fields["audit_head"]}  # fmt: skip
    assert all("identified export" in r["reason"] for r in rows)


def test_every_export_is_audited(fresh_study: Path, tmp_path: Path) -> None:
    with Study.open(fresh_study) as study:
        result = export_study(study, "wide", tmp_path / "w.csv")
        with study.engine.connect() as conn:
            rows = (
                conn.execute(select(audit).where(audit.c.entity_id == result.export_id))
                .mappings()
                .all()
            )
        assert study.verify_audit().ok
    assert {r["field"]: r["new_value"] for r in rows}["sha256"] == result.sha256
    assert {r["field"]: r["new_value"] for r in rows}["identified"] == "false"


def test_ages_over_89(fixture_study: Path) -> None:
    with Study.open(fixture_study) as study:
        wide = load_wide(study).set_index("study_id")
        identified = load_wide(study, identified=True).set_index("study_id")
    assert wide.loc["P002", "age_admission"].tolist() == [90, 90]  # born 1930, two raters
    assert wide.loc["P002", "age_90plus"].tolist() == [1, 1]
    assert identified.loc["P002", "age_admission"].tolist() == [96, 96]
    assert wide.loc["P001", "age_admission"].tolist() == [55, 55]  # birthday after admission
    assert wide.loc["P001", "age_90plus"].tolist() == [0, 0]


@pytest.mark.parametrize(("text", "expected"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2", "'-2"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"), ("P-1", "P-1"),
])  # fmt: skip
def test_neutralise(text: str, expected: str) -> None:
    assert neutralise(text) == expected


def test_long_layout_repeats_labs_per_rater(fixture_study: Path) -> None:
    with Study.open(fixture_study) as study:
        long = load_long(study)
    p001 = long[(long["record_id"] == "P001") & (long["event"] == "admission")]
    assert p001["rater"].tolist() == ["A", "B"]
    assert p001["crp"].tolist() == [12.0, 12.0]
    assert p001["cervical_cobb"].tolist() == [-12.5, -11.5]  # A's re-measurement, not -30
    p003 = long[long["record_id"] == "P003"]
    assert p003["event"].tolist() == ["admission", "month3"]
    assert p003["visit_day"].isna().tolist() == [False, True]
