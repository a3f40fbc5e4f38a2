"""The film's facing and the measurement guards, applied to imported endplate points.

An imported row gives each line's corners labelled anterior/posterior.  A label slip silently
flips the sign of the angle, so :func:`checked_measurement` decides the anterior end from the
film's facing (:mod:`cobbdesk.core.measure.facing`) instead:

* facing set by the user or read from the DICOM header (``films.facing``), or, when the study
  has none, implied by the header's Patient Orientation (0020,0020): corners that contradict
  it are swapped, with a warning naming the line — the opposite sign is never stored;
* facing only *estimated* from the image: a guess must not rewrite a rater's labels, so a row
  that contradicts it is refused (confirm the facing, then import again); agreeing rows pass;
* facing unknown: the labels are taken as given, with a warning that they were not checked,
  but they must be **consistent** on the film: the facing each row's labels imply (the one under
  which they need no swap) must agree with the film's saved measurements and with the earlier
  rows of the same import (:class:`ImpliedFacings`); a row whose labels run the other way is
  refused, so one film never holds both signs (a line whose labels disagree with the other
  line's is refused too).

Then :func:`cobbdesk.core.measure.guards.check_measurement` refuses short, coincident,
crossing and ≥ 90° line pairs.  Refusals are :class:`ValidationError` naming the film by its
study id (never a patient identifier).

A row whose template belongs to another region than the film's, as recorded at import
(:func:`region_warning`: C2–C7 on a film that is not cervical, L1–S1 on one that is not lumbar,
FREE on either), is saved as before but warned about: it is the rule of ``verify``'s region
mismatches (:func:`~cobbdesk.core.store.records.template_region`), and such a measurement is
left out of the region angle in exports until the film's region is corrected.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
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
from cobbdesk.core.measure.session import cranial_first
from cobbdesk.core.store.records import FilmRecord, Region, template_region

__all__ = [
    "ImpliedFacings", "checked_measurement", "film_facing", "implied_facing", "outside_image",
    "region_warning",
]  # fmt: skip


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
    film: FilmRecord, file: Path, cache: dict[int, tuple[Facing | None, str]] | None = None
) -> tuple[Facing | None, str]:
    """``(facing, source)`` of ``film``: the study's stored facing and its source
    (``"user"``/``"dicom"``/``"estimate"``), else the Patient Orientation of its ``file``
    (the film's stored path resolved as :func:`~cobbdesk.core.importing.films.study_film_path`
    does: an older study's relative path is relative to the study file, never to the working
    folder) (``"dicom"``), else ``(None, "")``.  Headers are read once per film id via
    ``cache``."""
    if film.facing:
        return Facing(film.facing), film.facing_source or FacingSource.USER.value
    cache = {} if cache is None else cache
    if film.id not in cache:
        facing = _header_facing(file)
        cache[film.id] = (facing, FacingSource.DICOM.value if facing else "")
    return cache[film.id]


def implied_facing(m: CobbMeasurement) -> Facing | None:
    """The facing under which ``m``'s corner labels need no swap; None when its two lines are
    labelled in opposite directions (or are too steep to tell).

    >>> from cobbdesk.core.measure.measurement import EndplateLine
    >>> m = CobbMeasurement(sop_instance_uid="1", pixel_sha256="", template="C2-C7",
    ...     upper=EndplateLine((100, 100), (140, 110)), lower=EndplateLine((100, 300), (140, 290)))
    >>> implied_facing(m).value
    'left'
    """
    for facing in Facing:
        try:
            _, notices = orient_measurement(m, facing)
        except (GeometryError, ValidationError):
            return None
        if not notices:
            return facing
    return None


class ImpliedFacings:
    """What the labels already on each film of unknown facing say: one import's state.

    ``seen[film_id]`` is ``(facing, where)``: the facing implied by the film's saved
    measurements ("its saved measurements") or by the first imported row ("row N").
    """

    def __init__(self) -> None:
        self.seen: dict[int, tuple[Facing, str]] = {}
        self.headers: dict[int, tuple[Facing | None, str]] = {}
        """:func:`film_facing`'s cache: each film's header is read once per import."""

    def check(
        self, film: FilmRecord, m: CobbMeasurement, saved: list[CobbMeasurement], row: int
    ) -> None:
        """Refuse ``m`` (ValidationError) when its labels run the other way to the film's."""
        mine = implied_facing(m)
        if mine is None:
            raise ValidationError(
                None,
                f"film #{film.id}: its two lines are labelled in opposite directions "
                "(anterior/posterior); check the corner columns",
            )
        if film.id not in self.seen:
            implied = {f for f in map(implied_facing, saved) if f is not None}
            if len(implied) == 1:
                self.seen[film.id] = (implied.pop(), "its saved measurements")
            elif not implied:
                self.seen[film.id] = (mine, f"row {row}")
        known = self.seen.get(film.id)
        if known is not None and known[0] is mine:
            return
        clash = (
            "the film's saved measurements are labelled both ways"
            if known is None
            else f"the corner labels run the opposite way to those of {known[1]}"
        )
        raise ValidationError(
            None,
            f"film #{film.id}: {clash}, and its facing is unknown, so one of them has the "
            "wrong sign; set the facing (cobbdesk film STUDY UID --facing left|right "
            "--reason …) and import again",
        )


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
        m, warnings = _cranial_first(m, where, warnings)
        check_measurement(m)
    except (GeometryError, GuardError, ValidationError) as exc:
        raise ValidationError(None, f"{where}: {exc.problem}") from exc
    return m, warnings


