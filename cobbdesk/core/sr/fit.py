"""Whether a CobbDesk SR's measurement fits the study film it names: its pixel geometry.

The SR states the spacing, spacing source and Pixel Aspect Ratio its angle was computed with
(CobbDesk's record).  They are held against the film's *file* exactly as a measurement saved
on the film would be when the file is opened or relinked — the one rule of
:mod:`cobbdesk.core.importing.relink` (:func:`~cobbdesk.core.importing.relink.
geometry_mismatch` of the record taken as a saved measurement,
:func:`~cobbdesk.core.importing.relink.from_saved`):

* a spacing read from a file must be the file's spacing (values within ``relink.REL_TOL``);
* a measurement in pixels must have the file's pixel shape (its spacing's ratio, else its
  Pixel Aspect Ratio, else square; PS3.3 10.7.1.3, C.7.6.3.1.7), so a square film measured
  in pixels whose file has a square spacing fits (the same degrees);
* a user calibration keeps the pixel shape of the film it was made on
  (:func:`~cobbdesk.core.store.calibration.calibration_spacing`), so its spacing's ratio is
  held against the file's shape as a measurement in pixels is.

The file's own geometry is used even when the study has a user calibration in force (which
hides the file's spacing); the measurement stored takes the study's geometry (the
calibration in force, else the file's).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.errors import ValidationError
from cobbdesk.core.importing.film_check import FilmGeometry, film_geometry, study_film_geometry
from cobbdesk.core.importing.films import study_film_path
from cobbdesk.core.importing.relink import from_saved, geometry_mismatch
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.store.calibration import film_shape
from cobbdesk.core.store.geometry_checks import same_shape
from cobbdesk.core.store.records import FilmRecord
from cobbdesk.core.store.study import Study

Pair = tuple[float, float]
_SQUARE: Pair = (1.0, 1.0)


def film_name(film: FilmRecord) -> str:
    """Film ``#id (SOP Instance UID …)``: never a patient identifier."""
    return f"film #{film.id} (SOP Instance UID {film.sop_instance_uid})"


@dataclass(frozen=True)
class Geometries:
    """A film's geometry as a measurement stores it (``stored``: a user calibration in force
    replaces the file's spacing) and its file's own (``file``)."""

    stored: FilmGeometry
    file: FilmGeometry


@dataclass
class GeometryCache:
    """Each film's file read once per import (stored path -> geometry or why not)."""

    stored: dict[str, FilmGeometry | str] = field(default_factory=dict)
    files: dict[str, FilmGeometry | str] = field(default_factory=dict)

    def of(self, study: Study, film: FilmRecord) -> Geometries:
        """The :class:`Geometries` of ``film``, its file established to be the film
        (:func:`~cobbdesk.core.importing.film_check.study_film_geometry`).  Raises
        ValidationError naming the film when the file is missing or another film."""
        stored = study_film_geometry(study, film, self.stored)
        if isinstance(stored, str):
            raise ValidationError(None, f"{film_name(film)}: {stored}")
        if stored.source is not SpacingSource.USER:
            return Geometries(stored, stored)
        if film.path not in self.files:  # a calibration in force hides the file's spacing
            self.files[film.path] = film_geometry(study, film, study_film_path(study, film.path))
        own = self.files[film.path]
        if isinstance(own, str):
            raise ValidationError(None, f"{film_name(film)}: {own}")
        return Geometries(stored, own)


@dataclass(frozen=True)
class _FileFields:
    """The film file's geometry as :class:`~cobbdesk.core.importing.relink.FilmFields` (only
    the geometry is compared: the file's identity was established when it was read)."""

    sop_instance_uid: str
    rows: int | None
    columns: int | None
    pixel_aspect: Pair | None
    spacing_mm: Pair | None
    spacing_source: str
    patient_orientation: tuple[str, str] | None = None
    study_date: str = ""
    view_position: str = ""


def _as_saved(m: CobbMeasurement) -> CobbMeasurement:
    """``m`` as relink compares a saved measurement: one on a user calibration counts as one
    in pixels of the calibration's shape (module docstring)."""
    if m.spacing_source is SpacingSource.USER and m.spacing is not None:
        return replace(m, spacing=None, spacing_source=SpacingSource.NONE, pixel_aspect=m.spacing)
    return m


def _text(spacing: Pair | None, aspect: Pair | None, source: SpacingSource) -> str:
    if spacing is not None:
        return f"pixel spacing {spacing[0]:g} × {spacing[1]:g} mm (row × column) ({source.value})"
    shape = aspect or (1.0, 1.0)
    return f"no pixel spacing (Pixel Aspect Ratio {shape[0]:g}:{shape[1]:g})"


def _refusal(film: FilmRecord, m: CobbMeasurement, own: FilmGeometry, shape: Pair) -> str:
    """Why ``m`` does not fit the film's file, in the words of its case: another pixel shape
    gives other degrees for the same points; the same shape with another spacing gives the
    same degrees, but the SR was computed on another calibration — another file."""
    used = _text(m.spacing, m.pixel_aspect, m.spacing_source)
    has = _text(own.spacing, own.pixel_aspect, own.source)
    mine = m.angle_spacing or _SQUARE  # the shape the SR's angle was computed with
    if same_shape(mine[0] / mine[1], shape[0] / shape[1]):
        why = ("the same pixel shape (so the same degrees) but another calibration: the SR "
               "was computed on another file than the study's film")  # fmt: skip
    else:
        why = (f"another pixel shape ({mine[0] / mine[1]:g}:1 against {shape[0] / shape[1]:g}:1, "
               "vertical:horizontal), so the same points would give other degrees")  # fmt: skip
    return (
        f"{film_name(film)}: the SR used {used}; the film has {has}: {why}; the Cobb angle "
        "was refused"
    )


def fitted(m: CobbMeasurement, film: FilmRecord, geos: Geometries) -> CobbMeasurement:
    """``m`` (CobbDesk's record) with the film's stored spacing, source and pixel aspect, once
    the geometry it was computed with fits the film's file (module rules).  The angle is a
    property recomputed from the points.  Raises ValidationError naming the film and both
    geometries when it does not fit."""
    own = geos.file
    fields = _FileFields(film.sop_instance_uid, own.rows, own.columns, own.pixel_aspect,
                         own.spacing, own.source.value)  # fmt: skip
    if geometry_mismatch(from_saved(film, [_as_saved(m)]), fields) is not None:
        raise ValidationError(None, _refusal(film, m, own, film_shape(fields) or _SQUARE))
    stored = geos.stored
    aspect = stored.pixel_aspect if stored.spacing is None else None
    return replace(m, spacing=stored.spacing, spacing_source=stored.source, pixel_aspect=aspect)


__all__ = ["Geometries", "GeometryCache", "film_name", "fitted"]
