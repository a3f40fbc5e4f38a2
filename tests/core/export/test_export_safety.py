"""Exports (#12): every CSV field quoted by the csv module, formulas neutralised per cell and
per line inside a cell; exports audited before they exist and created 0600."""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from pathlib import Path

import pytest

from cobbdesk.core.errors import StudyLockedError
from cobbdesk.core.export.columns import long_columns
from cobbdesk.core.export.dataset import load_long
from cobbdesk.core.export.writers import FORMATS, csv_lines, csv_text, export_study, neutralise
from cobbdesk.core.store import Study, dialect

HOSTILE = [
    "Ann\r=HYPERLINK(1)",
    "Ann\n+cmd",
    "Ann\r\n-2+3",
    "Ann\t@SUM(A1)",
    'say "hi", then =1',
    "=cmd",
    "+1",
    "-1",
    "@x",
    "\tTab",
    "\rCR",
    "plain",
]
FORMULA_START = re.compile(r"^[=+\-@\t\r]")


def _records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_stays_one_neutral_cell(value: str) -> None:
    text = csv_lines([["P001", neutralise(value), "3.5"]])
    assert _records(text) == [["P001", neutralise(value), "3.5"]]  # one record, three fields
    assert text.endswith("\n") and not text.endswith("\r\n")
    for line in re.split(r"\r\n|\r|\n", text):  # a reader splitting on any line break
        assert not FORMULA_START.match(line), repr(line)


def test_neutralise_examples() -> None:
    # hand-written expectations: a ' before the cell and before each formula-like inner line
    assert neutralise("Ann\r=X") == "Ann\r'=X"
    assert neutralise("Ann\r\n-2") == "Ann\r\n'-2"
    assert neutralise("=a\n@b") == "'=a\n'@b"
    assert neutralise("a-b\nc") == "a-b\nc"


def test_export_with_hostile_raters_keeps_its_records(fresh_study: Path) -> None:
    with Study.open(fresh_study) as study:
        long = load_long(study)
    long["rater"] = [HOSTILE[i % len(HOSTILE)] for i in range(len(long))]
    text = csv_text(long, long_columns(False))
    records = _records(text)
    assert len(records) == len(long) + 1
    assert [r[records[0].index("rater")] for r in records[1:]] == [
        neutralise(v) for v in long["rater"]
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_exports_are_private(fresh_study: Path, tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    old = os.umask(0o022)
    try:
        with Study.open(fresh_study) as study:
            result = export_study(study, fmt, folder / f"out.{fmt}", identified=True)  # type: ignore[arg-type]
    finally:
        os.umask(old)
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert [p.name for p in folder.iterdir()] == [f"out.{fmt}"]  # no temporary file left


def test_no_export_without_its_audit_row(
    fresh_study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    monkeypatch.setattr(dialect, "BUSY_TIMEOUT_MS", 20)
    out = tmp_path / "out"
    out.mkdir()
    holder = sqlite3.connect(fresh_study, isolation_level=None)
    with Study.open(fresh_study) as study:
        rows = study.verify_audit().rows
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StudyLockedError):
                export_study(study, "wide", out / "w.csv", identified=True)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert list(out.iterdir()) == []
        assert study.verify_audit().rows == rows


def test_export_audit_records_the_head_it_saw(fresh_study: Path, tmp_path: Path) -> None:
    from sqlalchemy import select

    from cobbdesk.core.store import audit as audit_log
    from cobbdesk.core.store.schema import audit

    with Study.open(fresh_study) as study:
        with study.engine.connect() as conn:
            seq, last = audit_log.head(conn)
        result = export_study(study, "wide", tmp_path / "w.csv")
        with study.engine.connect() as conn:
            rows = conn.execute(
                select(audit.c.seq, audit.c.field, audit.c.new_value, audit.c.prev_hash).where(
                    audit.c.entity == "export", audit.c.entity_id == result.export_id
                )
            ).all()
        recorded = {field: value for _, field, value, _ in rows}
        assert recorded["audit_head"] == f"{seq}:{last}"
        assert min(r.seq for r in rows) == seq + 1  # the export's rows follow that head
        assert next(r.prev_hash for r in rows if r.seq == seq + 1) == last
        assert study.verify_integrity(recorded["audit_head"]).ok  # usable as --expect-head
