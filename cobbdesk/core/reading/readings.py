"""Readings: measurements made in a plan, stored apart from the clinical measurements.

A reading is a row of the ``readings`` table (the measurement's columns plus plan, round and
kind), written by a :class:`ReadingStore` — the
:class:`~cobbdesk.core.measure.changes.MeasurementStore` of a reading session — or by the
points import with ``--plan``.  The clinical ``measurements`` table is never written, so no
clinical view, export, statistic or overview can show or count a reading.

Rules checked on every save: the round is open (:func:`~cobbdesk.core.reading.rounds.open_round`),
the film is on the rater's worklist of that round (or on the adjudication list), the template is
the plan's template for the film's region, and one film holds one live reading per rater ×
round (the rater adjusts it rather than adding a second).  Every insert and change is audited
(entity ``reading``); a skipped film is stored with its reason (entity ``reading_skip``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.facing import Facing, FacingSource
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.reading.adjudication import adjudication_films, adjudicator_of
from cobbdesk.core.reading.plan import ADJUDICATION_ROUND, TEMPLATES, Plan
from cobbdesk.core.reading.rounds import _opened
from cobbdesk.core.reading.rows import reading_rows
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.clinical import measurement_from_row, measurement_row
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.schema import films, plan_items, reading_skips, readings
from cobbdesk.core.store.study import Study


def _film(conn: Connection, film_id: int) -> Mapping[str, Any]:
    row = conn.execute(select(films).where(films.c.id == film_id)).mappings().first()
    if row is None:
        raise ValidationError(None, f"there is no film with id {film_id}")
    return dict(row)


def _on_worklist(conn: Connection, plan: Plan, rater: str, round_no: int, film_id: int) -> bool:
    c = plan_items.c
    query = select(c.id).where(c.plan_id == plan.id, c.rater == rater, c.round == round_no,
                               c.film_id == film_id)  # fmt: skip
    return conn.execute(query).first() is not None


def check_reading_allowed(
    conn: Connection, plan: Plan, rater: str, round_no: int, film_id: int
) -> None:
    """ValidationError unless ``rater`` may read ``film_id`` in ``round_no`` now."""
    if round_no == ADJUDICATION_ROUND:
        if rater != adjudicator_of(plan):
            raise ValidationError(None, f"{rater!r} is not the adjudicator of plan {plan.name!r}")
        if film_id not in adjudication_films(conn, plan):
            raise ValidationError(None, f"film {film_id} is not on the adjudication list")
    elif not _on_worklist(conn, plan, rater, round_no, film_id):
        raise ValidationError(
            None, f"film {film_id} is not on {rater}'s worklist of round {round_no} of plan "
            f"{plan.name!r}",
        )  # fmt: skip
    if not _opened(conn, plan.id, rater, round_no):
        raise ValidationError(
            None, f"round {round_no} of plan {plan.name!r} is not open for {rater}: open it first"
        )


def _live(conn: Connection, plan: Plan, rater: str, round_no: int, film_id: int) -> list[Any]:
    r = readings.c
    return list(conn.execute(
        select(readings).where(r.plan_id == plan.id, r.rater == rater, r.round == round_no,
                               r.film_id == film_id, r.deleted_utc.is_(None))
    ).mappings())  # fmt: skip


@dataclass(frozen=True)
class ReadingStore:
    """Writes one rater's reading of one film in one round of a plan (each call one
    audited transaction); the session's MeasurementStore in the reading view."""

    study: Study
    plan: Plan
    rater: str
    round_no: int
    film_id: int

    @property
    def kind(self) -> str:
        """``"adjudication"`` for the adjudication round, else ``"reading"``."""
        return "adjudication" if self.round_no == ADJUDICATION_ROUND else "reading"

    def save(self, m: CobbMeasurement, reason: str) -> None:
        """Save ``m`` as ``m.rater``'s reading of the film in this round (:func:`save_reading`).

        Raises :class:`ValidationError` when that rater may not read the film now or when the
        template is not the plan's template for the film's region.
        """
        save_reading(self.study, self.plan, self.round_no, self.film_id, m, reason=reason)

    def delete(self, measurement_id: str, reason: str) -> None:
        """Soft-delete the reading ``measurement_id`` (audited with ``reason``).

        Deleting an unknown or already deleted reading does nothing.
        """
        with self.study.transaction() as conn:
            old = _row(conn, measurement_id)
            if old is None or old["deleted_utc"] is not None:
                return
            _update(conn, self.study.actor, old, {"deleted_utc": audit_log.utc_now()}, reason)

    def restore(self, m: CobbMeasurement, reason: str) -> None:
        """Undo the soft deletion of the reading ``m``, storing its points (audited).

        Raises :class:`ValidationError` when the reading was never saved, when ``m.rater`` may not
        read the film in this round now (:func:`check_reading_allowed`), and when the film already
        has a live reading of that rater in this round.
        """
        with self.study.transaction() as conn:
            old = _row(conn, m.id)
            if old is None:
                raise ValidationError(None, f"reading {m.id} was never saved")
            check_reading_allowed(conn, self.plan, m.rater, self.round_no, self.film_id)
            if _live(conn, self.plan, m.rater, self.round_no, self.film_id):
                raise ValidationError(None, "this film already has a reading in this round")
            values = {**measurement_row(m), "deleted_utc": None}
            _update(conn, self.study.actor, old, values, reason)

    def set_facing(self, facing: Facing, source: FacingSource, reason: str) -> None:
        """The film's facing is a property of the film (not a value of the rater): stored
        on the film like in the viewer (audited; changing a known facing needs a reason)."""
        self.study.set_facing(self.film_id, facing, source, reason)


