"""The team's progress as one viewer may see it: clinical counts per rater, and each reading
plan's rounds — blinded where the plan blinds.

**What a blinded plan hides, and why even counts.**  A plan whose blinding includes
``other_raters`` (on by default, :data:`~cobbdesk.core.reading.plan.BLINDING`) promises that
its raters do not see other raters' readings.  Values are obviously hidden, but so must be
the *counts* of other raters' progress: every worklist order is reproducible from the plan's
stored seed, the rater's name and the round
(:func:`~cobbdesk.core.reading.worklist.worklist_order`), and raters work down their list, so
"B: 41 of 96 done" tells A which 41 films B has read; skips name films B found unreadable;
the adjudication list's length is the number of films on which the raters' round-1 *values*
differ by more than the threshold.  So, for a **participant** of a blinding plan (the
viewer's rater name or database role is one of the plan's raters or its adjudicator):

* the viewer's own rounds are shown (done, skipped, total, opened);
* every other rater's round, and the adjudication round unless the viewer is the
  adjudicator, is left out — it is never read from the database (the queries filter on the
  viewer's names) — and the plan carries ``hidden=True``, shown as "other raters' progress
  hidden by plan X";
* nothing else of the plan is shown (no last-activity time of readings, no film, value,
  patient or date).

A viewer outside the plan (a coordinator), or any viewer of a plan created with
``other_raters`` off, sees every rater's counts — counts only, never values or films.
Clinical progress (:mod:`cobbdesk.core.store.progress`) counts clinical measurements, which
readings never touch, and is shown to everyone.

Blinding here is the protocol's, not a security boundary: a rater who types another name in
the measurement panel is another viewer; on a server, the database role is always one of the
viewer's names, so a rater logged in as their own role stays blinded whatever name they type.

The command line applies the same rules (:func:`visible_status`, :func:`check_worklist_viewer`,
:func:`study_viewer`): ``plan status`` shows a participant only their own rounds and the note,
``plan worklist``/``plan skip`` of another rater's list are refused.  The viewer there is the
``--actor`` name and, on a server, the database role; a file cannot prove who is typing, so on a
file the blinding holds only for a rater who gives their own name.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Table, and_, func, not_, or_, select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.reading.adjudication import RoundStatus, adjudication_films, plan_status
from cobbdesk.core.reading.plan import ADJUDICATION_ROUND, Plan, list_plans
from cobbdesk.core.store.progress import RaterClinical, clinical_progress
from cobbdesk.core.store.schema import plan_items, plan_rounds, reading_skips, readings
from cobbdesk.core.store.study import Study

_Key = tuple[int, str, int]  # plan id, rater, round


@dataclass(frozen=True)
class RoundProgress:
    """One rater × round of a plan: films read (``done``), skipped, on the list (``total``),
    whether the round was opened.  ``round`` 0 is the adjudication round."""

    rater: str
    round: int
    done: int
    skipped: int
    total: int
    opened: bool

    @property
    def remaining(self) -> int:
        """``total − done − skipped``."""
        return self.total - self.done - self.skipped


@dataclass(frozen=True)
class PlanProgress:
    """A plan's rounds the viewer may see; ``hidden``: other raters' rounds were left out."""

    plan: str
    rounds: tuple[RoundProgress, ...]
    hidden: bool = False

    @property
    def note(self) -> str:
        """The line standing for what the plan hides ("" when nothing is hidden)."""
        return f"other raters' progress hidden by plan {self.plan}" if self.hidden else ""


@dataclass(frozen=True)
class TeamProgress:
    """What the Raters panel shows: clinical progress per rater and each plan's rounds."""

    clinical: tuple[RaterClinical, ...]
    plans: tuple[PlanProgress, ...]


def participants(plan: Plan) -> set[str]:
    """The plan's raters and its adjudicator (when it has adjudication)."""
    people = set(plan.raters)
    if plan.adjudicate_above_deg is not None and plan.adjudicator:
        people.add(plan.adjudicator)
    return people


def blinds(plan: Plan, viewer: Collection[str]) -> bool:
    """True when ``plan`` hides other raters from ``viewer`` (module rules)."""
    return bool(plan.blinding.get("other_raters", True)) and bool(participants(plan) & set(viewer))


def viewer_names(rater: str, role: str = "") -> frozenset[str]:
    """The names a viewer is known by: the rater name and (on a server) the database role."""
    return frozenset(n.strip() for n in (rater, role) if n and n.strip())


def _visible(table: Table, blinded: Iterable[int], viewer: Collection[str]) -> ColumnElement[bool]:
    """Rows of unblinded plans, or the viewer's own rows (the hidden ones are never read)."""
    c = table.c
    ids = list(blinded)
    if not ids:
        return c.plan_id.is_not(None)
    return or_(c.plan_id.not_in(ids), c.rater.in_(sorted(viewer)))


