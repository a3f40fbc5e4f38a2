"""Write exports (CSV wide/long, XLSX, SPSS .sav, codebook CSV) and audit every one.

CSV: UTF-8 with BOM, ``\\n`` line ends, ISO dates, ``.`` decimals, empty cells for missing.
Every field is quoted by the :mod:`csv` module (RFC 4180): a field holding a comma, a quote,
a CR or an LF is enclosed in quotes, so a carriage return in a rater's name cannot split a
record.  Text cells that start with ``= + - @``, tab or CR get a leading ``'`` in CSV and
XLSX (OWASP CSV injection), and so does every line inside a cell that starts with one (a
reader that splits records on line breaks still sees no formula); numeric cells are never
touched, so −3.5 stays a number.  XLSX cells
are typed (numbers numeric, text text, never formulas).  SAV is uncompressed with variable
labels, value labels and measurement levels; its text is written unchanged (SPSS has no
formulas).  Every export — de-identified or identified — appends audit rows (entity
``export``) with the format, file name, row count, SHA-256 of the file, ``identified`` and
``audit_head`` (the trail's ``seq:hash`` before the export's rows; ``verify --expect-head``).

Audited before it exists: the export is written to a 0600 temporary file in the target
folder, its hash is recorded in the audit trail, and only then is it renamed to its name.
A study that cannot record the audit (locked, read-only) or a write that fails (full disk)
leaves no file behind; the result is always 0600, whatever the umask.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.export.columns import (
    CODEBOOK_FIELDS,
    CONVENTION_COMMENT,
    ColumnSpec,
    codebook_rows,
    long_columns,
    wide_columns,
)
from cobbdesk.core.export.csvtext import BOM, FORMULA_PREFIXES, NEEDS_CARE, csv_lines, neutralise
from cobbdesk.core.export.dataset import load_long, long_to_wide
from cobbdesk.core.export.policy import RaterPolicy, apply_policy
from cobbdesk.core.export.publish import (
    FORMATS,
    ExportResult,
    Format,
    audited_write,
    export_policy,
    rater_coding,
    sha256_of,
)
from cobbdesk.core.store.study import Study

__all__ = [
    "BOM", "FORMATS", "FORMULA_PREFIXES", "ExportResult", "Format", "csv_lines", "csv_text",
    "export_policy", "export_study", "neutralise", "rater_coding", "sha256_of", "write_codebook",
    "write_csv", "write_sav", "write_xlsx",
]  # fmt: skip
_NEEDS_CARE = NEEDS_CARE


def _safe_text(frame: pd.DataFrame, columns: Iterable[ColumnSpec]) -> tuple[pd.DataFrame, bool]:
    """``frame`` with every text cell :func:`neutralise`\\ d, and whether any holds a CR.

    Only the cells that could change are passed to :func:`neutralise` (a vectorised match
    finds them), so the cost follows the few risky cells, not the 10⁵ ordinary ones.
    """
    out, has_cr = frame.copy(), False
    for spec in columns:
        column = out[spec.name]
        if not spec.is_text or column.dtype.kind not in "OUS":  # only these hold text
            continue
        risky = column.str.contains(_NEEDS_CARE, regex=True, na=False).to_numpy(dtype=bool)
        if risky.any():
            out.loc[risky, spec.name] = column[risky].map(neutralise)
            has_cr = has_cr or bool(column[risky].str.contains("\r", regex=False).any())
    return out, has_cr


def csv_text(frame: pd.DataFrame, columns: list[ColumnSpec], *, comment: str = "") -> str:
    """The CSV document (without BOM): optional ``#`` comment line, header, rows.

    pandas formats the cells (numbers as it always has) and quotes them with the csv module's
    minimal quoting.  A lone CR inside a cell is the one case that quoting misses with ``\\n``
    line ends; only then are the formatted rows re-quoted by :func:`csv_lines` (same bytes
    otherwise: both use the csv module's rules).
    """
    safe, has_cr = _safe_text(frame, columns)
    head = comment + "\n" if comment else ""
    if not has_cr:
        return head + str(safe.to_csv(index=False, lineterminator="\n", na_rep=""))
    formatted = safe.to_csv(index=False, lineterminator="\n", na_rep="", quoting=csv.QUOTE_ALL)
    rows = csv.reader(io.StringIO(str(formatted), newline=""))
    return head + csv_lines(rows)


def write_csv(
    frame: pd.DataFrame, columns: list[ColumnSpec], path: Path, *, comment: str = ""
) -> None:
    """Write :func:`csv_text` of ``frame`` to ``path``: UTF-8 with a BOM (for Excel)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(BOM + csv_text(frame, columns, comment=comment))


def write_codebook(
    path: Path, *, identified: bool = False, policy: RaterPolicy | None = None
) -> int:
    """The data dictionary as CSV (UTF-8 with BOM); returns the number of rows."""
    rows = codebook_rows(identified, rater_coding=rater_coding(policy) if policy else "")
    table = [list(CODEBOOK_FIELDS)] + [[neutralise(r[k]) for k in CODEBOOK_FIELDS] for r in rows]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(BOM + csv_lines(table))
    return len(rows)


def _cell(value: Any) -> Any:
    """A Python value for openpyxl: None for missing, float/int for numbers."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _xlsx_text(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return str(ILLEGAL_CHARACTERS_RE.sub("", neutralise(text)))


def _sheet(workbook: Any, title: str, frame: pd.DataFrame, columns: list[ColumnSpec]) -> None:
    sheet = workbook.create_sheet(title)
    sheet.append([c.name for c in columns])
    text = [c.is_text for c in columns]
    for row in frame.itertuples(index=False, name=None):
        sheet.append([_xlsx_text(v) if t else _cell(v) for v, t in zip(row, text, strict=True)])


def write_xlsx(
    long: pd.DataFrame, path: Path, *, identified: bool = False, policy: RaterPolicy | None = None
) -> int:
    """Sheets ``wide``, ``long`` and ``codebook``; returns the number of wide rows."""
    from openpyxl import Workbook

    wide = long_to_wide(long, identified=identified)
    workbook = Workbook(write_only=True)
    _sheet(workbook, "wide", wide, wide_columns(identified))
    _sheet(workbook, "long", long, long_columns(identified))
    book = workbook.create_sheet("codebook")
    book.append(list(CODEBOOK_FIELDS))
    for entry in codebook_rows(identified, rater_coding=rater_coding(policy) if policy else ""):
        book.append([_xlsx_text(entry[k]) for k in CODEBOOK_FIELDS])
    workbook.save(path)
    return len(wide)


def write_sav(wide: pd.DataFrame, path: Path, *, identified: bool = False) -> int:
    """The wide layout as an uncompressed SPSS .sav file; returns the number of rows."""
    import pyreadstat

    columns = wide_columns(identified)
    frame = wide.copy()
    for spec in columns:
        if not spec.is_text:
            frame[spec.name] = frame[spec.name].astype("float64")
        else:
            frame[spec.name] = frame[spec.name].astype(object)
    pyreadstat.write_sav(
        frame,
        str(path),
        column_labels={c.name: c.spss_label for c in columns},
        variable_value_labels=_value_labels(columns),
        variable_measure={c.name: c.level for c in columns},
        compress=False,
    )
    return len(frame)


def _value_labels(columns: list[ColumnSpec]) -> dict[str, Any]:
    """SPSS value labels: numeric codes as floats, string codes unchanged."""
    labels: dict[str, Any] = {}  # pyreadstat accepts string codes despite its stub
    for spec in columns:
        if spec.value_labels:
            labels[spec.name] = {
                float(k) if isinstance(k, int) else k: v for k, v in spec.value_labels
            }
    return labels


def _write(
    study: Study,
    fmt: Format,
    path: Path,
    *,
    identified: bool,
    convention_comment: bool,
    long: pd.DataFrame | None,
    policy: RaterPolicy,
) -> int:
    if fmt == "codebook":
        return write_codebook(path, identified=identified, policy=policy)
    if long is None:
        long = load_long(study, identified=identified)
    long = apply_policy(long, policy)
    if fmt == "xlsx":
        return write_xlsx(long, path, identified=identified, policy=policy)
    comment = CONVENTION_COMMENT if convention_comment else ""
    if fmt == "long":
        write_csv(long, long_columns(identified), path, comment=comment)
        return len(long)
    wide = long_to_wide(long, identified=identified)
    if fmt == "sav":
        return write_sav(wide, path, identified=identified)
    write_csv(wide, wide_columns(identified), path, comment=comment)
    return len(wide)


def export_study(
    study: Study,
    fmt: Format,
    path: str | Path,
    *,
    identified: bool = False,
    convention_comment: bool = False,
    reason: str = "",
    long: pd.DataFrame | None = None,
    raters: RaterPolicy | str | None = None,
) -> ExportResult:
    """Write ``study`` in ``fmt`` to ``path`` and record the export in the audit trail.

    ``long`` is the study's per-rater long frame when the caller has already loaded it (with
    the same ``identified`` setting), so one load can serve an export and the statistics.
    ``raters`` is the rater policy (``mean``, ``each``, ``consensus``, a rater's name; the
    study's default when None); RaterPolicyError when it does not fit the study.  The wide
    CSV without ``long`` is written from numpy columns
    (:func:`~cobbdesk.core.export.wide_csv.export_wide`: the same bytes and audit rows,
    several times faster) unless the study holds data only the pandas path reproduces
    (:func:`export_with_pandas`, then).
    """
    if fmt == "wide" and long is None:
        from cobbdesk.core.export.arrays import load_table
        from cobbdesk.core.export.fetch import Unsupported
        from cobbdesk.core.export.wide_csv import export_wide

        options = {"identified": identified, "convention_comment": convention_comment}
        try:
            table = load_table(study, identified=identified)
            return export_wide(study, Path(path), table, reason=reason, raters=raters, **options)  # type: ignore[no-any-return]
        except Unsupported:
            pass  # nothing was written
    return export_with_pandas(
        study, fmt, path, identified=identified, convention_comment=convention_comment,
        reason=reason, long=long, raters=raters,
    )  # fmt: skip


def export_with_pandas(
    study: Study,
    fmt: Format,
    path: str | Path,
    *,
    identified: bool = False,
    convention_comment: bool = False,
    reason: str = "",
    long: pd.DataFrame | None = None,
    raters: RaterPolicy | str | None = None,
) -> ExportResult:
    """:func:`export_study` by the pandas path in every format (the reference the numpy wide
    export is tested against, byte for byte)."""
    if fmt not in FORMATS:
        raise ValidationError(None, f"unknown export format {fmt!r}; use {', '.join(FORMATS)}")
    policy = export_policy(study, raters)

    def write(temp: Path) -> int:
        return _write(
            study, fmt, temp, identified=identified, convention_comment=convention_comment,
            long=long, policy=policy,
        )  # fmt: skip

    return audited_write(study, fmt, Path(path), write, identified=identified, policy=policy,
                         reason=reason)  # fmt: skip