def _row(conn: Connection, reading_id: str) -> Mapping[str, Any] | None:
    row = conn.execute(select(readings).where(readings.c.id == reading_id)).mappings().first()
    return dict(row) if row is not None else None


def _update(
    conn: Connection, actor: audit_log.Actor, old: Mapping[str, Any], values: dict[str, Any],
    reason: str,
) -> None:  # fmt: skip
    changes = {k: (old[k], v) for k, v in values.items()
               if k not in ("updated_utc", "created_utc", "id") and old[k] != v}  # fmt: skip
    if not changes:
        return
    written = {k: v for k, (_, v) in changes.items()}
    if "updated_utc" in values:
        written["updated_utc"] = values["updated_utc"]
    conn.execute(
        readings.update().where(readings.c.id == old["id"])
        .values(**written, version=int(old["version"]) + 1)
    )  # fmt: skip
    audit_log.record(conn, actor, "reading", old["id"], changes, reason=reason)


def save_reading(
    study: Study, plan: Plan, round_no: int, film_id: int, m: CobbMeasurement, *, reason: str = ""
) -> bool:
    """Insert ``m`` as the reading of ``m.rater`` (module rules) or change that reading.

    Returns False when an identical reading is already stored.  Raises ValidationError.
    """
    study.check_rater(m.rater)
    with study.transaction() as conn:
        check_reading_allowed(conn, plan, m.rater, round_no, film_id)
        film = _film(conn, film_id)
        wanted = TEMPLATES.get(film["region"])
        if m.template.value != wanted:
            raise ValidationError(
                None, f"film {film_id} is read with {wanted} in this plan, not {m.template.value}"
            )
        row = {**measurement_row(m), "film_id": film_id, "plan_id": plan.id, "round": round_no,
               "kind": "adjudication" if round_no == ADJUDICATION_ROUND else "reading"}  # fmt: skip
        old = _row(conn, m.id)
        if old is None:
            live = _live(conn, plan, m.rater, round_no, film_id)
            if live:
                same = all(live[0][k] == v for k, v in row.items()
                           if k not in ("id", "created_utc", "updated_utc"))  # fmt: skip
                if same:
                    return False
                raise ValidationError(
                    None, f"{m.rater} already read film {film_id} in round {round_no}: adjust "
                    "that reading instead of adding another",
                )  # fmt: skip
            _unskip(conn, study.actor, plan, m.rater, round_no, film_id)
            conn.execute(readings.insert().values(**row))
            audit_log.record(conn, study.actor, "reading", m.id, inserted("reading", row),
                             reason=reason)  # fmt: skip
            return True
        _update(conn, study.actor, old, row, reason or "reading adjusted")
        return True


