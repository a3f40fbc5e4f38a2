"""The shared machinery of CobbDesk's CSV imports: reading a table (encoding, delimiter), the
column sets, the reports and the per-cell helpers.

Used by the points import (:mod:`.csv_import`) and the labs import (:mod:`.labs_csv`); the rules
themselves are in :mod:`.csv_import`'s docstring.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.importing.csv_text import decode
from cobbdesk.core.store.records import VisitKind

_EXTRA = "\0extra"  # marks a row with more cells than the header
ID_COLUMNS = ("patient_id", "study_id")
LAB_VISITS = (VisitKind.ADMISSION.value, VisitKind.MONTH3.value)
POINT_COORDINATES = tuple(
    f"{line}_{end}_{axis}"
    for line in ("upper", "lower")
    for end in ("anterior", "posterior")
    for axis in ("x", "y")
)
#: Required, then optional columns of a points file (coordinates in image pixels, x = column).
POINT_COLUMNS = ("sop_instance_uid", "template", *POINT_COORDINATES)
POINT_OPTIONAL = ("rater", "id")
#: Columns of CobbDesk's own measurement CSV that are informative only: ignored with a note.
POINT_IGNORED = (
    "angle", "angle_deg", "spacing_row_mm", "spacing_col_mm", "spacing_source", "units",
    "convention", "algorithm_version", "pixel_sha256", "created_utc", "updated_utc",
)  # fmt: skip


@dataclass(frozen=True)
class RowIssue:
    """A problem of one CSV row; ``row`` is the spreadsheet row number (the header is row 1)."""

    row: int
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}"


@dataclass
class CsvReport:
    """What a CSV import did: data ``rows`` read, rows ``imported``, rows already stored
    ``unchanged``, the rows refused (``errors``) or accepted with ``warnings``, and ``notes`` on
    how the file was read (encoding, separator).
    """

    file: str
    rows: int = 0
    imported: int = 0
    unchanged: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no row was refused."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field plus ``ok``."""
        data = asdict(self)
        data["ok"] = self.ok
        return data


@dataclass
class LabsReport(CsvReport):
    """A labs import's report: also the lab ``values`` written and the visits it created."""

    values: int = 0
    visits_created: list[str] = field(default_factory=list)


@dataclass
class PointsReport(CsvReport):
    """A points import's report: also each measurement saved (row, film id, id, angle in °)."""

    measurements: list[dict[str, Any]] = field(default_factory=list)  # row, film_id, id, angle


@dataclass(frozen=True)
class CsvTable:
    """A read CSV file: normalised column names (lower case, ``_`` for spaces and dashes), the
    non-empty rows as ``(spreadsheet row number, {column: stripped cell})``, the decoding notes
    and the separator found (``,``, ``;`` or tab).
    """

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (spreadsheet row number, cells by column)
    notes: list[str]
    delimiter: str = ","


def read_table(path: str | Path) -> CsvTable:
    """The header and non-empty rows of a CSV file (see the module's reading rules)."""
    source = Path(path)
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise ValidationError(source, f"cannot be read: {exc.strerror or exc}") from None
    text, notes = decode(raw, source)
    first = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    if not records or not any(c.strip() for c in records[0]):
        raise ValidationError(source, "the file is empty (no header row)")
    columns = [c.strip().lower().replace(" ", "_").replace("-", "_") for c in records[0]]
    rows: list[tuple[int, dict[str, str]]] = []
    width, strip = len(columns), str.strip
    for number, cells in enumerate(records[1:], start=2):
        if not "".join(cells).strip():  # no cell with anything but whitespace
            continue
        record = dict(zip(columns, map(strip, cells), strict=False))
        if len(cells) > width and "".join(cells[width:]).strip():
            record[_EXTRA] = "yes"
        rows.append((number, record))
    return CsvTable(columns, rows, notes, delimiter)


def check_columns(path: Path, columns: list[str], known: list[str]) -> None:
    """Reject the file when a column is unknown or repeated."""
    unknown = [c for c in columns if c not in known]
    if unknown:
        raise ValidationError(
            path, f"unknown column(s) {', '.join(repr(c) for c in unknown)}; known columns: "
            f"{', '.join(known)}"
        )  # fmt: skip
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        raise ValidationError(path, f"column(s) {', '.join(repeated)} appear more than once")


def row_shape_error(cells: dict[str, str]) -> str | None:
    """The problem of a row with non-empty cells beyond the header's columns (None: none)."""
    return "the row has more cells than the header has columns" if _EXTRA in cells else None


def number(cells: dict[str, str], column: str, problems: list[str]) -> float:
    """A finite number from ``cells[column]`` (decimal comma accepted); NaN and a problem
    when it is missing or not a number."""
    text = cells.get(column, "")
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        problems.append(f"{column} = {text!r} is not a number" if text else f"{column} is empty")
    return value
