"""A plan's live readings as rows, each angle **recomputed from its stored endplate points**.

Like the clinical export, the statistics of a plan never trust the cached ``angle_deg``: the
angle is derived from the points with the reading's spacing (or pixel aspect) by
:func:`cobbdesk.core.store.checks.recompute_angle`; NaN when the points no longer make two
lines (such a reading is then left out of the statistics by their NaN handling).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from cobbdesk.core.reading.plan import Plan
from cobbdesk.core.store.checks import POINT_COLUMNS, angle_spacing, recompute_angle
from cobbdesk.core.store.schema import films, readings, visits

__all__ = ["reading_rows"]


def reading_rows(conn: Connection, plan: Plan) -> list[dict[str, Any]]:
    """``film_id, region, patient_id, rater, round, kind, angle_deg`` per live reading of
    ``plan``, ordered by film, rater and round; ``angle_deg`` recomputed from the points."""
    r = readings.c
    scale = (r.spacing_row_mm, r.spacing_col_mm, r.pixel_aspect_row, r.pixel_aspect_col)
    query = (
        select(r.film_id, films.c.region, visits.c.patient_id, r.rater, r.round, r.kind,
               *(r[c] for c in POINT_COLUMNS), *scale)
        .join(films, films.c.id == r.film_id).join(visits, visits.c.id == films.c.visit_id)
        .where(r.plan_id == plan.id, r.deleted_utc.is_(None))
        .order_by(r.film_id, r.rater, r.round)
    )  # fmt: skip
    rows = []
    for row in conn.execute(query).mappings():
        spacing = angle_spacing(*(row[c.name] for c in scale))
        angle = recompute_angle([row[c] for c in POINT_COLUMNS], spacing)
        keep = ("film_id", "region", "patient_id", "rater", "round", "kind")
        rows.append({**{k: row[k] for k in keep}, "angle_deg": angle})
    return rows
