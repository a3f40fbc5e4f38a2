"""The wide CSV export without pandas: columns from the numpy table, text formatted as the
pandas path formats it (issue #17: a fresh ``cobbdesk export --format wide`` ≤ 0.8 s).

Cells are formatted exactly as ``DataFrame.to_csv`` formats the conformed frame: numbers
with numpy's shortest round-trip text (``float64.astype(str)``), integers without decimals,
missing values empty; text neutralised and quoted by
:func:`~cobbdesk.core.export.csvtext.safe_field`.  :func:`export_wide` falls back to the
pandas path for anything :mod:`~cobbdesk.core.export.arrays` does not reproduce.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from cobbdesk.core.export.assemble import Array, Table
from cobbdesk.core.export.columns import (
    CONVENTION_COMMENT,
    DELTA_DECIMALS,
    EVENTS,
    MEASURES,
    ColumnSpec,
    wide_columns,
)
from cobbdesk.core.export.csvtext import BOM, safe_field
from cobbdesk.core.export.policy import RaterPolicy

_PATIENT = ("sex", "age_admission", "age_90plus", "dose_mg_kg_day", "duration_months")
_IDENTIFYING = ("name", "mrn", "birth_date", "dicom_patient_id")


def wide_values(table: Table, *, identified: bool = False) -> dict[str, Array]:
    """The wide layout's columns (``wide_columns`` names) from the analysis rows ``table``:
    one row per (record_id, rater), patient values from the admission row, deltas month 3 −
    admission rounded to ``DELTA_DECIMALS``."""
    first, month3 = table.events[EVENTS[0]], table.events["month3"]
    wide: dict[str, Array] = {"study_id": table.record_id, "rater": table.rater}
    for name in _PATIENT:
        wide[name] = first[name]
    wide["month3_day"] = month3["visit_day"]
    for measure in MEASURES:
        for event in EVENTS:
            wide[f"{measure.name}_{event}"] = table.events[event][measure.name]
        if measure.kind == "number":
            after, before = month3[measure.name], first[measure.name]
            wide[f"{measure.name}_delta"] = np.round(after - before, DELTA_DECIMALS)
    for event in EVENTS:
        for name, values in table.events[event].items():
            wide.setdefault(f"{name}_{event}", values)
    if identified:
        for name in _IDENTIFYING:
            wide[name] = first[name]
        for event in EVENTS:
            wide[f"{event}_date"] = table.events[event]["visit_date"]
    return wide


def format_column(spec: ColumnSpec, values: Array) -> list[str]:
    """The CSV fields of one column (already quoted where needed).

    Numbers as Python's ``repr`` of the float (the shortest round-trip text, as numpy's
    ``astype(str)`` that pandas uses), integers without decimals, missing values empty.
    Each distinct value is formatted once where values repeat (codes, labs, doses).
    """
    if spec.is_text:
        cells = values.tolist()
        fields = {v: safe_field(v) for v in set(cells)}  # few distinct values in most columns
        return [fields[v] for v in cells]
    missing = np.isnan(values)
    if missing.all():
        return [""] * len(values)
    if spec.kind in ("integer", "binary"):
        whole = np.round(np.where(missing, 0.0, values)).astype(np.int64)
        distinct, where = np.unique(whole, return_inverse=True)
        return _cells(list(map(str, distinct.tolist())), where, missing)
    negative_zero = bool(np.any((values == 0) & np.signbit(values)))  # unique() merges ±0
    distinct, where = np.unique(values, return_inverse=True)
    if negative_zero or len(distinct) * 2 > len(values):
        texts = list(map(float.__repr__, values.tolist()))
        if not missing.any():
            return texts
        cells = np.array(texts, dtype=object)
        cells[missing] = ""
        return cells.tolist()  # type: ignore[no-any-return]
    return _cells(list(map(float.__repr__, distinct.tolist())), where, missing)


def _cells(texts: list[str], where: Array, missing: Array) -> list[str]:
    """``texts[where]``, "" where ``missing`` (``where``: each cell's index in ``texts``)."""
    table = np.array([*texts, ""], dtype=object)
    return table[np.where(missing, len(texts), where.reshape(-1))].tolist()  # type: ignore[no-any-return]


_CHUNK_ROWS = 20_000
"""Rows formatted at a time: the text of one chunk is alive at once, not the whole file's."""


def wide_lines(table: Table, *, identified: bool = False, comment: str = "") -> Iterator[str]:
    """The wide CSV document (without BOM) in pieces: optional ``#`` comment line and the
    header, then the rows ``_CHUNK_ROWS`` at a time (each piece ends with a line break)."""
    columns = wide_columns(identified)
    values = wide_values(table, identified=identified)
    head = comment + "\n" if comment else ""
    yield head + ",".join(spec.name for spec in columns) + "\n"
    for start in range(0, len(table), _CHUNK_ROWS):
        part = slice(start, start + _CHUNK_ROWS)
        fields = [format_column(spec, values[spec.name][part]) for spec in columns]
        yield "\n".join(map(",".join, zip(*fields, strict=True))) + "\n"


def wide_text(table: Table, *, identified: bool = False, comment: str = "") -> str:
    """The whole wide CSV document (without BOM) as one text."""
    return "".join(wide_lines(table, identified=identified, comment=comment))


def write_wide(
    table: Table, path: Path, *, identified: bool = False, convention_comment: bool = False
) -> int:
    """Write the wide CSV (UTF-8 with BOM) of ``table`` to ``path``; returns the row count."""
    comment = CONVENTION_COMMENT if convention_comment else ""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(BOM)
        handle.writelines(wide_lines(table, identified=identified, comment=comment))
    return len(table)


def export_wide(
    study: Any,
    path: Path,
    per_rater: Table,
    *,
    identified: bool = False,
    convention_comment: bool = False,
    reason: str = "",
    raters: RaterPolicy | str | None = None,
) -> Any:
    """:func:`~cobbdesk.core.export.writers.export_study` in the wide format from the numpy
    per-rater table ``per_rater`` (:func:`~cobbdesk.core.export.arrays.load_table` with the
    same ``identified``): same bytes, same audit rows; returns the ExportResult.

    Raises :class:`~cobbdesk.core.export.fetch.Unsupported` (before anything is written)
    when the policy needs the pandas path (a reading plan's consensus).
    """
    from cobbdesk.core.export.policy_arrays import apply_policy
    from cobbdesk.core.export.publish import export_policy

    policy = export_policy(study, raters)
    table = apply_policy(per_rater, policy)
    return export_analysed(study, path, table, policy, identified=identified,
                           convention_comment=convention_comment, reason=reason)  # fmt: skip


def export_analysed(
    study: Any,
    path: Path,
    table: Table,
    policy: RaterPolicy,
    *,
    identified: bool = False,
    convention_comment: bool = False,
    reason: str = "",
) -> Any:
    """:func:`export_wide` of rows the resolved ``policy`` already made (``table``:
    :func:`~cobbdesk.core.export.policy_arrays.apply_policy`; the statistics reuse them)."""
    from cobbdesk.core.export.publish import audited_write

    def write(temp: Path) -> int:
        return write_wide(table, temp, identified=identified, convention_comment=convention_comment)

    return audited_write(study, "wide", Path(path), write, identified=identified, policy=policy,
                         reason=reason)  # fmt: skip
