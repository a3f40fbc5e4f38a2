"""Each rater's clinical progress: films measured, patients with both visits measured, activity.

What the "Raters" panel shows next to the study browser, from three grouped queries whatever
the study size (no per-patient or per-film queries), on SQLite and PostgreSQL alike.

Definitions (clinical measurements only; reading-plan readings live in their own table and
are never counted here, see :mod:`cobbdesk.core.reading.progress`):

* **films measured** — live films (film, visit and patient not deleted) holding at least one
  live measurement by the rater (any template);
* **both visits, per region** — live patients with a live admission visit *and* a live month-3
  visit each holding a live film of the region measured by the rater with the region's
  template (C2–C7 on cervical, L1–S1 on lumbar, as
  :func:`~cobbdesk.core.store.records.template_region`), the browser's completeness rule;
* **last activity** — the latest ``created_utc`` / ``updated_utc`` / ``deleted_utc`` of the
  rater's measurements and calibrations (deleted ones too: a deletion is activity), as an
  aware UTC ``datetime`` (stored strings end in ``Z`` or ``+00:00``: parsed, not compared as
  text; the latest per column is taken by the database, which compares the ISO text), None
  when the rater never measured.

Raters are the ``rater`` names stored with the rows (the name typed in the measurement
panel; on a server the audit also records each one's database role).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from cobbdesk.core.store.records import _TEMPLATE_REGIONS, Region, VisitKind
from cobbdesk.core.store.schema import calibrations, films, measurements, patients, visits

#: The regions counted in :attr:`RaterClinical.both_visits`, in display order.
REGIONS = (Region.CERVICAL.value, Region.LUMBAR.value)
_PAIR = (VisitKind.ADMISSION.value, VisitKind.MONTH3.value)


@dataclass(frozen=True)
class RaterClinical:
    """One rater's clinical progress (module docstring for each count's rule).

    ``both_visits`` maps region (``"cervical"``, ``"lumbar"``) → patients; ``measurements`` is
    the number of live measurements on live films.
    """

    rater: str
    films_measured: int = 0
    measurements: int = 0
    both_visits: dict[str, int] = field(default_factory=dict)
    last_activity: datetime | None = None


def _live_joins() -> Any:
    """``measurements`` joined to live films of live visits of live patients."""
    return (
        measurements.join(films, films.c.id == measurements.c.film_id)
        .join(visits, visits.c.id == films.c.visit_id)
        .join(patients, patients.c.id == visits.c.patient_id)
    )


def _live() -> Any:
    return and_(
        measurements.c.deleted_utc.is_(None), films.c.deleted_utc.is_(None),
        visits.c.deleted_utc.is_(None), patients.c.deleted_utc.is_(None),
    )  # fmt: skip


def _region_template() -> Any:
    """The measurement's template is the one of its film's region."""
    return or_(*(
        and_(films.c.region == region.value, measurements.c.template == template)
        for template, region in _TEMPLATE_REGIONS.items() if region.value in REGIONS
    ))  # fmt: skip


def _films_measured(conn: Connection) -> dict[str, tuple[int, int]]:
    m = measurements.c
    query = (
        select(m.rater, func.count(func.distinct(m.film_id)), func.count())
        .select_from(_live_joins()).where(_live()).group_by(m.rater)
    )  # fmt: skip
    return {str(r): (int(f), int(n)) for r, f, n in conn.execute(query)}


def _both_visits(conn: Connection) -> dict[str, dict[str, int]]:
    m, f, v = measurements.c, films.c, visits.c
    pairs = (
        select(m.rater, f.region, v.patient_id)
        .select_from(_live_joins())
        .where(_live(), _region_template(), v.kind.in_(_PAIR))
        .group_by(m.rater, f.region, v.patient_id)
        .having(func.count(func.distinct(v.kind)) == len(_PAIR))
        .subquery()
    )  # fmt: skip
    query = select(pairs.c.rater, pairs.c.region, func.count()).group_by(
        pairs.c.rater, pairs.c.region
    )
    counts: dict[str, dict[str, int]] = {}
    for rater, region, n in conn.execute(query):
        counts.setdefault(str(rater), {})[str(region)] = int(n)
    return counts


def _moment(stamp: object) -> datetime | None:
    """An aware UTC datetime from a stored ISO string (``Z`` or ``+00:00``); None if unreadable."""
    try:
        moment = datetime.fromisoformat(str(stamp))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _last_activity(conn: Connection) -> dict[str, datetime]:
    latest: dict[str, datetime] = {}
    for table, times in (
        (measurements, ("created_utc", "updated_utc", "deleted_utc")),
        (calibrations, ("created_utc", "deleted_utc")),
    ):
        c = table.c
        query = select(c.rater, *(func.max(c[t]) for t in times)).group_by(c.rater)
        for rater, *stamps in conn.execute(query):
            known = [m for m in map(_moment, stamps) if m is not None]
            if str(rater) in latest:
                known.append(latest[str(rater)])
            if known:
                latest[str(rater)] = max(known)
    return latest


def clinical_progress(conn: Connection) -> list[RaterClinical]:
    """Every rater with clinical measurements or calibrations, by name (module rules).

    Three grouped reads on ``conn`` (run them in one snapshot for consistent counts).
    """
    measured = _films_measured(conn)
    both = _both_visits(conn)
    latest = _last_activity(conn)
    raters = sorted(set(measured) | set(both) | set(latest))
    return [
        RaterClinical(
            rater, *measured.get(rater, (0, 0)),
            both_visits={r: both.get(rater, {}).get(r, 0) for r in REGIONS},
            last_activity=latest.get(rater),
        )
        for rater in raters
    ]  # fmt: skip


__all__ = ["REGIONS", "RaterClinical", "clinical_progress"]
