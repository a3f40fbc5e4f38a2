"""Whether a file is the study film it claims to be (relinking, opening, measuring).

The one rule for every path that attaches measurements or angles to a study film from its
file (relinking, first and later opening in the window, the compare view, the reading
window, ``cobbdesk measure``, ``cobbdesk calibrate``):

* A film hashed when first opened (photos: at import) is matched by its decoded pixels
  (SHA-256).  The hash covers the size and the stored values, not the header fields that
  change degrees, so the file must also agree with the recorded Pixel Aspect Ratio and with
  the pixel spacing its saved measurements used (below).
* A film imported from its header and never opened has no hash: a file with the same SOP
  Instance UID is then accepted only when it also agrees with everything the study recorded
  of the film — the image size (Rows/Columns, PS3.3 C.7.6.3), the Pixel Aspect Ratio
  (0028,0034; recorded at import, absent meaning 1:1 as in PS3.3 C.7.6.3.1.7), the facing
  read from Patient Orientation (0020,0020), the study date and View Position — and with the
  pixel spacing each saved measurement was computed with (the angle of a film with
  non-square pixels depends on it: the same points on a 0.2×0.1 mm film and a 0.1×0.2 mm
  one give different degrees; on a 1:2 film and a 1:1 one too).

The spacing values are compared, not which element gave them (the refusal names both); a
measurement on a user calibration recorded nothing of the file, and one in pixels ("none")
only the pixel shape it was computed with (its Pixel Aspect Ratio, else square): the file
must give the same shape (its spacing's ratio, else its aspect), so a square film measured
in pixels may gain a square spacing (same degrees) but not a 0.1 × 0.2 mm one.  A
film calibrated by the user in memory (source "user calibration") no longer shows its
file's spacing or aspect: those two are not compared (its file was checked when it was
first attached).  Photometric Interpretation and bit depth are not recorded by the study,
so they cannot be compared.  The films table keeps no pixel spacing: a film without
measurements is matched on the other fields only (nothing computed from its spacing is
stored).

:func:`recorded` reads what a study holds (one read, any thread; :func:`from_saved` builds it
from a record and measurements already read); :func:`mismatch` says why a decoded film is
not it and :func:`header_mismatch` why a header is not it (one line naming the field, the
value found and the one recorded).  Relinking uses them (:func:`find_relinked`), and so does
opening a study film (:mod:`cobbdesk.core.importing.film_check` for the command line).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from cobbdesk.core.dicom.film import Film, SpacingSource
from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.importing.scan import Cancel, Progress
from cobbdesk.core.measure.facing import facing_from_orientation
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.pixel_shape import REL_TOL
from cobbdesk.core.store import FilmRecord, Study, film_aspect
from cobbdesk.core.store.calibration import film_shape
from cobbdesk.core.store.records import iso_date
from cobbdesk.core.store.schema import films, measurements, readings

Pair = tuple[float, float]
_SQUARE: Pair = (1.0, 1.0)
_NOT_FROM_FILE = (SpacingSource.USER.value, SpacingSource.NONE.value)
"""Spacing sources of a measurement that say nothing of the file: a user calibration, and
"none" (measured in pixels: nothing was recorded to compare)."""


class FilmFields(Protocol):
    """What :func:`header_mismatch` compares: a decoded
    :class:`~cobbdesk.core.dicom.film.Film` or a header read at import
    (:class:`~cobbdesk.core.importing.scan.HeaderInfo`) has them all."""

    @property
    def sop_instance_uid(self) -> str: ...
    @property
    def rows(self) -> int | None: ...
    @property
    def columns(self) -> int | None: ...
    @property
    def pixel_aspect(self) -> tuple[float, float] | None: ...
    @property
    def spacing_mm(self) -> tuple[float, float] | None: ...
    @property
    def spacing_source(self) -> str: ...
    @property
    def patient_orientation(self) -> tuple[str, str] | None: ...
    @property
    def study_date(self) -> str: ...
    @property
    def view_position(self) -> str: ...


@dataclass(frozen=True)
class Recorded:
    """What a study recorded of one film, for :func:`mismatch`.

    ``pixel_aspect`` is (row, column) as in (0028,0034) (None: square or not recorded);
    ``spacings`` the distinct (spacing (row, col) in mm or None, source value) of its saved
    measurements (and readings), user calibrations left out (they do not come from the
    file); ``shapes`` the distinct pixel shapes (vertical, horizontal) its measurements in
    pixels ("none") were computed with (their Pixel Aspect Ratio, else 1:1)."""

    record: FilmRecord
    pixel_aspect: Pair | None = None
    spacings: tuple[tuple[Pair | None, str], ...] = ()
    shapes: tuple[Pair, ...] = ()
    aspect_known: bool = True
    """False: the pixel aspect was never read, so it is not compared — a hashed film
    imported before CobbDesk read it, nothing stored depending on it, whose file's aspect is
    then recorded (:mod:`~cobbdesk.core.store.film_aspect`), or a :class:`Recorded` built by
    hand."""


def recorded(study: Study, record: FilmRecord) -> Recorded:
    """The :class:`Recorded` of ``record`` (three reads of the study: the film's aspect, its
    measurements' and its reading-plan readings' spacings; any thread, no baseline of the
    conflict check is touched).  Raises the store's errors."""
    with study.engine.connect() as conn:
        row = conn.execute(
            select(films.c.pixel_aspect_row, films.c.pixel_aspect_col).where(
                films.c.id == record.id
            )
        ).first()
        rows = [  # clinical measurements and reading-plan readings alike
            r for table in (measurements, readings) for r in conn.execute(
                select(table.c.spacing_row_mm, table.c.spacing_col_mm, table.c.spacing_source,
                       table.c.pixel_aspect_row, table.c.pixel_aspect_col)
                .where(table.c.film_id == record.id, table.c.deleted_utc.is_(None))
            )
        ]  # fmt: skip
        unread = record.pixel_sha256 is not None and film_aspect.aspect_unrecorded(
            study, conn, record.id
        )  # imported before the aspect was read: the hashed file's is taken (film_aspect)
    aspect = _pair(row[0], row[1]) if row is not None else None
    found: dict[tuple[Pair | None, str], None] = {}
    for r in rows:
        if r.spacing_source not in _NOT_FROM_FILE:
            found[(_pair(r.spacing_row_mm, r.spacing_col_mm), str(r.spacing_source))] = None
    shapes = {_pair(r.pixel_aspect_row, r.pixel_aspect_col) or _SQUARE: None for r in rows
              if r.spacing_source == SpacingSource.NONE.value}  # fmt: skip
    return Recorded(record, aspect, tuple(found), tuple(shapes), aspect_known=not unread)


