"""Reading a study film's file for the command line, its identity established first.

Every command that attaches measurements, angles or a calibration to a study film from its
file (``cobbdesk measure`` with or without ``--plan``, ``cobbdesk calibrate``, ``cobbdesk
film --calibrate``) reads it through :func:`checked_film_file`, which applies the one rule of
:mod:`cobbdesk.core.importing.relink`:

* a film the study holds a pixel hash of (opened once in the window; photos and scans from
  their import) is decoded with the project's reader (:func:`~cobbdesk.core.dicom.reader.
  read_film`) and must have the same pixels, Pixel Aspect Ratio (0028,0034) and the pixel
  spacing its saved measurements used (:func:`~cobbdesk.core.importing.relink.mismatch`);
* a DICOM film never opened is checked from its header, read by the import's own reader
  (:func:`~cobbdesk.core.importing.scan.read_header`, so the same fields are read the same
  way as when the study recorded them): SOP Instance UID, Rows × Columns, Pixel Aspect
  Ratio (absent = 1:1, PS3.3 C.7.6.3.1.7), facing from Patient Orientation, Study Date,
  View Position and the spacing values of its saved measurements
  (:func:`~cobbdesk.core.importing.relink.header_mismatch`).

A file that is not the film is refused with one line naming the file and the field, the
value found and the one recorded.  A hashed film imported before CobbDesk read Pixel Aspect
Ratio gets its file's recorded here (:mod:`~cobbdesk.core.store.film_aspect`).
:func:`film_geometry` adds what ``measure`` needs of the film (spacing, size, pixel aspect) to
that check, and :func:`study_film_geometry` finds the
file of a study film and puts a user calibration in force in place of its spacing
(``measure`` and the SR import).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cobbdesk.core.dicom.film import Film, SpacingSource
from cobbdesk.core.dicom.photo import image_format
from cobbdesk.core.errors import CobbdeskError, DicomHeaderError, ValidationError
from cobbdesk.core.importing.films import study_film_path
from cobbdesk.core.importing.relink import (
    FilmFields,
    Recorded,
    header_mismatch,
    mismatch,
    recorded,
)
from cobbdesk.core.importing.scan import HeaderInfo, read_header
from cobbdesk.core.store.film_aspect import record_file_aspect
from cobbdesk.core.store.records import FilmRecord
from cobbdesk.core.store.study import Study


@dataclass(frozen=True)
class FilmGeometry:
    """What a measurement needs of a film: ``spacing`` (row_mm, col_mm) or None and its
    source, the size in pixels, and the Pixel Aspect Ratio ``(vertical, horizontal)`` of a
    film without spacing whose pixels are not square (None: square)."""

    spacing: tuple[float, float] | None
    source: SpacingSource
    rows: int
    columns: int
    pixel_aspect: tuple[float, float] | None = None


def checked_film_file(
    study: Study, record: FilmRecord, path: Path, expected: Recorded | None = None
) -> Film | HeaderInfo:
    """The decoded film (a hashed film or a photo) or the header (a DICOM film never opened)
    of ``path``, once it is established to be the film ``record`` of ``study`` (module rules).

    ``expected`` is what the study recorded (read with :func:`recorded` when None).  Raises
    :class:`~cobbdesk.core.errors.ValidationError` (one line naming the file and the field)
    when the file is another film, and a :class:`~cobbdesk.core.errors.FilmError` (the
    reader's, or :class:`~cobbdesk.core.errors.DicomHeaderError`) when it cannot be read."""
    from cobbdesk.core.dicom.reader import read_film

    want = expected if expected is not None else recorded(study, record)
    found: Film | HeaderInfo
    if record.pixel_sha256 is not None or image_format(path) is not None:
        film = read_film(path)
        problem, found = mismatch(want, film), film
    else:
        header = read_header(path)
        if isinstance(header, tuple):
            raise DicomHeaderError(path, header[1].message)
        problem, found = header_mismatch(want, header), header
    if problem is not None:
        raise ValidationError(
            None,
            f"film file {path.name} is not film #{record.id} as the study recorded it "
            f"({problem}); relink it in the study window",
        )
    if not want.aspect_known and isinstance(found, Film) and not study.read_only:
        record_file_aspect(study, record.id, found.pixel_aspect)  # never read at its import
    return found


def film_geometry(study: Study, record: FilmRecord, path: Path) -> FilmGeometry | str:
    """The :class:`FilmGeometry` of study film ``record`` read from ``path`` once the file is
    established to be that film (:func:`checked_film_file`), or why not (one line naming the
    file).  Never raises for the file: a row is refused, never the whole import."""
    if not path.is_file():
        return f"the film file {path} is missing, so its pixel spacing cannot be read"
    try:
        fields: FilmFields = checked_film_file(study, record, path)
    except ValidationError as exc:
        return exc.problem if exc.path is None else str(exc)
    except CobbdeskError as exc:
        return f"film file {path.name} cannot be read: {exc.problem}"
    except Exception as exc:  # any reader failure rejects the row, never the import
        return f"the header of film file {path.name} cannot be read: {exc}"
    rows, columns = fields.rows or 0, fields.columns or 0
    return FilmGeometry(fields.spacing_mm, SpacingSource(str(fields.spacing_source)), rows,
                        columns, fields.pixel_aspect)  # fmt: skip


def study_film_geometry(
    study: Study, record: FilmRecord, cache: dict[str, FilmGeometry | str]
) -> FilmGeometry | str:
    """The :class:`FilmGeometry` of study film ``record`` from its file, found as the study
    finds it (:func:`~cobbdesk.core.importing.films.study_film_path`: an older study's
    relative path from the study file's folder) and established to be that film
    (:func:`film_geometry`), or why not (one line).  A user calibration in force replaces the
    file's spacing (source ``"user calibration"``; the size stays the file's).  Read once per
    stored path: ``cache`` (stored path -> result) is filled and reused.  Never raises for the
    file; raises the store's errors."""
    if record.path not in cache:
        geo = film_geometry(study, record, study_film_path(study, record.path))
        calibration = study.film_calibration(record.id)
        if isinstance(geo, FilmGeometry) and calibration is not None:
            geo = FilmGeometry(calibration.spacing_mm, SpacingSource.USER, geo.rows, geo.columns)
        cache[record.path] = geo
    return cache[record.path]


__all__ = ["FilmGeometry", "checked_film_file", "film_geometry", "study_film_geometry"]
