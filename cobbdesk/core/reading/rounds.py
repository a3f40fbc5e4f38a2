"""A rater's rounds of a plan: the worklist, opening a round (the washout), progress.

Rules:

* round 1 (and the adjudication round) opens at any time;
* round ``r > 1`` opens only when the rater finished round ``r − 1`` (every film read or
  skipped) and ``washout_days`` full days have passed since its last reading or skip
  (:class:`WashoutError` says how many days are left).  An override needs a reason; it is
  stored with the opened round and recorded in the audit trail;
* a round is opened once (``plan_rounds``); readings can be saved only in an opened round.

A :class:`WorklistItem` is what a blinded worklist shows: position, SOP Instance UID, template
and state — never a patient, visit or date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.reading.plan import ADJUDICATION_ROUND, TEMPLATES, Plan
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.schema import films, plan_items, plan_rounds, reading_skips, readings
from cobbdesk.core.store.study import Study


class WashoutError(ValidationError):
    """A round asked for before the previous one is finished or its washout has passed."""


@dataclass(frozen=True)
class WorklistItem:
    """One film of a worklist: ``state`` is ``to read``, ``read`` or ``skipped``."""

    position: int
    film_id: int
    sop_instance_uid: str
    template: str
    state: str = "to read"
    skip_reason: str = ""


def check_round(plan: Plan, rater: str, round_no: int) -> None:
    """ValidationError when ``rater`` has no round ``round_no`` in ``plan``."""
    if rater not in plan.raters:
        raise ValidationError(
            None, f"{rater!r} is not a rater of plan {plan.name!r} ({', '.join(plan.raters)})"
        )
    if not 1 <= round_no <= plan.rounds:
        raise ValidationError(None, f"plan {plan.name!r} has rounds 1 to {plan.rounds}")


def _parse(utc: str) -> datetime:
    return datetime.fromisoformat(utc.replace("Z", "+00:00"))


def worklist(study: Study, plan: Plan, rater: str, round_no: int) -> list[WorklistItem]:
    """The rater × round worklist in its stored order, with each film's state."""
    check_round(plan, rater, round_no)
    with study.engine.connect() as conn:
        return _items(conn, plan, rater, round_no)


def _items(conn: Connection, plan: Plan, rater: str, round_no: int) -> list[WorklistItem]:
    query = (
        select(plan_items.c.position, plan_items.c.film_id, films.c.sop_instance_uid,
               films.c.region)
        .join(films, films.c.id == plan_items.c.film_id)
        .where(plan_items.c.plan_id == plan.id, plan_items.c.rater == rater,
               plan_items.c.round == round_no)
        .order_by(plan_items.c.position)
    )  # fmt: skip
    read, skipped = _done(conn, plan.id, rater, round_no)
    items = []
    for position, film_id, sop, region in conn.execute(query):
        state = "read" if film_id in read else "skipped" if film_id in skipped else "to read"
        items.append(WorklistItem(int(position), int(film_id), sop, TEMPLATES[region], state,
                                  skipped.get(film_id, "")))  # fmt: skip
    return items


def _done(
    conn: Connection, plan_id: int, rater: str, round_no: int
) -> tuple[set[int], dict[int, str]]:
    """Film ids with a live reading, and film id → skip reason, of one rater × round."""
    r, s = readings.c, reading_skips.c
    read = conn.execute(
        select(r.film_id).where(r.plan_id == plan_id, r.rater == rater, r.round == round_no,
                                r.deleted_utc.is_(None))
    ).scalars()  # fmt: skip
    skips = conn.execute(
        select(s.film_id, s.reason).where(s.plan_id == plan_id, s.rater == rater,
                                          s.round == round_no, s.deleted_utc.is_(None))
    )  # fmt: skip
    return {int(f) for f in read}, {int(f): str(why) for f, why in skips}


def finished_utc(conn: Connection, plan: Plan, rater: str, round_no: int) -> datetime | None:
    """When the rater finished the round (last reading or skip), None while films are left."""
    items = _items(conn, plan, rater, round_no)
    if not items or any(i.state == "to read" for i in items):
        return None
    r, s = readings.c, reading_skips.c
    last = [
        conn.execute(select(func.max(t.created_utc)).where(
            t.plan_id == plan.id, t.rater == rater, t.round == round_no, t.deleted_utc.is_(None)
        )).scalar()
        for t in (r, s)
    ]  # fmt: skip
    return max(_parse(t) for t in last if t is not None)


def is_open(study: Study, plan: Plan, rater: str, round_no: int) -> bool:
    """True when ``rater`` has opened round ``round_no`` of ``plan``."""
    with study.engine.connect() as conn:
        return _opened(conn, plan.id, rater, round_no)


def _opened(conn: Connection, plan_id: int, rater: str, round_no: int) -> bool:
    c = plan_rounds.c
    query = select(c.id).where(c.plan_id == plan_id, c.rater == rater, c.round == round_no)
    return conn.execute(query).first() is not None


def washout_left(
    conn: Connection, plan: Plan, rater: str, round_no: int, now: datetime
) -> str | None:
    """Why round ``round_no`` cannot open now (None: it can)."""
    if round_no <= 1:
        return None
    finished = finished_utc(conn, plan, rater, round_no - 1)
    if finished is None:
        return f"{rater} has not finished round {round_no - 1} of plan {plan.name!r}"
    opens = finished + timedelta(days=plan.washout_days)
    if now >= opens:
        return None
    left = opens - now
    days = left.days + (1 if left.seconds or left.microseconds else 0)
    return (
        f"round {round_no} of plan {plan.name!r} opens for {rater} after a washout of "
        f"{plan.washout_days} day(s) from the end of round {round_no - 1}: {days} day(s) left"
    )


def open_round(
    study: Study,
    plan: Plan,
    rater: str,
    round_no: int,
    *,
    override_reason: str = "",
    now: datetime | None = None,
) -> bool:
    """Open the rater's round (module rules); True when it was opened now, False when it was
    already open.  Raises WashoutError (nothing stored) unless ``override_reason`` is given;
    an override is stored with the round and audited with its reason."""
    if round_no != ADJUDICATION_ROUND:
        check_round(plan, rater, round_no)
    moment = now or datetime.now(UTC)
    with study.transaction() as conn:
        if _opened(conn, plan.id, rater, round_no):
            return False
        why = washout_left(conn, plan, rater, round_no, moment)
        override = override_reason.strip()
        if why is not None and not override:
            raise WashoutError(None, why + " (an override needs a reason)")
        values = {"plan_id": plan.id, "rater": rater, "round": round_no,
                  "override_reason": override if why is not None else None}  # fmt: skip
        row_id = conn.execute(
            plan_rounds.insert().values(**values, opened_utc=audit_log.utc_now())
        ).inserted_primary_key[0]  # type: ignore[index]
        reason = f"washout overridden: {override} ({why})" if why is not None else ""
        audit_log.record(conn, study.actor, "plan_round", row_id,
                         inserted("plan_round", values), reason=reason)  # fmt: skip
    return True


__all__ = [
    "WashoutError",
    "WorklistItem",
    "check_round",
    "finished_utc",
    "is_open",
    "open_round",
    "washout_left",
    "worklist",
]
