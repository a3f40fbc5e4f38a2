"""Each rater's progress (the Raters panel's data), on SQLite and PostgreSQL, with blinding.

The study (tests/core/reading/helpers.make_study): 4 patients × (admission, month 3) × (cervical,
lumbar) films; film id = 4·patient + 2·visit + region + 1 (patient 0–3, visit 0 admission /
1 month 3, region 0 cervical / 1 lumbar).  Two raters write from two connections (on the
server as two database roles); every expected count below is worked out by hand in the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import update

from cobbdesk.core.reading.adjudication import plan_status
from cobbdesk.core.reading.plan import BLINDING, PlanSpec, create_plan
from cobbdesk.core.reading.progress import blinds, team_progress, viewer_names
from cobbdesk.core.reading.readings import save_reading, skip_film
from cobbdesk.core.reading.rounds import open_round, worklist
from cobbdesk.core.store import Study, pg_dialect, pg_url
from cobbdesk.core.store.schema import films
from tests.core.reading.helpers import make_study, reading

CERV, LUMB = "C2-C7", "L1-S1"


def film_id(patient: int, visit: int, region: int) -> int:
    return 4 * patient + 2 * visit + region + 1


@pytest.fixture
def places(study_location: Callable[[str], object], request: pytest.FixtureRequest) -> Iterator[
    tuple[object, object, object]
]:  # fmt: skip
    """(owner's location, rater A's, rater B's): one file, or one server schema with two
    login roles in the rater group (each rater connects as their own role).  A rater role
    saves only under its own name (pg_dialect's own-rater trigger), so the roles are named
    ``A`` and ``B``, shared by the session's studies (rights come through the group)."""
    where = study_location("progress.cobbdesk")
    make_study(where, patients=4, regions=("cervical", "lumbar")).close()  # type: ignore[arg-type]
    if not isinstance(where, str):
        yield where, where, where
        return
    cluster = request.getfixturevalue("pg_cluster")
    loc = pg_url.parse(where)
    with Study.open(where) as owner, owner.transaction() as conn:
        pg_dialect.create_rater_role(conn, loc.database, loc.schema)
    urls = []
    for role in ("A", "B"):
        cluster.sql(f"DO $$ BEGIN CREATE ROLE \"{role}\" LOGIN IN ROLE cobbdesk_rater; "
                    "EXCEPTION WHEN duplicate_object THEN NULL; END $$")  # fmt: skip
        urls.append(where.replace(f"{loc.user}@", f"{role}@"))
    yield where, urls[0], urls[1]


def _measure(study: Study, rater: str, fid: int, template: str, angle: float = 20.0) -> str:
    film = study.film(fid)
    m = reading(angle, rater, film.sop_instance_uid, template)
    study.save_measurement(fid, m)
    return m.id


def test_clinical_progress_of_two_raters_writing(places: tuple[Any, Any, Any]) -> None:
    owner, at_a, at_b = places
    with Study.open(at_a, actor="A") as a, Study.open(at_b, actor="B") as b:
        for patient, visit in ((0, 0), (0, 1), (1, 0), (1, 1)):  # cervical pairs: 0 and 1
            _measure(a, "A", film_id(patient, visit, 0), CERV)
        _measure(a, "A", film_id(0, 0, 1), LUMB)  # lumbar admission only: no pair
        _measure(a, "A", film_id(0, 0, 0), CERV, 25.0)  # a second one on a measured film
        for visit in (0, 1):  # C2-C7 on lumbar films: films measured, never a lumbar pair
            _measure(a, "A", film_id(2, visit, 1), CERV)
        for patient, visit in ((3, 0), (3, 1), (1, 0), (1, 1)):
            _measure(b, "B", film_id(patient, visit, 1), LUMB)
        b_done = datetime.now(UTC)
        gone = a.measurements(film_id(1, 1, 0))[0].id
        a.delete_measurement(gone, "wrong film")  # patient 1 loses A's cervical pair
        a_done = datetime.now(UTC)
    with Study.open(owner) as study:
        with study.transaction() as conn:  # a deleted film's measurements no longer count
            conn.execute(update(films).where(films.c.id == film_id(3, 1, 1))
                         .values(deleted_utc="2026-01-01T00:00:00Z"))  # fmt: skip
        team = team_progress(study, viewer_names("coordinator"))
    by_rater = {r.rater: r for r in team.clinical}
    assert set(by_rater) == {"A", "B"} and team.plans == ()
    ra, rb = by_rater["A"], by_rater["B"]
    # A: live films 1, 3 (p0 cervical), 5 (p1 cervical adm; 7 deleted), 2 (p0 lumbar adm),
    # 10 and 12 (p2 lumbar, C2-C7); 8 measurements saved, 1 deleted
    assert (ra.films_measured, ra.measurements) == (6, 7)
    assert ra.both_visits == {"cervical": 1, "lumbar": 0}
    # B: lumbar films 14, 16 (p3), 6, 8 (p1); film 16 deleted: only p1 is a lumbar pair
    assert (rb.films_measured, rb.measurements) == (3, 3)
    assert rb.both_visits == {"cervical": 0, "lumbar": 1}
    assert ra.last_activity is not None and rb.last_activity is not None
    assert b_done < ra.last_activity <= a_done  # A's deletion is A's latest activity
    assert rb.last_activity <= b_done


def _read(
    study: Study, plan: Any, rater: str, values: Callable[[int], float], count: int
) -> list[int]:
    """``rater`` reads the first ``count`` films of their round-1 list; the film ids read."""
    open_round(study, plan, rater, 1)
    items = worklist(study, plan, rater, 1)[:count]
    for item in items:
        m = reading(values(item.film_id), rater, item.sop_instance_uid)
        save_reading(study, plan, 1, item.film_id, m)
    return [i.film_id for i in items]


def test_plan_progress_is_blinded_for_participants(places: tuple[Any, Any, Any]) -> None:
    owner, at_a, at_b = places
    with Study.open(owner, actor="coordinator") as study:
        spec = PlanSpec("rel", ("A", "B"), rounds=2, washout_days=0, seed=5, region="cervical",
                        adjudicate_above=2.0, adjudicator="C")  # fmt: skip
        plan = create_plan(study, spec)
        open_plan = create_plan(study, PlanSpec(
            "open", ("A", "B"), rounds=1, seed=6, region="cervical",
            blinding={**dict.fromkeys(BLINDING, True), "other_raters": False}))  # fmt: skip
    with Study.open(at_a, actor="A") as a, Study.open(at_b, actor="B") as b:
        read_by_a = _read(a, plan, "A", lambda _f: 10.0, 3)
        skip_film(a, plan, "A", 1, worklist(a, plan, "A", 1)[3].film_id, "C7 not visible")
        far = set(read_by_a[:2])  # B differs by 10° on two of A's films, by 0.5° elsewhere
        _read(b, plan, "B", lambda f: 20.0 if f in far else 10.5, 8)
        _read(b, open_plan, "B", lambda _f: 10.0, 2)
    with Study.open(owner) as study:
        coordinator = team_progress(study, viewer_names("coordinator"))
        as_a = team_progress(study, viewer_names("A"))
        as_c = team_progress(study, viewer_names("C"))
        truth = {(s.rater, s.round): s for s in plan_status(study, plan)}
    rel, _unblinded = coordinator.plans
    assert not rel.hidden and rel.note == ""
    rows = {(r.rater, r.round): (r.done, r.skipped, r.total, r.opened) for r in rel.rounds}
    assert rows == {("A", 1): (3, 1, 8, True), ("A", 2): (0, 0, 8, False),
                    ("B", 1): (8, 0, 8, True), ("B", 2): (0, 0, 8, False),
                    ("C", 0): (0, 0, 2, False)}  # fmt: skip
    assert rows == {k: (s.read, s.skipped, s.total, s.opened) for k, s in truth.items()}
    # A is a rater of the blinded plan: own rounds only, no adjudication (its length is the
    # number of films on which A's and B's values differ), the plan marked hidden
    rel_a, open_a = as_a.plans
    assert rel_a.hidden and rel_a.note == "other raters' progress hidden by plan rel"
    assert [(r.rater, r.round, r.done, r.skipped) for r in rel_a.rounds] == [
        ("A", 1, 3, 1), ("A", 2, 0, 0)]  # fmt: skip
    # the plan without other-rater blinding shows B's progress to A
    assert not open_a.hidden
    assert {(r.rater, r.done) for r in open_a.rounds} == {("A", 0), ("B", 2)}
    # the adjudicator sees their own list only
    rel_c = as_c.plans[0]
    assert rel_c.hidden and [(r.rater, r.total) for r in rel_c.rounds] == [("C", 2)]
    assert as_a.clinical == coordinator.clinical  # clinical counts are not blinded


def test_the_database_role_is_one_of_the_viewers_names() -> None:
    from cobbdesk.core.reading.plan import Plan

    plan = Plan(1, "p", "both", None, 0, ("ann", "bob"), 1, 0, None, None, False,
                dict.fromkeys(BLINDING, True), "")  # fmt: skip
    assert viewer_names(" Dr A ", "ann") == {"Dr A", "ann"}
    assert blinds(plan, viewer_names("Dr A", "ann"))  # typed another name, still ann
    assert not blinds(plan, viewer_names("coordinator", "owner"))
    unblinded = Plan(**{**plan.__dict__, "blinding": {"other_raters": False}})
    assert not blinds(unblinded, viewer_names("ann"))