def from_saved(
    record: FilmRecord, saved: Iterable[CobbMeasurement], *, aspect_unrecorded: bool = False
) -> Recorded:
    """The :class:`Recorded` of ``record`` from its already-read measurements ``saved`` (no
    study read: the GUI checks a film opened from the study on the UI thread with what its
    reads worker brought); the pixel aspect is the one the record carries (read with it from
    the films table).  ``aspect_unrecorded``: the reads worker found the aspect never read
    (:func:`~cobbdesk.core.store.film_aspect.aspect_unrecorded`): a hashed film's file gives it."""
    kept = list(saved)
    found = {(m.spacing, m.spacing_source.value): None for m in kept
             if m.spacing_source.value not in _NOT_FROM_FILE}  # fmt: skip
    shapes = {m.pixel_aspect or _SQUARE: None for m in kept
              if m.spacing_source is SpacingSource.NONE}  # fmt: skip
    unread = aspect_unrecorded and record.pixel_sha256 is not None
    return Recorded(record, record.pixel_aspect, tuple(found), tuple(shapes),
                    aspect_known=not unread)  # fmt: skip


def mismatch(expected: Recorded, film: Film) -> str | None:
    """Why ``film`` (decoded from a candidate file) is not the study's film, or None.

    With a stored pixel hash the pixels must be identical and the fields that change degrees
    (Pixel Aspect Ratio, the spacing of saved measurements) agree; without one, the SOP
    Instance UID and every recorded header field (see the module docstring) must agree."""
    if expected.record.pixel_sha256 is None:
        return header_mismatch(expected, film)
    if film.pixel_sha256 != expected.record.pixel_sha256:
        return "other pixels than the film the study holds (pixel hash differs)"
    return _first(expected, film, (_aspect, _spacing, _shape))