def _cranial_first(
    m: CobbMeasurement, where: str, warnings: list[str]
) -> tuple[CobbMeasurement, list[str]]:
    """``m`` with its lines in cranio-caudal order (as :func:`cranial_first` stores a placed
    measurement) and a warning when the row gave them the other way round."""
    ordered = cranial_first(m)
    if ordered is m:
        return m, warnings
    return ordered, [*warnings, f"{where}: the 'lower' line lies above the 'upper' line on the "
                     "film; they were swapped (upper = the line higher on the film; the angle "
                     "is unchanged)"]  # fmt: skip


def region_warning(film: FilmRecord, template: str) -> str | None:
    """The warning for a ``template`` measurement on ``film`` when its region is not the
    film's region recorded at import (the rule of ``verify``'s region mismatches:
    :func:`~cobbdesk.core.store.records.template_region`), else None.  Names the film by
    its number and both regions, never the patient.

    >>> from cobbdesk.core.store.records import FilmRecord
    >>> film = FilmRecord(7, 1, "1.2.3", None, "a.dcm", Region.LUMBAR)
    >>> region_warning(film, "L1-S1") is None
    True
    >>> region_warning(film, "C2-C7").split(";")[0]
    'film #7: a C2-C7 (cervical) measurement on a film recorded as lumbar at import'
    """
    template = str(template)  # a Template member (StrEnum) or its text
    region = template_region(template)
    film_region = Region(film.region)
    if region is film_region:
        return None
    what = "no region" if region is Region.UNKNOWN else region.value
    return (
        f"film #{film.id}: a {template} ({what}) measurement on a film recorded as "
        f"{film_region.value} at import; saved, but left out of the film's region angle in "
        "exports until the film's region is corrected (cobbdesk film STUDY UID --region …)"
    )


def outside_image(
    columns: int | None, rows: int | None, named: Iterable[tuple[str, float]]
) -> list[str]:
    """Why points lie outside the film's image: one text per coordinate outside it (empty
    when all lie inside).  ``named``: ``(name, value)`` pairs in CobbDesk image coordinates
    (pixel centres run from 0 to size - 1, so the image's edges are at -0.5 and size - 0.5);
    a name ending in ``x`` is a column coordinate, else a row coordinate.  A size that is
    not known (None) and a coordinate that is not finite are not checked here.  The one
    bounds rule of every import of points (``measure`` CSV rows, SR SCOORDs).

    >>> outside_image(200, 300, [("lower_anterior_y", 400.0), ("lower_anterior_x", 10.0)])
    ['lower_anterior_y = 400 is outside the image (300 rows)']
    """
    problems = []
    for name, value in named:
        column = name.endswith("x")
        size = columns if column else rows
        if size is not None and math.isfinite(value) and not -0.5 <= value <= size - 0.5:
            problems.append(f"{name} = {value:g} is outside the image ({size} "
                            f"{'columns' if column else 'rows'})")  # fmt: skip
    return problems