def _unskip(  # noqa: PLR0917 - the skip's address
    conn: Connection, actor: audit_log.Actor, plan: Plan, rater: str, round_no: int, film_id: int
) -> None:
    """A film read after all: its skip is withdrawn (audited)."""
    s = reading_skips.c
    for skip_id in conn.execute(
        select(s.id).where(s.plan_id == plan.id, s.rater == rater, s.round == round_no,
                           s.film_id == film_id, s.deleted_utc.is_(None))
    ).scalars():  # fmt: skip
        now = audit_log.utc_now()
        conn.execute(reading_skips.update().where(s.id == skip_id).values(deleted_utc=now))
        audit_log.record(conn, actor, "reading_skip", skip_id, {"deleted_utc": (None, now)},
                         reason="the film was read after all")  # fmt: skip


def skip_film(  # noqa: PLR0917 - plan, rater, round, film: the skip's address
    study: Study, plan: Plan, rater: str, round_no: int, film_id: int, reason: str
) -> str | None:
    """Skip a worklist film with a reason (e.g. "C7 not visible"); ValidationError without a
    reason, off the worklist, in a closed round, or when the film is already read.

    Returns None when the skip is recorded, or the reason stored earlier when the film is
    already skipped in this round (nothing is written: one skip, its first reason)."""
    why = reason.strip()
    if not why:
        raise ValidationError(None, "skipping a film needs a reason")
    study.check_rater(rater)
    with study.transaction() as conn:
        check_reading_allowed(conn, plan, rater, round_no, film_id)
        if _live(conn, plan, rater, round_no, film_id):
            raise ValidationError(None, f"film {film_id} is already read in this round")
        s = reading_skips.c
        done = conn.execute(select(s.reason).where(
            s.plan_id == plan.id, s.rater == rater, s.round == round_no, s.film_id == film_id,
            s.deleted_utc.is_(None))).first()  # fmt: skip
        if done is not None:
            return str(done.reason)
        values = {"plan_id": plan.id, "rater": rater, "round": round_no, "film_id": film_id,
                  "reason": why}  # fmt: skip
        skip_id = conn.execute(
            reading_skips.insert().values(**values, created_utc=audit_log.utc_now())
        ).inserted_primary_key[0]  # type: ignore[index]
        audit_log.record(conn, study.actor, "reading_skip", skip_id,
                         inserted("reading_skip", values), reason=why)  # fmt: skip
    return None


def own_readings(
    study: Study, plan: Plan, rater: str, round_no: int, film_id: int
) -> list[CobbMeasurement]:
    """The rater's live reading of the film in this round only (what a blinded view loads)."""
    with study.engine.connect() as conn:
        rows = _live(conn, plan, rater, round_no, film_id)
        film = _film(conn, film_id)
    return [measurement_from_row(r, film["sop_instance_uid"], film["pixel_sha256"]) for r in rows]


def plan_readings(study: Study, plan: Plan) -> list[dict[str, Any]]:
    """Every live reading of the plan: ``film_id, region, patient_id, rater, round, kind,
    angle_deg`` (for the statistics and the adjudication list)."""
    with study.engine.connect() as conn:
        return reading_rows(conn, plan)


__all__ = [
    "ReadingStore",
    "check_reading_allowed",
    "own_readings",
    "plan_readings",
    "reading_rows",
    "save_reading",
    "skip_film",
]
