"""The labs CSV import (rules in :mod:`cobbdesk.core.importing.csv_import`), built to scale.

Patients, visits and saved values are read once; every row is validated in memory against
them (and against the rows before it: a value an earlier row set counts as saved); accepted
rows are written :data:`LAB_CHUNK` at a time by :func:`cobbdesk.core.store.bulk_labs.write_labs`
(one transaction per chunk, audit chained in memory).  A value another rater changed between
the read and the write refuses its row (conflict), never overwrites it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.importing.csv_table import (
    ID_COLUMNS,
    LAB_VISITS,
    CsvTable,
    LabsReport,
    RowIssue,
    check_columns,
    read_table,
    row_shape_error,
)
from cobbdesk.core.importing.csv_text import normalise_numbers
from cobbdesk.core.labs import LAB_SPECS, is_missing, plausibility_warning, validate_lab
from cobbdesk.core.store.bulk_labs import (
    LabWrite,
    lab_values,
    patient_ids,
    visit_ids,
    write_labs,
)
from cobbdesk.core.store.faults import STUDY_FAULTS, stopped
from cobbdesk.core.store.records import VisitKind
from cobbdesk.core.store.study import Study

LAB_CHUNK = 10_000
"""Accepted rows written per transaction."""
#: The long export's names for the identifying columns (what it writes, this import reads).
LAB_ALIASES = {"record_id": "study_id", "event": "visit"}
Progress = Callable[[int, int], None]


def _export_only_columns() -> set[str]:
    """Columns a CobbDesk long export writes that are not lab inputs (angles, ages, …)."""
    from cobbdesk.core.export.columns import long_columns

    names = {c.name for c in long_columns(identified=True)}
    return names - {*ID_COLUMNS, "visit", *LAB_SPECS, "nlr", *LAB_ALIASES}


def _as_labs_table(table: CsvTable) -> tuple[CsvTable, list[str]]:
    """Rename the export's ``record_id``/``event`` and drop its non-lab columns."""
    drop = _export_only_columns() if "record_id" in table.columns else set()
    ignored = [c for c in table.columns if c in drop]
    if not ignored and not any(c in LAB_ALIASES for c in table.columns):
        return table, []  # nothing to rename or drop: the rows are used as read
    columns = [LAB_ALIASES.get(c, c) for c in table.columns if c not in drop]
    rows = [(number, {LAB_ALIASES.get(k, k): v for k, v in cells.items() if k not in drop})
            for number, cells in table.rows]  # fmt: skip
    return CsvTable(columns, rows, table.notes, table.delimiter), ignored


class _Lookup:
    """Patients and saved values, read once; ``saved`` follows the accepted rows."""

    def __init__(self, study: Study) -> None:
        self.by_study, self.by_dicom, self.study_ids = patient_ids(study)
        with study.engine.connect() as conn:
            self.visits = visit_ids(conn)
        self.saved: dict[tuple[int, str], dict[str, Any]] = lab_values(study, self.visits)

    def patient(self, cells: dict[str, str], problems: list[str]) -> int | None:
        """The patient a row names; a problem when unknown or when its two IDs disagree."""
        study_id, dicom_id = cells.get("study_id", ""), cells.get("patient_id", "")
        by_study = self.by_study.get(study_id) if study_id else None
        by_dicom = self.by_dicom.get(dicom_id) if dicom_id else None
        if not study_id and not dicom_id:
            problems.append("no patient_id or study_id")
        elif study_id and by_study is None:
            problems.append(f"unknown patient: no study ID {study_id!r} in this study")
        elif dicom_id and by_dicom is None:
            problems.append("unknown patient: no patient with this DICOM Patient ID in this study")
        elif study_id and dicom_id and by_study != by_dicom:
            problems.append(f"patient_id and study_id {study_id!r} name different patients")
        else:
            return by_study if by_study is not None else by_dicom
        return None


def import_labs(
    study: Study, csv_path: str | Path, *, reason: str = "", progress: Progress | None = None
) -> LabsReport:
    """Import lab values per patient visit; ``progress(done, total)`` after each chunk."""
    path = Path(csv_path)
    table, ignored = _as_labs_table(read_table(path))
    check_columns(path, table.columns, [*ID_COLUMNS, "visit", *LAB_SPECS, "nlr"])
    if not any(c in table.columns for c in ID_COLUMNS) or "visit" not in table.columns:
        raise ValidationError(path, "needs a patient_id or study_id column and a visit column")
    report = LabsReport(file=str(path), rows=len(table.rows), notes=list(table.notes))
    if ignored:
        report.notes.append(f"columns of a CobbDesk export ignored: {', '.join(ignored)}")
    if "nlr" in table.columns:
        report.notes.append("the nlr column was ignored: NLR is derived from the counts")
    labs = [c for c in table.columns if c in LAB_SPECS]
    numbers = normalise_numbers(
        table.rows, [c for c in labs if LAB_SPECS[c].kind == "number"], table.delimiter
    )
    report.notes += numbers.notes
    lookup, check, pending = _Lookup(study), _RowCheck(labs, reason), []
    total = len(table.rows)
    for done, (row, cells) in enumerate(table.rows, start=1):
        try:
            write = check(lookup, cells, numbers.problems.get(row), row)
        except ValidationError as exc:
            report.errors.append(RowIssue(row, exc.problem))
            continue
        if write is None:
            report.unchanged += 1
            if not any(not is_missing(cells.get(n)) for n in labs):
                report.warnings.append(
                    RowIssue(row, "no lab values in this row; nothing to import")
                )
            continue
        if check.flagged:  # a value of the row is unusual (it may be unchanged)
            report.warnings += [RowIssue(row, w) for n, (_, v) in write.changes.items()
                                if (w := check.warning(n, v))]  # fmt: skip
        pending.append(write)
        if len(pending) >= LAB_CHUNK:
            _flush(study, pending, reason, lookup, report)
            if progress:
                progress(done, total)
    _flush(study, pending, reason, lookup, report)
    if progress:
        progress(total, total)
    return report