def header_mismatch(expected: Recorded, fields: FilmFields) -> str | None:
    """Why a file whose header gave ``fields`` is not the study's film, or None: the SOP
    Instance UID and every recorded field (module docstring).  The pixel hash is not looked
    at: a film the study holds a hash of must also pass :func:`mismatch` on its decoded
    pixels."""
    if fields.sop_instance_uid != expected.record.sop_instance_uid:
        return "another SOP Instance UID"
    return _first(expected, fields,
                  (_size, _aspect, _spacing, _shape, _facing, _date_and_view))  # fmt: skip


def geometry_mismatch(expected: Recorded, fields: FilmFields) -> str | None:
    """Why measurements computed with ``expected``'s spacings and pixel shapes would not fit
    the pixel geometry of ``fields``, or None: the spacing and shape checks of
    :func:`header_mismatch` alone (the SR import asks it of an SR's measurement and the film's
    file, whose identity :func:`header_mismatch` / :func:`mismatch` established)."""
    return _first(expected, fields, (_spacing, _shape))


Check = Callable[[Recorded, FilmFields], str | None]


def _first(expected: Recorded, fields: FilmFields, checks: Iterable[Check]) -> str | None:
    for check in checks:
        problem = check(expected, fields)
        if problem is not None:
            return problem
    return None


def _pair(row: Any, col: Any) -> Pair | None:
    return (float(row), float(col)) if row and col else None


def _close(a: Pair | None, b: Pair | None) -> bool:
    if a is None or b is None:
        return a is b
    return all(math.isclose(x, y, rel_tol=REL_TOL) for x, y in zip(a, b, strict=True))


def _mm(pair: Pair | None) -> str:
    return "none" if pair is None else f"{pair[0]:g} × {pair[1]:g} mm (row × column)"


def _size(expected: Recorded, film: FilmFields) -> str | None:
    record = expected.record
    if record.pixel_rows is None or record.pixel_columns is None:
        return None
    if (film.rows, film.columns) == (record.pixel_rows, record.pixel_columns):
        return None
    return (f"Rows × Columns (0028,0010/0011) is {film.rows} × {film.columns}, the study "
            f"recorded {record.pixel_rows} × {record.pixel_columns}")  # fmt: skip


def _calibrated(film: FilmFields) -> bool:
    """A user calibration applied in memory hides the file's spacing and aspect."""
    return str(film.spacing_source) == SpacingSource.USER.value


def _aspect(expected: Recorded, film: FilmFields) -> str | None:
    if not expected.aspect_known or _calibrated(film):
        return None
    want = expected.pixel_aspect or (1.0, 1.0)  # absent: square pixels (PS3.3 C.7.6.3.1.7)
    found = film.pixel_aspect or (1.0, 1.0)
    if math.isclose(want[0] / want[1], found[0] / found[1], rel_tol=REL_TOL):
        return None
    spacing = film.spacing_mm
    if spacing is not None and film.pixel_aspect is None:  # spacing_of reads no aspect
        # beside a spacing (its ratio is the pixel shape): what differs is the spacing
        element = spacing_element(str(film.spacing_source))
        return (f"the file has {element} {_mm(spacing)}, a pixel shape of "
                f"{spacing[0] / spacing[1]:g}:1 (vertical:horizontal); the study recorded a "
                "film without pixel spacing, Pixel Aspect Ratio "
                f"{want[0]:g}:{want[1]:g}")  # fmt: skip
    return (f"Pixel Aspect Ratio (0028,0034) is {found[0]:g}:{found[1]:g}, the study recorded "
            f"{want[0]:g}:{want[1]:g}")  # fmt: skip


SPACING_ELEMENTS = {
    SpacingSource.PIXEL_SPACING.value: "Pixel Spacing (0028,0030)",
    SpacingSource.IMAGER.value: "Imager Pixel Spacing (0018,1164)",
    SpacingSource.IMAGER_ERMF.value: "Imager Pixel Spacing (0018,1164) / Estimated "
    "Radiographic Magnification Factor (0018,1114)",
    SpacingSource.NOMINAL_SCANNED.value: "Nominal Scanned Pixel Spacing (0018,2010)",
}
"""The element(s) each spacing source is read from, by their names and tags in the data
dictionary (PS3.6; modules PS3.3 C.7.6.3 / C.8.11.7 / C.8.6.2)."""


