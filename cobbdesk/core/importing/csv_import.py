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
that film, which wins; the film file must be reachable and must be the film the study
recorded (:mod:`cobbdesk.core.importing.film_check`: its pixel hash when the study holds
one — photos and scans, films opened once — else its header fields; a replaced file refuses
its rows, naming the file and the field); an angle or spacing column in the file is ignored
with a note.  An identical measurement already saved is skipped; an ``id`` column naming a
saved measurement replaces it, which needs ``reason``.  The anterior/posterior labels are
checked against the film's facing and the line pair against the measurement guards
(:mod:`cobbdesk.core.importing.point_checks`): contradicting labels are swapped with a
warning, impossible pairs (short, coincident, crossing, ≥ 90°) refuse the row.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.importing.csv_table import (
    POINT_COLUMNS,
    POINT_COORDINATES,
    POINT_IGNORED,
    POINT_OPTIONAL,
    LabsReport,
    PointsReport,
    RowIssue,
    check_columns,
    number,
    read_table,
    row_shape_error,
)
from cobbdesk.core.importing.csv_text import normalise_numbers
from cobbdesk.core.importing.film_check import FilmGeometry, study_film_geometry
from cobbdesk.core.importing.films import study_film_path
from cobbdesk.core.importing.labs_csv import import_labs as run_labs_import
from cobbdesk.core.importing.point_checks import (
    ImpliedFacings,
    checked_measurement,
    film_facing,
    outside_image,
    region_warning,
)
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template, new_id
from cobbdesk.core.store.faults import STUDY_FAULTS, stopped
from cobbdesk.core.store.records import FilmRecord
from cobbdesk.core.store.study import Study


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
    return run_labs_import(study, csv_path, reason=reason, progress=progress)


# --- points -----------------------------------------------------------------------------
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
    geometry: dict[str, FilmGeometry | str] = {}
    facings = ImpliedFacings()
    for row, cells in table.rows:
        try:
            if row in numbers.problems:
                raise ValidationError(None, "; ".join(numbers.problems[row]))
            _import_point_row(
                study, cells, (geometry, facings), reason=reason, report=report, row=row,
                save=save,
            )  # fmt: skip
        except STUDY_FAULTS as exc:  # locked, server gone...: every later row would meet it
            raise stopped(exc, report.imported) from exc
        except CobbdeskError as exc:
            report.errors.append(RowIssue(row, exc.problem))
    return report


def _import_point_row(
    study: Study,
    cells: dict[str, str],
    state: tuple[dict[str, FilmGeometry | str], ImpliedFacings],
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
    geo = study_film_geometry(study, film, geometry) if film is not None else None
    if isinstance(geo, str):
        problems.append(geo)
    elif geo is not None:
        problems += outside_image(geo.columns, geo.rows, zip(POINT_COORDINATES, xy, strict=True))
    if problems or film is None or not isinstance(geo, FilmGeometry):
        raise ValidationError(None, "; ".join(problems))
    m = _measurement(
        film, Template(template), xy, geo, cells=cells, default_rater=study.actor.rater
    )
    facing, source = film_facing(film, study_film_path(study, film.path), facings.headers)
    m, notes = checked_measurement(film, m, facing, source)
    mismatch = region_warning(film, m.template)
    notes += [mismatch] if mismatch else []
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
    geo: FilmGeometry,
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


def _already_saved(study: Study, film_id: int, m: CobbMeasurement) -> bool:
    """An identical measurement (rater, template, points) is already saved for the film."""
    for saved in study.measurements(film_id):
        if saved.id == m.id:
            return saved.upper == m.upper and saved.lower == m.lower
        same = (saved.rater, saved.template, saved.upper, saved.lower)
        if same == (m.rater, m.template, m.upper, m.lower):
            return True
    return False


__all__ = [
    "LabsReport",
    "PointsReport",
    "RowIssue",
    "import_labs",
    "import_points",
    "read_table",
]