def _counts(
    conn: Connection, blinded: list[int], viewer: Collection[str]
) -> dict[str, dict[_Key, int]]:
    """``total`` (worklist films), ``done`` (films with a live reading) and ``skipped`` (live
    skips of films not read) per visible plan × rater × round (rounds ≥ 1)."""
    i, r, s = plan_items.c, readings.c, reading_skips.c
    keys = (i.plan_id, i.rater, i.round)
    total = select(*keys, func.count()).where(_visible(plan_items, blinded, viewer)).group_by(*keys)
    read = (
        select(r.plan_id, r.rater, r.round, func.count(func.distinct(r.film_id)))
        .where(r.deleted_utc.is_(None), r.round != ADJUDICATION_ROUND,
               _visible(readings, blinded, viewer))
        .group_by(r.plan_id, r.rater, r.round)
    )  # fmt: skip
    also_read = select(r.id).where(
        r.plan_id == s.plan_id, r.rater == s.rater, r.round == s.round, r.film_id == s.film_id,
        r.deleted_utc.is_(None),
    ).exists()  # fmt: skip
    skipped = (
        select(s.plan_id, s.rater, s.round, func.count(func.distinct(s.film_id)))
        .where(s.deleted_utc.is_(None), s.round != ADJUDICATION_ROUND, not_(also_read),
               _visible(reading_skips, blinded, viewer))
        .group_by(s.plan_id, s.rater, s.round)
    )  # fmt: skip
    return {
        name: {(int(p), str(who), int(n)): int(k) for p, who, n, k in conn.execute(query)}
        for name, query in (("total", total), ("done", read), ("skipped", skipped))
    }


def _opened(conn: Connection, blinded: list[int], viewer: Collection[str]) -> set[_Key]:
    c = plan_rounds.c
    query = select(c.plan_id, c.rater, c.round).where(_visible(plan_rounds, blinded, viewer))
    return {(int(p), str(who), int(n)) for p, who, n in conn.execute(query)}


def _adjudication(conn: Connection, plan: Plan, opened: set[_Key]) -> RoundProgress:
    """The adjudicator's round: films on the list, read and skipped there."""
    who = plan.adjudicator or ""
    listed = set(adjudication_films(conn, plan))
    r, s = readings.c, reading_skips.c
    mine = and_(r.plan_id == plan.id, r.rater == who, r.round == ADJUDICATION_ROUND,
                r.deleted_utc.is_(None))  # fmt: skip
    read = {int(f) for f in conn.execute(select(r.film_id).where(mine)).scalars()} & listed
    skips = select(s.film_id).where(
        s.plan_id == plan.id, s.rater == who, s.round == ADJUDICATION_ROUND, s.deleted_utc.is_(None)
    )
    skipped = {int(f) for f in conn.execute(skips).scalars()} & listed - read
    return RoundProgress(who, ADJUDICATION_ROUND, len(read), len(skipped), len(listed),
                         (plan.id, who, ADJUDICATION_ROUND) in opened)  # fmt: skip


def plan_progress(
    conn: Connection, plans: list[Plan], viewer: Collection[str]
) -> list[PlanProgress]:
    """Each plan's rounds as ``viewer`` may see them (module rules), plans in the given order."""
    blinded = [p.id for p in plans if blinds(p, viewer)]
    counts = _counts(conn, blinded, viewer)
    opened = _opened(conn, blinded, viewer)
    done, skipped = counts["done"], counts["skipped"]
    result = []
    for plan in plans:
        hidden = plan.id in blinded
        rounds = [
            RoundProgress(rater, n, done.get(key, 0), skipped.get(key, 0), total, key in opened)
            for rater in plan.raters
            for n in range(1, plan.rounds + 1)
            if (total := counts["total"].get(key := (plan.id, rater, n))) is not None
        ]
        has_adjudication = plan.adjudicate_above_deg is not None and bool(plan.adjudicator)
        if has_adjudication and (not hidden or plan.adjudicator in viewer):
            rounds.append(_adjudication(conn, plan, opened))
        result.append(PlanProgress(plan.name, tuple(rounds), hidden))
    return result


def team_progress(study: Study, viewer: Collection[str]) -> TeamProgress:
    """Clinical progress per rater and every live plan's rounds as ``viewer`` (the names of
    :func:`viewer_names`) may see them, read in one snapshot."""
    plans = list_plans(study)
    with study.engine.connect() as conn, conn.begin():
        clinical = clinical_progress(conn)
        rounds = plan_progress(conn, plans, viewer)
    return TeamProgress(tuple(clinical), tuple(rounds))


def study_viewer(study: Study) -> frozenset[str]:
    """The viewer of a command-line session: its rater (``--actor``) name and, on a server,
    the database role (``current_user``), which a rater cannot change by typing a name."""
    role = study.actor.user if study.server is not None else ""
    return viewer_names(study.actor.rater, role)


def visible_status(
    study: Study, plan: Plan, viewer: Collection[str]
) -> tuple[list[RoundStatus], str]:
    """``plan_status`` rows ``viewer`` may see (module rules: a participant of a plan blinding
    other raters gets only their own rounds, the adjudication round only as its adjudicator)
    and the note standing for the rest ("" when nothing is hidden)."""
    rows = plan_status(study, plan)
    if not blinds(plan, viewer):
        return rows, ""
    return [r for r in rows if r.rater in viewer], PlanProgress(plan.name, (), True).note


def check_worklist_viewer(plan: Plan, viewer: Collection[str], rater: str, round_no: int) -> None:
    """ValidationError when ``viewer``, a participant of a plan blinding other raters, asks
    for another rater's worklist (round 0: the adjudicator's list, which reveals where the
    raters' values differ)."""
    if not blinds(plan, viewer):
        return
    owner = (plan.adjudicator or "") if round_no == ADJUDICATION_ROUND else rater
    if owner not in viewer:
        names = " / ".join(sorted(viewer))
        raise ValidationError(None, f"plan {plan.name} blinds other raters: {names} may open "
                              f"only their own worklist, not {owner or 'the adjudicator'}'s")


__all__ = [
    "PlanProgress",
    "RoundProgress",
    "TeamProgress",
    "blinds",
    "check_worklist_viewer",
    "participants",
    "plan_progress",
    "study_viewer",
    "team_progress",
    "viewer_names",
    "visible_status",
]
