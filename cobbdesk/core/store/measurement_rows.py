"""A measurement as a ``measurements`` row, and the conflict baseline of a row (#15).

:func:`measurement_row` / :func:`measurement_from_row` convert a
:class:`~cobbdesk.core.measure.measurement.CobbMeasurement` (points in image px, spacing
``(row_mm, col_mm)``) to and from the table's columns.  A conflict baseline
(:data:`Baseline`) keeps, per measurement id, the compared columns as their reader last saw
them; :func:`shown_state` is the entry of a measurement as a window shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cobbdesk.core.measure.measurement import CobbMeasurement

_POINTS = [
    f"{line}_{end}_{axis}"
    for line in ("upper", "lower")
    for end in ("anterior", "posterior")
    for axis in ("x", "y")
]


def measurement_row(m: CobbMeasurement) -> dict[str, Any]:
    """The database columns of a measurement (angle cached from the points)."""
    points = [c for line in (m.upper, m.lower) for p in (line.anterior, line.posterior) for c in p]
    row: dict[str, Any] = dict(zip(_POINTS, (float(c) for c in points), strict=True))
    spacing = m.spacing or (None, None)
    row.update(
        id=m.id,
        rater=m.rater,
        template=m.template.value,
        spacing_row_mm=spacing[0],
        spacing_col_mm=spacing[1],
        spacing_source=str(m.spacing_source),
        angle_deg=m.angle,
        algorithm_version=m.algorithm_version,
        created_utc=m.created_utc,
        updated_utc=m.updated_utc,
        upper_snapped=int(m.upper_snapped),
        lower_snapped=int(m.lower_snapped),
        pixel_aspect_row=m.pixel_aspect[0] if m.pixel_aspect else None,
        pixel_aspect_col=m.pixel_aspect[1] if m.pixel_aspect else None,
    )
    return row


def measurement_from_row(row: Any, sop: str, sha: str | None) -> CobbMeasurement:
    """The :class:`CobbMeasurement` of a ``measurements`` row of its film ``sop``/``sha``.

    Point columns are image px, spacing ``(row_mm, col_mm)`` (None when ``spacing_row_mm`` is
    empty), the pixel aspect likewise.  Raises :class:`ValidationError` for an incomplete or
    impossible row.
    """
    p = [row[c] for c in _POINTS]
    spacing = (row["spacing_row_mm"], row["spacing_col_mm"]) if row["spacing_row_mm"] else None
    return CobbMeasurement.from_dict(
        {
            "id": row["id"],
            "sop_instance_uid": sop,
            "pixel_sha256": sha or "",
            "template": row["template"],
            "rater": row["rater"],
            "upper": {"anterior": p[0:2], "posterior": p[2:4]},
            "lower": {"anterior": p[4:6], "posterior": p[6:8]},
            "spacing": spacing,
            "spacing_source": row["spacing_source"],
            "algorithm_version": row["algorithm_version"],
            "created_utc": row["created_utc"],
            "updated_utc": row["updated_utc"],
            "pixel_aspect": (
                (row["pixel_aspect_row"], row["pixel_aspect_col"])
                if row["pixel_aspect_row"]
                else None
            ),
            "upper_snapped": bool(row["upper_snapped"]),
            "lower_snapped": bool(row["lower_snapped"]),
        }
    )


#: Measurement columns a save compares and writes (the id and times excepted).
COMPARED = (*_POINTS, "rater", "template", "spacing_row_mm", "spacing_col_mm", "spacing_source",
             "angle_deg", "algorithm_version", "upper_snapped", "lower_snapped",
             "pixel_aspect_row", "pixel_aspect_col", "deleted_utc")  # fmt: skip


def row_state(row: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`COMPARED` columns of a ``measurements`` row (a baseline entry)."""
    return {k: row.get(k) for k in COMPARED}


Baseline = dict[str, dict[str, Any]]
"""A conflict baseline table: measurement id → its stored columns as last seen (``COMPARED``)."""


def shown_state(m: CobbMeasurement) -> dict[str, Any]:
    """The baseline entry of a measurement as a window shows it (not deleted): the stored
    columns it stands for, without the cached ``angle_deg`` (the angle shown is recomputed
    from the points, so a stale stored angle is no one's change)."""
    state = {**row_state(measurement_row(m)), "deleted_utc": None}
    del state["angle_deg"]
    return state


__all__ = [
    "COMPARED",
    "Baseline",
    "measurement_from_row",
    "measurement_row",
    "row_state",
    "shown_state",
]
