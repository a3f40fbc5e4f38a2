"""Reading plans: the protocol of a reliability study, stored in the study (schema 5).

A plan names the films it covers (every cervical and/or lumbar film, optionally of a seeded
random sample of patients), its raters, the number of rounds each rater reads (1: inter-rater
only; 2+: intra-rater as well), the washout in days between a rater's rounds, the blinding,
whether snapping is offered (off by default: assistance would inflate agreement) and,
optionally, the difference in degrees above which a film goes to an adjudicator.

Creating a plan stores every rater × round worklist
(:func:`~cobbdesk.core.reading.worklist.worklist_order`) in one audited transaction: the
lists are fixed when the plan is made, and reproducible from the recorded seed.

>>> spec = PlanSpec("icc1", ("A", "B"), rounds=2, washout_days=14, seed=3)
>>> spec.region, spec.snapping, spec.blinding["patient_identifiers"]
('both', False, True)
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.reading.worklist import worklist_order
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.records import Region
from cobbdesk.core.store.schema import films, patients, plan_items, reading_plans, visits
from cobbdesk.core.store.study import Study

REGIONS = ("cervical", "lumbar", "both")
TEMPLATES = {Region.CERVICAL.value: "C2-C7", Region.LUMBAR.value: "L1-S1"}
"""The template a plan film is read with, by the film's region."""
BLINDING = {
    "other_raters": "other raters' values",
    "own_earlier_rounds": "the rater's own earlier rounds",
    "other_visit": "the other visit's film and values",
    "dates": "dates",
    "patient_identifiers": "patient identifiers (study ID, name, visit)",
}
"""Blinding options (all on by default): what a rater does not see while reading."""
ADJUDICATION_ROUND = 0
"""The round number of adjudication readings."""
_NAME_MAX = 64


@dataclass(frozen=True)
class PlanSpec:
    """What ``cobbdesk plan create`` asks for (see the module docstring)."""

    name: str
    raters: tuple[str, ...]
    rounds: int = 2
    washout_days: int = 14
    seed: int = 0
    region: str = "both"
    sample: int | None = None
    adjudicate_above: float | None = None
    adjudicator: str | None = None
    snapping: bool = False
    blinding: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(BLINDING, True))


@dataclass(frozen=True)
class Plan:
    """A stored plan (``raters`` in the order given; ``blinding``: option → on)."""

    id: int
    name: str
    region: str
    sample_patients: int | None
    seed: int
    raters: tuple[str, ...]
    rounds: int
    washout_days: int
    adjudicate_above_deg: float | None
    adjudicator: str | None
    snapping: bool
    blinding: dict[str, bool]
    created_utc: str

    def describe(self) -> str:
        """One line: films, raters, rounds, washout, snapping, adjudication."""
        films_text = "all patients" if self.sample_patients is None else (
            f"{self.sample_patients} patients sampled (seed {self.seed})")  # fmt: skip
        adjudication = (
            f"adjudication above {self.adjudicate_above_deg:g}°"
            + (f" by {self.adjudicator}" if self.adjudicator else "")
            if self.adjudicate_above_deg is not None
            else "no adjudication"
        )
        return (
            f"{self.name}: {self.region} films of {films_text}; raters "
            f"{', '.join(self.raters)}; {self.rounds} round(s), washout {self.washout_days} "
            f"day(s); snapping {'on' if self.snapping else 'off'}; {adjudication}"
        )


def _plan(row: Any) -> Plan:
    return Plan(
        id=int(row["id"]), name=row["name"], region=row["region"],
        sample_patients=row["sample_patients"], seed=int(row["seed"]),
        raters=tuple(row["raters"].split(",")), rounds=int(row["rounds"]),
        washout_days=int(row["washout_days"]), adjudicate_above_deg=row["adjudicate_above_deg"],
        adjudicator=row["adjudicator"], snapping=bool(row["snapping"]),
        blinding=dict(json.loads(row["blinding"])), created_utc=row["created_utc"],
    )  # fmt: skip


def _check(spec: PlanSpec) -> PlanSpec:
    """``spec`` with names stripped; ValidationError naming the first problem."""
    name = spec.name.strip()
    raters = tuple(r.strip() for r in spec.raters if r.strip())
    problems = [
        (not name or len(name) > _NAME_MAX, f"the plan name must be 1 to {_NAME_MAX} characters"),
        (len(raters) < 1, "a plan needs at least one rater"),
        (len(set(raters)) != len(raters), "a rater is named twice"),
        (any("," in r for r in raters), "a rater's name cannot contain a comma"),
        (spec.rounds < 1, "a plan needs at least one round"),
        (len(raters) < 2 and spec.rounds < 2, "one rater reading once measures no reliability"),
        (spec.washout_days < 0, "the washout cannot be negative"),
        (spec.region not in REGIONS, f"region must be one of {', '.join(REGIONS)}"),
        (spec.sample is not None and spec.sample < 1, "the sample needs at least one patient"),
        (spec.adjudicate_above is not None and not spec.adjudicate_above > 0,
         "the adjudication threshold must be a positive number of degrees"),
        (spec.adjudicator is not None and spec.adjudicator.strip() in raters,
         "the adjudicator must not be one of the plan's raters"),
        (set(spec.blinding) - set(BLINDING) != set(), "unknown blinding option"),
    ]  # fmt: skip
    for failed, text in problems:
        if failed:
            raise ValidationError(None, f"plan {name!r}: {text}")
    adjudicator = (spec.adjudicator or "").strip() or None
    blinding = {**dict.fromkeys(BLINDING, True), **spec.blinding}
    return replace(spec, name=name, raters=raters, adjudicator=adjudicator, blinding=blinding)