def spacing_element(source: str) -> str:
    """The element(s) a spacing of ``source`` (a
    :class:`~cobbdesk.core.dicom.film.SpacingSource` value) was read from, for refusals and
    reports; another source is named by its value."""
    return SPACING_ELEMENTS.get(source, source)


def _spacing(expected: Recorded, film: FilmFields) -> str | None:
    """The spacing values decide (the angle depends on them, not on which element gave
    them); both sources are named in the refusal."""
    if _calibrated(film):
        return None
    source = str(film.spacing_source)
    for spacing, recorded_source in expected.spacings:
        if not _close(spacing, film.spacing_mm):
            return (f"pixel spacing ({source}) is {_mm(film.spacing_mm)}, the saved "
                    f"measurements used {_mm(spacing)} ({recorded_source})")  # fmt: skip
    return None


def _shape(expected: Recorded, film: FilmFields) -> str | None:
    """Measurements in pixels were computed with a pixel shape (their aspect, else square):
    the file must give the same one — its spacing's ratio, else its Pixel Aspect Ratio — or
    the same points would give other degrees (a square film measured in pixels whose file
    now has a 0.1 × 0.2 mm spacing)."""
    if _calibrated(film):
        return None
    found = film_shape(film) or _SQUARE
    for want in expected.shapes:
        if not math.isclose(want[0] / want[1], found[0] / found[1], rel_tol=REL_TOL):
            where = (f"pixel spacing ({film.spacing_source})" if film.spacing_mm is not None
                     else "Pixel Aspect Ratio (0028,0034)")  # fmt: skip
            return (f"the pixel shape from the {where} is {found[0]:g}:{found[1]:g} "
                    f"(vertical:horizontal), the saved measurements in pixels used "
                    f"{want[0]:g}:{want[1]:g}")  # fmt: skip
    return None


def _facing(expected: Recorded, film: FilmFields) -> str | None:
    record = expected.record
    if record.facing_source != "dicom":
        return None
    found = facing_from_orientation(film.patient_orientation)
    if found is not None and found.value == record.facing:
        return None
    shown = "absent" if found is None else f"facing {found.value}"
    return f"Patient Orientation (0020,0020) gives {shown}, the study recorded {record.facing}"


def _date_and_view(expected: Recorded, film: FilmFields) -> str | None:
    record = expected.record
    if record.study_date:
        try:
            found = iso_date(film.study_date, "study date")
        except ValidationError:
            found = None
        if found != record.study_date:
            return (f"Study Date (0008,0020) is {found or 'absent'}, the study recorded "
                    f"{record.study_date}")  # fmt: skip
    if record.view and film.view_position[:16] != record.view:
        return (f"View Position (0018,5101) is {film.view_position or 'absent'}, the study "
                f"recorded {record.view}")  # fmt: skip
    return None


@dataclass
class Search:
    """The outcome of :func:`find_relinked`: the file found (None: none), and why each file
    with the film's SOP Instance UID was refused (file, one line)."""

    found: Path | None = None
    refused: list[tuple[Path, str]] = field(default_factory=list)

    def why_not(self) -> str:
        """One line for the user: the first refusal of a file claiming to be the film."""
        if not self.refused:
            return ""
        path, problem = self.refused[0]
        more = f" (and {len(self.refused) - 1} more file(s))" if len(self.refused) > 1 else ""
        return f"{path.name}: {problem}{more}"


def find_relinked(
    paths: list[Path],
    expected: Recorded,
    read: Callable[[Path], Film],
    progress: Progress,
    cancel: Cancel,
) -> Search:
    """The first of ``paths`` that is the film (:func:`mismatch` finds nothing), and the
    refused files that carried its SOP Instance UID.  ``read`` decodes one file (the GUI
    passes its crash-isolated reader); a file that cannot be read is passed over."""
    search = Search()
    for done, path in enumerate(paths, 1):
        if cancel():
            return search
        try:
            film = read(path)
        except CobbdeskError:
            film = None
        if film is not None:
            problem = mismatch(expected, film)
            if problem is None:
                search.found = path
                return search
            if film.sop_instance_uid == expected.record.sop_instance_uid:
                search.refused.append((path, problem))
        progress(done, len(paths))
    return search
