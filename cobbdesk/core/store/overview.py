"""The study at a glance: each patient's visits, films, measurement and lab counts.

Built from five set queries whatever the study size (no per-patient queries), so the patient
list of a 10,000-patient study fills in well under a second.

A measurement counts for its film only when its template matches the film's region
(:func:`~cobbdesk.core.store.records.template_region`): a C2–C7 measurement on a lumbar or
region-unknown film is listed in ``VisitOverview.mismatched``, never as a lumbar ✓.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from cobbdesk.core.store.records import (
    FilmRecord,
    PatientOverview,
    Region,
    VisitOverview,
    template_region,
)
from cobbdesk.core.store.rows import VISIT_COLUMNS, _visit
from cobbdesk.core.store.schema import labs, measurements, visits

if TYPE_CHECKING:
    from cobbdesk.core.store.study import Study


def _counts(conn: Connection, key: Any, deleted: Any) -> dict[int, int]:
    query = select(key, func.count()).where(deleted.is_(None)).group_by(key)
    return {int(k): int(n) for k, n in conn.execute(query).all()}


def _template_counts(conn: Connection) -> dict[int, dict[Region, int]]:
    """Film id → {template's region: live measurements}."""
    m = measurements.c
    query = (
        select(m.film_id, m.template, func.count())
        .where(m.deleted_utc.is_(None))
        .group_by(m.film_id, m.template)
    )
    counts: dict[int, dict[Region, int]] = defaultdict(dict)
    for film_id, template, n in conn.execute(query).all():
        by_region = counts[int(film_id)]
        region = template_region(template)
        by_region[region] = by_region.get(region, 0) + int(n)
    return counts


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Building ~100,000 small objects triggers many full GC passes; none can free anything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def study_overview(study: Study) -> list[PatientOverview]:
    with _collector_paused():
        return _build(study)


def _build(study: Study) -> list[PatientOverview]:
    with study.engine.connect() as conn:
        counts = _template_counts(conn)
        lab_counts = _counts(conn, labs.c.visit_id, labs.c.deleted_utc)
        visit_rows = conn.execute(
            select(*VISIT_COLUMNS)
            .where(visits.c.deleted_utc.is_(None))
            .order_by(visits.c.visit_date, visits.c.id)
        ).all()
    films_by_visit: dict[int, list[FilmRecord]] = defaultdict(list)
    for film in study.films():
        films_by_visit[film.visit_id].append(film)
    per_patient: dict[int, list[VisitOverview]] = defaultdict(list)
    for row in visit_rows:
        visit = _visit(row)
        overview = VisitOverview(visit, labs=lab_counts.get(visit.id, 0))
        for film in films_by_visit.get(visit.id, ()):
            overview.films.setdefault(film.region, []).append(film)
            by_region = counts.get(film.id, {})
            matching = by_region.get(film.region, 0)
            overview.measured[film.id] = matching
            if sum(by_region.values()) > matching:
                overview.mismatched[film.id] = sum(by_region.values()) - matching
        per_patient[visit.patient_id].append(overview)
    return [PatientOverview(p, per_patient.get(p.id, [])) for p in study.patients()]
