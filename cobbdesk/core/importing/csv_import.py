"""Importing lab values and measurement points from CSV files (e.g. saved from a spreadsheet).

Reading rules, both imports:

* The encoding is detected (byte-order mark, then a decode test: UTF-8, UTF-16, Windows-1252
  with a note) or the file is refused saying to save it as "CSV UTF-8"
  (:mod:`cobbdesk.core.importing.csv_text`).
* The delimiter is the one of ``,`` ``;`` and tab that occurs most in the header line (header
  cells hold names only, so a decimal comma cannot mislead it, which ``csv.Sniffer`` can be on
  short files).  Each number column's decimal and thousands separators are decided from the
  whole column, the other columns and the delimiter; ambiguous values are refused with the
  row and the reason, or read by a rule a note states (:mod:`~cobbdesk.core.importing.csv_text`).
* Column names are matched case-insensitively, spaces and hyphens read as ``_``.  An unknown
  column rejects the whole file (a :class:`ValidationError` listing the known ones) before
  anything is written.
* Rows are numbered as a spreadsheet shows them: the header is row 1.  Empty rows are ignored.
  Each row is validated completely first; a row with any problem is rejected with every
  reason and nothing of it is written; lab rows are written in chunks
  of :data:`LAB_CHUNK` accepted rows, one transaction each (audit chained in memory);
  measurement rows one transaction each.

Labs (:func:`import_labs`): ``patient_id`` (DICOM Patient ID) and/or ``study_id``, ``visit``
(``admission`` or ``month3``) and any lab columns of :data:`~cobbdesk.core.labs.LAB_SPECS`.
An ``nlr`` column is ignored (it is derived).  Empty cells are left alone — they never clear a
saved value (clearing is done in the viewer, with a reason).  A row that would change a saved
value needs ``reason``.  When the patient exists but the visit does not, an undated visit of
that kind is created (a later film import dates it).

Points (:func:`import_points`): see :data:`POINT_COLUMNS`.  The angle is always computed by
CobbDesk from the points with the film's spacing, read from the film's DICOM header (and its
Pixel Aspect Ratio when it has no spacing), or the user calibration stored in the study for
that film, which wins; the film file must be reachable (photos and scans are read for their
size); an angle or spacing column in the file is ignored with a note.  An identical
measurement already saved is skipped; an ``id`` column naming a saved measurement replaces
it, which needs ``reason``.  The anterior/posterior labels are checked against the film's
facing and the line pair against the measurement guards
(:mod:`cobbdesk.core.importing.point_checks`): contradicting labels are swapped with a
warning, impossible pairs (short, coincident, crossing, ≥ 90°) refuse the row.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.dicom.photo import image_format, read_photo
from cobbdesk.core.dicom.spacing import spacing_of
from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.importing.csv_text import decode, normalise_numbers
from cobbdesk.core.importing.point_checks import ImpliedFacings, checked_measurement, film_facing
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template, new_id
from cobbdesk.core.store.records import FilmRecord, VisitKind
from cobbdesk.core.store.study import Study

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


# --- labs -------------------------------------------------------------------------------
def import_labs(
    study: Study,
    csv_path: str | Path,
    *,
    reason: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> LabsReport:
    """Import lab values per patient visit (see the module rules); returns the report.

    ``progress(done, total)`` is called as rows are checked and written (see
    :func:`cobbdesk.core.importing.labs_csv.import_labs`).
    """
    from cobbdesk.core.importing.labs_csv import import_labs as run

    return run(study, csv_path, reason=reason, progress=progress)


# --- points -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _FilmGeometry:
    spacing: tuple[float, float] | None
    source: SpacingSource
    rows: int
    columns: int
    pixel_aspect: tuple[float, float] | None = None


SavePoints = Callable[[FilmRecord, CobbMeasurement], bool]
"""Where an accepted row goes instead of the clinical measurements (a reading plan's readings,
:mod:`cobbdesk.core.reading`): returns False when an identical value is already stored."""


def import_points(
    study: Study, csv_path: str | Path, *, reason: str = "", save: SavePoints | None = None
) -> PointsReport:
    """Import measurement points (see the module rules); returns the report.

    ``save`` replaces the clinical save (``cobbdesk measure --plan``); its errors reject the row.
    """
    path = Path(csv_path)
    table = read_table(path)
    check_columns(path, table.columns, [*POINT_COLUMNS, *POINT_OPTIONAL, *POINT_IGNORED])
    missing = [c for c in POINT_COLUMNS if c not in table.columns]
    if missing:
        raise ValidationError(path, f"missing column(s): {', '.join(missing)}")
    report = PointsReport(file=str(path), rows=len(table.rows), notes=list(table.notes))
    numbers = normalise_numbers(table.rows, POINT_COORDINATES, table.delimiter)
    report.notes += numbers.notes
    ignored = [c for c in table.columns if c in POINT_IGNORED]
    if ignored:
        report.notes.append(
            f"column(s) {', '.join(ignored)} ignored: angles are computed by CobbDesk from the "
            "points with the film's own spacing"
        )
    geometry: dict[str, _FilmGeometry | str] = {}
    facings = ImpliedFacings()
    for row, cells in table.rows:
        try:
            if row in numbers.problems:
                raise ValidationError(None, "; ".join(numbers.problems[row]))
            _import_point_row(
                study, cells, (geometry, facings), reason=reason, report=report, row=row,
                save=save,
            )  # fmt: skip
        except CobbdeskError as exc:
            report.errors.append(RowIssue(row, exc.problem))
    return report


def _import_point_row(
    study: Study,
    cells: dict[str, str],
    state: tuple[dict[str, _FilmGeometry | str], ImpliedFacings],
    *,
    reason: str,
    report: PointsReport,
    row: int,
    save: SavePoints | None = None,
) -> None:
    problems = [p for p in (row_shape_error(cells),) if p]
    sop = cells.get("sop_instance_uid", "")
    film = study.film_by_sop(sop) if sop else None
    if film is None:
        problems.append(f"no film with SOP Instance UID {sop!r} in this study")
    template = cells.get("template", "").upper()
    if template not in {t.value for t in Template}:
        problems.append(f"template {cells.get('template', '')!r} must be C2-C7, L1-S1 or FREE")
    xy = [number(cells, c, problems) for c in POINT_COORDINATES]
    geometry, facings = state
    geo = _geometry(study, film, geometry) if film is not None else None
    if isinstance(geo, str):
        problems.append(geo)
    elif geo is not None:
        problems += _outside(geo, xy)
    if problems or film is None or not isinstance(geo, _FilmGeometry):
        raise ValidationError(None, "; ".join(problems))
    m = _measurement(
        film, Template(template), xy, geo, cells=cells, default_rater=study.actor.rater
    )
    facing, source = film_facing(film, facings.headers)
    m, notes = checked_measurement(film, m, facing, source)
    if facing is None:  # the labels must at least agree with the film's other measurements
        facings.check(film, m, study.measurements(film.id), row)
    report.warnings.extend(RowIssue(row, note) for note in notes)
    if save is not None:
        if not save(film, m):
            report.unchanged += 1
            return
    elif _already_saved(study, film.id, m):
        report.unchanged += 1
        return
    else:
        study.save_measurement(film.id, m, reason=reason)
    report.imported += 1
    report.measurements.append({"row": row, "film_id": film.id, "id": m.id, "angle": m.angle})


def _measurement(
    film: FilmRecord,
    template: Template,
    xy: list[float],
    geo: _FilmGeometry,
    *,
    cells: dict[str, str],
    default_rater: str,
) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid=film.sop_instance_uid,
        pixel_sha256=film.pixel_sha256 or "",
        template=template,
        upper=EndplateLine((xy[0], xy[1]), (xy[2], xy[3])),
        lower=EndplateLine((xy[4], xy[5]), (xy[6], xy[7])),
        spacing=geo.spacing,
        spacing_source=geo.source,
        pixel_aspect=geo.pixel_aspect if geo.spacing is None else None,
        rater=cells.get("rater", "") or default_rater,
        id=cells.get("id") or new_id(),
    )


def _geometry(
    study: Study, film: FilmRecord, cache: dict[str, _FilmGeometry | str]
) -> _FilmGeometry | str:
    """The film's spacing and size from its header (read once per film), or why not; a user
    calibration stored in the study replaces the header's spacing."""
    if film.path not in cache:
        geo = _read_geometry(Path(film.path))
        calibration = study.film_calibration(film.id)
        if isinstance(geo, _FilmGeometry) and calibration is not None:
            geo = _FilmGeometry(calibration.spacing_mm, SpacingSource.USER, geo.rows, geo.columns)
        cache[film.path] = geo
    return cache[film.path]


