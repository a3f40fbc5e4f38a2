"""The film's facing and the measurement guards, applied to imported endplate points.

An imported row gives each line's corners labelled anterior/posterior.  A label slip silently
flips the sign of the angle, so :func:`checked_measurement` decides the anterior end from the
film's facing (:mod:`cobbdesk.core.measure.facing`) instead:

* facing set by the user or read from the DICOM header (``films.facing``), or, when the study
  has none, implied by the header's Patient Orientation (0020,0020): corners that contradict
  it are swapped, with a warning naming the line — the opposite sign is never stored;
* facing only *estimated* from the image: a guess must not rewrite a rater's labels, so a row
  that contradicts it is refused (confirm the facing, then import again); agreeing rows pass;
* facing unknown: the labels are taken as given, with a warning that they were not checked
  (a line whose labels disagree with the other line's is still refused by the ≥ 90° guard).

Then :func:`cobbdesk.core.measure.guards.check_measurement` refuses short, coincident,
crossing and ≥ 90° line pairs.  Refusals are :class:`ValidationError` naming the film by its
study id (never a patient identifier).
"""

from __future__ import annotations

from pathlib import Path

from cobbdesk.core.errors import GeometryError, ValidationError
from cobbdesk.core.measure.facing import (
    Facing,
    FacingSource,
    facing_from_orientation,
    orient_measurement,
)
from cobbdesk.core.measure.guards import GuardError, check_measurement
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.store.records import FilmRecord

__all__ = ["checked_measurement", "film_facing"]


def _header_facing(path: Path) -> Facing | None:
    """The facing implied by the file's Patient Orientation, or None (absent, unreadable)."""
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["PatientOrientation"])
        value = ds.get("PatientOrientation")
    except Exception:  # a photo, a damaged header: the facing is just unknown
        return None
    if value is None or isinstance(value, str) or len(value) < 2:
        return None
    return facing_from_orientation((str(value[0]), str(value[1])))


def film_facing(
    film: FilmRecord, cache: dict[int, tuple[Facing | None, str]] | None = None
) -> tuple[Facing | None, str]:
    """``(facing, source)`` of ``film``: the study's stored facing and its source
    (``"user"``/``"dicom"``/``"estimate"``), else the header's Patient Orientation
    (``"dicom"``), else ``(None, "")``.  Headers are read once per film id via ``cache``."""
    if film.facing:
        return Facing(film.facing), film.facing_source or FacingSource.USER.value
    cache = {} if cache is None else cache
    if film.id not in cache:
        facing = _header_facing(Path(film.path))
        cache[film.id] = (facing, FacingSource.DICOM.value if facing else "")
    return cache[film.id]


def checked_measurement(
    film: FilmRecord, m: CobbMeasurement, facing: Facing | None, source: str
) -> tuple[CobbMeasurement, list[str]]:
    """``m`` with its lines oriented by the film's facing and passed through the guards, and
    the warnings to report (swapped corners, unknown facing).

    Raises :class:`ValidationError` ("film #<id>: …") when a line is too steep to orient, the
    labels contradict an estimated facing, or a guard refuses the pair.
    """
    where = f"film #{film.id}"
    warnings: list[str] = []
    try:
        if facing is None:
            warnings.append(
                f"{where}: its facing is unknown (not set, no Patient Orientation): the "
                "anterior/posterior labels were taken as given, unchecked; set the film's "
                "facing to check them"
            )
        else:
            oriented, notices = orient_measurement(m, facing)
            if notices and source == FacingSource.ESTIMATE.value:
                raise ValidationError(
                    None,
                    f"the corner labels contradict the film's estimated facing "
                    f"({facing.value}); confirm the facing, then import again",
                )
            m = oriented
            warnings += [f"{where}: {notice}" for notice in notices]
        check_measurement(m)
    except (GeometryError, GuardError, ValidationError) as exc:
        raise ValidationError(None, f"{where}: {exc.problem}") from exc
    return m, warnings