def candidate_films(conn: Connection, region: str) -> list[tuple[int, int]]:
    """``(film_id, patient_id)`` of the live films of ``region`` (``both``: cervical and
    lumbar; region-unknown films are never in a plan) of live visits and patients."""
    wanted = ["cervical", "lumbar"] if region == "both" else [region]
    query = (
        select(films.c.id, visits.c.patient_id)
        .join(visits, visits.c.id == films.c.visit_id)
        .join(patients, patients.c.id == visits.c.patient_id)
        .where(films.c.region.in_(wanted), films.c.deleted_utc.is_(None),
               visits.c.deleted_utc.is_(None), patients.c.deleted_utc.is_(None))
        .order_by(films.c.id)
    )  # fmt: skip
    return [(int(f), int(p)) for f, p in conn.execute(query)]


def sample_films(
    candidates: list[tuple[int, int]], sample: int | None, seed: int
) -> list[tuple[int, int]]:
    """The films of ``sample`` patients drawn with ``seed`` (every film when None)."""
    if sample is None:
        return candidates
    patient_ids = sorted({p for _, p in candidates})
    if sample > len(patient_ids):
        raise ValidationError(
            None, f"the sample of {sample} patients is larger than the {len(patient_ids)} "
            "patients with films of the plan's region",
        )  # fmt: skip
    chosen = set(random.Random(f"cobbdesk-sample:{seed}").sample(patient_ids, sample))
    return [(f, p) for f, p in candidates if p in chosen]


def create_plan(study: Study, spec: PlanSpec) -> Plan:
    """Store the plan and every rater × round worklist (one audited transaction).

    Raises ValidationError for a bad spec, a name already used, a plan without films, or
    films that cannot be ordered with one patient's films apart.
    """
    spec = _check(spec)
    with study.transaction() as conn:
        taken = select(reading_plans.c.id).where(reading_plans.c.name == spec.name)
        if conn.execute(taken).first():
            raise ValidationError(None, f"there is already a reading plan named {spec.name!r}")
        chosen = sample_films(candidate_films(conn, spec.region), spec.sample, spec.seed)
        if not chosen:
            why = f"plan {spec.name!r}: the study has no {spec.region} films"
            raise ValidationError(None, why)
        values = {
            "name": spec.name, "region": spec.region, "sample_patients": spec.sample,
            "seed": spec.seed, "raters": ",".join(spec.raters), "rounds": spec.rounds,
            "washout_days": spec.washout_days, "adjudicate_above_deg": spec.adjudicate_above,
            "adjudicator": spec.adjudicator, "snapping": int(spec.snapping),
            "blinding": json.dumps(spec.blinding, sort_keys=True),
        }  # fmt: skip
        plan_id = conn.execute(
            reading_plans.insert().values(**values, created_utc=audit_log.utc_now())
        ).inserted_primary_key[0]  # type: ignore[index]
        entries: list[audit_log.Change] = [
            ("reading_plan", plan_id, inserted("reading_plan", values), "reading plan created")
        ]
        entries += _store_worklists(conn, int(plan_id), spec, chosen)
        audit_log.record_many(conn, study.actor, entries)
    return get_plan(study, spec.name)


def _store_worklists(
    conn: Connection, plan_id: int, spec: PlanSpec, chosen: list[tuple[int, int]]
) -> list[audit_log.Change]:
    rows = []
    for rater in spec.raters:
        for round_no in range(1, spec.rounds + 1):
            order = worklist_order(chosen, spec.seed, rater, round_no)
            rows += [
                {"plan_id": plan_id, "rater": rater, "round": round_no, "position": i,
                 "film_id": film_id}
                for i, film_id in enumerate(order, start=1)
            ]  # fmt: skip
    audit_log.insert_many(conn, plan_items, rows)
    stored = conn.execute(
        select(plan_items).where(plan_items.c.plan_id == plan_id).order_by(plan_items.c.id)
    ).mappings()
    return [("plan_item", r["id"], inserted("plan_item", dict(r)), "") for r in stored]


def get_plan(study: Study, name: str) -> Plan:
    """The plan named ``name``; ValidationError listing the study's plans when there is none."""
    with study.engine.connect() as conn:
        row = conn.execute(
            select(reading_plans).where(reading_plans.c.name == name.strip(),
                                        reading_plans.c.deleted_utc.is_(None))
        ).mappings().first()  # fmt: skip
    if row is None:
        known = ", ".join(p.name for p in list_plans(study)) or "none"
        raise ValidationError(None, f"there is no reading plan named {name!r} (plans: {known})")
    return _plan(row)


def list_plans(study: Study) -> list[Plan]:
    """Every live plan of the study, oldest first."""
    query = select(reading_plans).where(reading_plans.c.deleted_utc.is_(None))
    with study.engine.connect() as conn:
        return [_plan(r) for r in conn.execute(query.order_by(reading_plans.c.id)).mappings()]


__all__ = [
    "ADJUDICATION_ROUND",
    "BLINDING",
    "REGIONS",
    "TEMPLATES",
    "Plan",
    "PlanSpec",
    "candidate_films",
    "create_plan",
    "get_plan",
    "list_plans",
    "sample_films",
]
