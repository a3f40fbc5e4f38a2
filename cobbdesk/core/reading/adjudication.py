"""Adjudication, consensus readings and a plan's progress.

A film goes to the adjudicator when every rater has read it in round 1 and the raters'
round-1 angles differ by more than the plan's threshold (largest minus smallest).  The
adjudicator reads it in the adjudication round (0), on a list ordered like a worklist.

The **consensus reading** of a plan film is the adjudicator's reading where the film needed
adjudication, else the mean of the raters' round-1 readings (those who read it); a film
waiting for its adjudication has none.  The analysis dataset's ``consensus`` rater policy uses
these values when the study names a consensus plan.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.reading.plan import ADJUDICATION_ROUND, TEMPLATES, Plan
from cobbdesk.core.reading.rounds import WorklistItem, _done, _items, _opened
from cobbdesk.core.reading.rows import reading_rows
from cobbdesk.core.reading.worklist import worklist_order
from cobbdesk.core.store.schema import films, visits
from cobbdesk.core.store.study import Study


def adjudicator_of(plan: Plan) -> str:
    """The plan's adjudicator; ValidationError when the plan has no adjudication."""
    if plan.adjudicate_above_deg is None or not plan.adjudicator:
        raise ValidationError(
            None, f"plan {plan.name!r} has no adjudication (create it with --adjudicate-above "
            "DEG --adjudicator NAME)",
        )  # fmt: skip
    return plan.adjudicator


def _round_one(rows: list[dict[str, Any]]) -> dict[int, dict[str, float]]:
    by_film: dict[int, dict[str, float]] = defaultdict(dict)
    for row in rows:
        if row["kind"] == "reading" and row["round"] == 1:
            by_film[int(row["film_id"])][row["rater"]] = float(row["angle_deg"])
    return by_film


def adjudication_films(conn: Connection, plan: Plan) -> list[int]:
    """Film ids whose raters' round-1 readings differ by more than the threshold (sorted)."""
    if plan.adjudicate_above_deg is None:
        return []
    threshold = float(plan.adjudicate_above_deg)
    return sorted(
        film_id
        for film_id, angles in _round_one(reading_rows(conn, plan)).items()
        if len(angles) == len(plan.raters) and len(angles) >= 2
        and max(angles.values()) - min(angles.values()) > threshold
    )  # fmt: skip


def adjudication_list(study: Study, plan: Plan) -> list[WorklistItem]:
    """The adjudicator's list (seeded order, one patient's films apart when possible)."""
    adjudicator = adjudicator_of(plan)
    with study.engine.connect() as conn:
        ids = adjudication_films(conn, plan)
        rows = conn.execute(
            select(films.c.id, visits.c.patient_id, films.c.sop_instance_uid, films.c.region)
            .join(visits, visits.c.id == films.c.visit_id).where(films.c.id.in_(ids))
        ).all()  # fmt: skip
        read, skipped = _done(conn, plan.id, adjudicator, ADJUDICATION_ROUND)
    info = {int(f): (int(p), sop, region) for f, p, sop, region in rows}
    pairs = [(f, info[f][0]) for f in ids]
    try:
        order = worklist_order(pairs, plan.seed, adjudicator, ADJUDICATION_ROUND)
    except ValidationError:  # too few patients to keep apart: a seeded shuffle only
        import random

        order = list(ids)
        random.Random(f"cobbdesk-adjudication:{plan.seed}").shuffle(order)
    return [
        WorklistItem(i, f, info[f][1], TEMPLATES[info[f][2]],
                     "read" if f in read else "skipped" if f in skipped else "to read",
                     skipped.get(f, ""))
        for i, f in enumerate(order, start=1)
    ]  # fmt: skip


def consensus_readings(study: Study, plan: Plan) -> dict[int, float]:
    """Film id → consensus angle (module rule); films without one are left out."""
    with study.engine.connect() as conn:
        rows = reading_rows(conn, plan)
        pending = set(adjudication_films(conn, plan))
    adjudicated = {int(r["film_id"]): float(r["angle_deg"]) for r in rows
                   if r["kind"] == "adjudication"}  # fmt: skip
    values: dict[int, float] = {}
    for film_id, angles in _round_one(rows).items():
        if film_id in pending:
            if film_id in adjudicated:
                values[film_id] = adjudicated[film_id]
        elif angles:
            values[film_id] = sum(angles.values()) / len(angles)
    return values


@dataclass(frozen=True)
class RoundStatus:
    """Progress of one rater × round (``skip_reasons``: reason → films)."""

    rater: str
    round: int
    total: int
    read: int
    skipped: int
    opened: bool
    skip_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def remaining(self) -> int:
        """Films neither read nor skipped: ``total − read − skipped``."""
        return self.total - self.read - self.skipped

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``done`` = films read, ``open`` = whether the round is open)."""
        return {"rater": self.rater, "round": self.round, "total": self.total,
                "done": self.read, "skipped": self.skipped, "remaining": self.remaining,
                "open": self.opened, "skip_reasons": dict(self.skip_reasons)}  # fmt: skip


def plan_status(study: Study, plan: Plan) -> list[RoundStatus]:
    """Per rater and round (then the adjudication round when the plan has one)."""
    statuses = []
    with study.engine.connect() as conn:
        for rater in plan.raters:
            for round_no in range(1, plan.rounds + 1):
                items = _items(conn, plan, rater, round_no)
                statuses.append(_status(rater, round_no, items,
                                        _opened(conn, plan.id, rater, round_no)))  # fmt: skip
        adjudicator = plan.adjudicator if plan.adjudicate_above_deg is not None else None
        opened = bool(adjudicator) and _opened(conn, plan.id, adjudicator or "", 0)
    if adjudicator:
        statuses.append(_status(adjudicator, ADJUDICATION_ROUND,
                                adjudication_list(study, plan), opened))  # fmt: skip
    return statuses


def _status(rater: str, round_no: int, items: list[WorklistItem], opened: bool) -> RoundStatus:
    reasons = Counter(i.skip_reason for i in items if i.state == "skipped")
    return RoundStatus(
        rater, round_no, len(items), sum(i.state == "read" for i in items),
        sum(i.state == "skipped" for i in items), opened, dict(sorted(reasons.items())),
    )  # fmt: skip


__all__ = [
    "RoundStatus",
    "adjudication_films",
    "adjudication_list",
    "adjudicator_of",
    "consensus_readings",
    "plan_status",
]