def _read_geometry(path: Path) -> _FilmGeometry | str:
    import pydicom

    if not path.is_file():
        return f"the film file {path} is missing, so its pixel spacing cannot be read"
    try:
        if image_format(path) is not None:  # a photo/scan: no header, uncalibrated
            film = read_photo(path)
            return _FilmGeometry(None, SpacingSource.NONE, film.rows, film.columns)
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        spacing = spacing_of(ds)
        rows, columns = int(ds.Rows), int(ds.Columns)
        return _FilmGeometry(
            spacing.spacing_mm, spacing.source, rows, columns, spacing.pixel_aspect
        )
    except Exception as exc:  # any header failure rejects the row, never the import
        return f"the header of film file {path.name} cannot be read: {exc}"


def _outside(geo: _FilmGeometry, xy: list[float]) -> list[str]:
    """Points outside the image (pixel centres run from 0 to size - 1; edges at ±0.5)."""
    problems = []
    for name, value, size in zip(POINT_COORDINATES, xy, [geo.columns, geo.rows] * 4, strict=True):
        if math.isfinite(value) and not -0.5 <= value <= size - 0.5:
            axis = "columns" if name.endswith("_x") else "rows"
            problems.append(f"{name} = {value:g} is outside the image ({size} {axis})")
    return problems


def _already_saved(study: Study, film_id: int, m: CobbMeasurement) -> bool:
    """An identical measurement (rater, template, points) is already saved for the film."""
    for saved in study.measurements(film_id):
        if saved.id == m.id:
            return saved.upper == m.upper and saved.lower == m.lower
        same = (saved.rater, saved.template, saved.upper, saved.lower)
        if same == (m.rater, m.template, m.upper, m.lower):
            return True
    return False