_MISSING = object()  # a missing cell (:func:`is_missing`)
_KINDS = {k.value: k for k in VisitKind}


class _RowCheck:
    """The per-row validation of :func:`import_labs`, fast on a large file.

    Lab cells repeat a lot: each distinct text of a column is validated once
    (:func:`validate_lab`, or the missing marker, or its problem), and each distinct value's
    plausibility warning is computed once; visit names are normalised once per spelling.
    """

    def __init__(self, labs: list[str], reason: str) -> None:
        self.labs, self.reason = labs, reason
        self.cells: dict[str, dict[str | None, tuple[Any, str | None]]] = {n: {} for n in labs}
        self.kinds: dict[str, str] = {}
        self.warnings: dict[tuple[str, Any], str | None] = {}
        # texts whose value draws a plausibility warning; ``flagged``: the last row has one
        self.unusual: dict[str, set[str | None]] = {n: set() for n in labs}
        self.flagged = False

    def value(self, name: str, text: str | None) -> tuple[Any, str | None]:
        """``(stored value or _MISSING, problem or None)`` of one cell."""
        known = self.cells[name].get(text)
        if known is None:
            if is_missing(text):
                known = (_MISSING, None)
            else:
                try:
                    known = (validate_lab(name, text), None)
                except ValidationError as exc:
                    known = (_MISSING, exc.problem)
                else:
                    if self.warning(name, known[0]):
                        self.unusual[name].add(text)
            self.cells[name][text] = known
        return known

    def warning(self, name: str, value: Any) -> str | None:
        """The plausibility warning of lab ``name`` = ``value`` (None: plausible), cached."""
        key = (name, value)
        if key not in self.warnings:
            self.warnings[key] = plausibility_warning(name, value)
        return self.warnings[key]

    def kind(self, text: str) -> str:
        """A visit cell normalised for matching: lower case, no spaces or underscores, cached."""
        known = self.kinds.get(text)
        if known is None:
            known = self.kinds[text] = text.strip().lower().replace(" ", "").replace("_", "")
        return known

    def __call__(
        self, lookup: _Lookup, cells: dict[str, str], problems: list[str] | None, row: int
    ) -> LabWrite | None:
        """The row's write (None: nothing changes); ValidationError with every problem."""
        problems = list(problems) if problems else []
        shape = row_shape_error(cells)
        if shape:
            problems.insert(0, shape)
        patient = lookup.patient(cells, problems)
        kind = self.kinds.get(cells.get("visit", "")) or self.kind(cells.get("visit", ""))
        if kind not in LAB_VISITS:
            problems.append(f"visit {cells.get('visit', '')!r} must be admission or month3")
        values: dict[str, Any] = {}
        checked, unusual, self.flagged = self.cells, self.unusual, False
        for name in self.labs:
            text = cells.get(name)
            value, problem = checked[name].get(text) or self.value(name, text)
            if text in unusual[name]:
                self.flagged = True
            if problem is not None:
                problems.append(problem)
            elif value is not _MISSING:
                values[name] = value
        if problems or patient is None:
            raise ValidationError(None, "; ".join(problems))
        saved = lookup.saved.get((patient, kind))
        if not saved:  # nothing saved for this visit yet: every value is new
            lookup.saved[(patient, kind)] = values
            new = {n: (None, v) for n, v in values.items()}
            return LabWrite(row, patient, _KINDS[kind], new) if new else None
        changes = {n: (saved.get(n), v) for n, v in values.items() if saved.get(n) != v}
        if not changes:
            return None
        edits = [n for n, (old, _) in changes.items() if old is not None]
        if edits and not self.reason.strip():
            raise ValidationError(
                None, f"changing saved lab value(s) {', '.join(edits)} needs a reason"
            )
        saved.update(values)
        return LabWrite(row, patient, _KINDS[kind], changes)


def _flush(
    study: Study, pending: list[LabWrite], reason: str, lookup: _Lookup, report: LabsReport
) -> None:
    if not pending:
        return
    try:
        done = write_labs(study, pending, reason=reason, visit_keys=lookup.visits)
    except STUDY_FAULTS as exc:  # locked, server gone...: the chunks before it stay saved
        raise stopped(exc, report.imported) from exc
    report.imported += done.rows
    report.values += done.values
    report.visits_created += [
        f"{lookup.study_ids.get(pid, '?')} {kind} (undated)" for pid, kind in done.visits_created
    ]
    report.errors += [RowIssue(row, error.problem) for row, error in done.conflicts]
    pending.clear()


__all__ = ["LAB_ALIASES", "LAB_CHUNK", "import_labs"]
