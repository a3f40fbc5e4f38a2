"""Films whose saved measurements were computed with different pixel shapes.

A Cobb angle depends on the pixel spacing only through the pixel's *shape*, the ratio of its
height to its width: the angle between two lines is unchanged when both image axes are
scaled alike, and changes when one axis is stretched (PS3.3 C.7.6.3.1.7 and C.8.17.11: Pixel
Spacing and Pixel Aspect Ratio are row × column).  A measurement's shape is

* ``spacing_row_mm / spacing_col_mm`` when it was computed in mm (header spacing);
* ``pixel_aspect_row / pixel_aspect_col`` when it was computed in pixels with a Pixel Aspect
  Ratio, and 1 (square pixels) without one; a measurement in pixels must also have the shape
  the study recorded for the film at import (``films.pixel_aspect_*``; none recorded: 1:1).

On one film every measurement from the file (a user calibration is left out: it is the
user's, and a change of calibration is reported as a stale angle,
:meth:`~cobbdesk.core.store.checks.StudyChecks.angle_discrepancies`) must have the same shape:
otherwise the same points give different degrees and at least one angle is wrong — e.g. an
SR computed on another file with the same SOP Instance UID, imported before CobbDesk checked
that (``cobbdesk verify`` reports it; re-measure the film from its own file).

Reports name the patient by the pseudonymous study ID and the film by its number and SOP
Instance UID only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.pixel_shape import REL_TOL
from cobbdesk.core.store.checks import live_measurement_query
from cobbdesk.core.store.ordering import by_study_id
from cobbdesk.core.store.schema import films, measurements, patients
from cobbdesk.core.store.study import Study

SHAPE_RELATIVE_TOLERANCE = REL_TOL
"""Shapes closer than this (relative) are the same: :data:`cobbdesk.core.pixel_shape.REL_TOL`."""
_USER = SpacingSource.USER.value


@dataclass(frozen=True)
class GeometryDisagreement:
    """A film whose measurements from the file were computed with different pixel shapes.

    ``shapes``: each distinct (shape as height:width, how it was known, raters) found."""

    study_id: str
    film_id: int
    sop_instance_uid: str
    shapes: tuple[tuple[float, str, tuple[str, ...]], ...]

    def describe(self) -> str:
        """One line without patient identifiers."""
        parts = [f"{shape:.4g}:1 from {how}" + (f" ({', '.join(raters)})" if raters else "")
                 for shape, how, raters in self.shapes]  # fmt: skip
        return (
            f"{self.study_id} film #{self.film_id} ({self.sop_instance_uid}): its measurements "
            f"were computed with different pixel shapes — {'; '.join(parts)}; the same points "
            "give different degrees: re-measure the film from its own file"
        )


def measurement_shape(row: Mapping[str, Any]) -> tuple[float, str] | None:
    """(height/width, how it was known) of a measurement row of :func:`measured_rows`; None
    for a user calibration (module rules)."""
    if row["spacing_source"] == _USER:
        return None
    if row["spacing_row_mm"] and row["spacing_col_mm"]:
        sizes = f"{row['spacing_row_mm']:g} × {row['spacing_col_mm']:g} mm"
        return float(row["spacing_row_mm"]) / float(row["spacing_col_mm"]), (
            f"{row['spacing_source']} {sizes}"
        )
    if row["pixel_aspect_row"] and row["pixel_aspect_col"]:
        aspect = f"{row['pixel_aspect_row']:g}:{row['pixel_aspect_col']:g}"
        return float(row["pixel_aspect_row"]) / float(row["pixel_aspect_col"]), (
            f"Pixel Aspect Ratio {aspect}, no spacing"
        )
    return 1.0, "square pixels, no spacing"


def _recorded(row: Mapping[str, Any]) -> float:
    """The film's shape recorded at import (Pixel Aspect Ratio; none: square)."""
    if row["film_aspect_row"] and row["film_aspect_col"]:
        return float(row["film_aspect_row"]) / float(row["film_aspect_col"])
    return 1.0


def measured_rows(study: Study) -> list[dict[str, Any]]:
    """Every live measurement of a live film: film_id, id, rater, spacing_row_mm/col_mm,
    spacing_source, pixel_aspect_row/col, sop_instance_uid, film_aspect_row/col, path (the
    film file as stored), study_id; by film, then creation.  Raises the store's errors."""
    m, f = measurements.c, films.c
    query = live_measurement_query(
        m.film_id, m.id, m.rater, f.path, m.spacing_row_mm, m.spacing_col_mm, m.spacing_source,
        m.pixel_aspect_row, m.pixel_aspect_col, f.sop_instance_uid,
        f.pixel_aspect_row.label("film_aspect_row"), f.pixel_aspect_col.label("film_aspect_col"),
        patients.c.study_id,
    ).order_by(m.film_id, m.created_utc, m.id)  # fmt: skip
    with study.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def geometry_disagreements(
    study: Study, measured: list[dict[str, Any]] | None = None
) -> list[GeometryDisagreement]:
    """Every live film whose live measurements from the file were computed with more than one
    pixel shape, or in pixels with another shape than the film's recorded one (module rules);
    in natural study-ID order.  Raises the store's errors."""
    by_film: dict[int, list[dict[str, Any]]] = {}
    for row in measured_rows(study) if measured is None else measured:
        by_film.setdefault(int(row["film_id"]), []).append(row)
    found = []
    for film_id, rows in by_film.items():
        shapes = _film_shapes(rows)
        if len(shapes) > 1:
            first = rows[0]
            listed = tuple((s, how, tuple(r)) for s, (how, r) in shapes.items())
            uid = str(first["sop_instance_uid"])
            found.append(GeometryDisagreement(str(first["study_id"]), film_id, uid, listed))
    return by_study_id(found, lambda d: d.study_id)


def _film_shapes(rows: list[dict[str, Any]]) -> dict[float, tuple[str, dict[str, None]]]:
    """The distinct shapes of one film's measurements: shape → (how known, raters)."""
    shapes: dict[float, tuple[str, dict[str, None]]] = {}

    def add(shape: float, how: str) -> dict[str, None]:
        same = next((s for s in shapes if same_shape(s, shape)), shape)
        return shapes.setdefault(same, (how, {}))[1]

    for row in rows:
        known = measurement_shape(row)
        if known is None:
            continue
        if not (row["spacing_row_mm"] and row["spacing_col_mm"]):  # in pixels: the film's own
            recorded = _recorded(row)
            if not same_shape(known[0], recorded):
                add(recorded, "the film as recorded at import")
        add(*known)[str(row["rater"])] = None
    return shapes


def same_shape(a: float, b: float) -> bool:
    """Whether two pixel shapes (height/width) are the same (:data:`SHAPE_RELATIVE_TOLERANCE`)."""
    return math.isclose(a, b, rel_tol=SHAPE_RELATIVE_TOLERANCE)


__all__ = [
    "SHAPE_RELATIVE_TOLERANCE",
    "GeometryDisagreement",
    "geometry_disagreements",
    "measured_rows",
    "measurement_shape",
    "same_shape",
]
