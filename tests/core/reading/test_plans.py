"""Reading plans: worklists, washout, readings kept apart from clinical data, skips,
adjudication and the plan's ICCs against R psych::ICC.

R constants (R 4.2.2, psych 2.2.9, Debian r-cran-psych), computed once with::

    r <- ICC(cbind(a1, b1), lmer = FALSE)$results   # and (a1, a2), (b1, b2)
    r["Single_random_raters", c("ICC", "lower bound", "upper bound")]
    r["Average_random_raters", c("ICC", "lower bound", "upper bound")]

and checked by hand in R from the two-way ANOVA mean squares (Shrout & Fleiss 1979 ICC(2,1)
= (MSR − MSE)/(MSR + (k − 1)MSE + k(MSC − MSE)/n); ICC(2,k) = (MSR − MSE)/(MSR + (MSC − MSE)/n)),
which agreed to 12 decimals.  Bland–Altman: mean(a1 − b1) and sd(a1 − b1) in R.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.reading.adjudication import (
    adjudication_list,
    consensus_readings,
    plan_status,
)
from cobbdesk.core.reading.plan import PlanSpec, create_plan, get_plan
from cobbdesk.core.reading.readings import save_reading, skip_film
from cobbdesk.core.reading.rounds import WashoutError, open_round, worklist
from cobbdesk.core.reading.stats import plan_statistics, summary_lines
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import audit, plan_rounds
from tests.core.reading.helpers import A1, A2, B1, B2, make_study, reading

R_INTER = (0.948686311511, 0.786561988794, 0.989311174870)
R_INTER_K = (0.973667548140, 0.880531427096, 0.994626871218)
R_INTRA_A = (0.986594755149, 0.934799209832, 0.997301745861)
R_INTRA_B = (0.983029996020, 0.917863945731, 0.996580719746)
R_BA_INTER = (-1.0, 2.464026901523)  # bias, SD of a1 − b1
R_BA_INTRA_A = (0.0625, 1.321187236650)  # bias, SD of a2 − a1


@pytest.fixture
def study(tmp_path: Path) -> Study:
    s = make_study(tmp_path / "plan.cobbdesk")
    yield s
    s.close()


def _spec(**kw: object) -> PlanSpec:
    base = {
        "name": "rel",
        "raters": ("A", "B"),
        "rounds": 2,
        "washout_days": 14,
        "seed": 42,
        "region": "cervical",
    }
    return PlanSpec(**{**base, **kw})  # type: ignore[arg-type]


def _read_round(study: Study, plan, rater: str, round_no: int, values, *, now=None) -> None:
    open_round(study, plan, rater, round_no, now=now)
    films = {f.id: f for f in study.films()}
    for item in worklist(study, plan, rater, round_no):
        value = values[item.film_id - 1]  # film ids are 1..8 in creation order
        sop = films[item.film_id].sop_instance_uid
        save_reading(study, plan, round_no, item.film_id, reading(value, rater, sop))


def test_worklists_are_seeded_distinct_and_keep_patients_apart(study: Study) -> None:
    plan = create_plan(study, _spec())
    orders = {
        (r, n): [i.film_id for i in worklist(study, plan, r, n)] for r in ("A", "B") for n in (1, 2)
    }
    assert all(sorted(o) == list(range(1, 9)) for o in orders.values())
    assert len({tuple(o) for o in orders.values()}) == 4  # every rater × round differs
    patient = {f.id: f.visit_id for f in study.films()}
    visits = {v.id: p.id for p in study.patients() for v in study.visits(p.id)}
    for order in orders.values():
        owners = [visits[patient[f]] for f in order]
        assert all(a != b for a, b in itertools.pairwise(owners))
    again = create_plan(study, _spec(name="rel2"))  # same seed: same orders
    assert [i.film_id for i in worklist(study, again, "A", 1)] == orders[("A", 1)]
    other = create_plan(study, _spec(name="rel3", seed=43))
    assert [i.film_id for i in worklist(study, other, "A", 1)] != orders[("A", 1)]


def test_blinded_worklist_items_carry_no_identifier(study: Study) -> None:
    plan = create_plan(study, _spec())
    text = repr(worklist(study, plan, "A", 1))
    for secret in ("P001", "Doe", "MRN", "1960", "2026", "admission", "month3"):
        assert secret not in text


def test_washout_is_enforced_and_its_override_audited(study: Study) -> None:
    plan = create_plan(study, _spec())
    with pytest.raises(WashoutError, match="not finished round 1"):
        open_round(study, plan, "A", 2)
    _read_round(study, plan, "A", 1, A1)
    now = datetime.now(UTC)
    with pytest.raises(WashoutError, match="14 day"):
        open_round(study, plan, "A", 2, now=now + timedelta(days=13, hours=23))
    film = worklist(study, plan, "A", 2)[0].film_id
    with pytest.raises(ValidationError, match="not open"):
        save_reading(study, plan, 2, film, reading(10.0, "A", "x"))
    assert open_round(study, plan, "A", 2, now=now + timedelta(days=14, minutes=1))
    # B overrides after 2 days: stored with the round and audited with the reason
    _read_round(study, plan, "B", 1, B1)
    assert open_round(
        study, plan, "B", 2, override_reason="rater leaves the unit", now=now + timedelta(days=2)
    )
    with study.engine.connect() as conn:
        stored = conn.execute(
            select(plan_rounds.c.override_reason).where(
                plan_rounds.c.rater == "B", plan_rounds.c.round == 2
            )
        ).scalar()
        query = select(audit.c.reason).where(audit.c.entity == "plan_round")
        reasons = conn.execute(query).scalars()
        reasons = sorted({r for r in reasons if r})
    assert stored == "rater leaves the unit"
    assert len(reasons) == 1 and reasons[0].startswith("washout overridden: rater leaves the unit")
    assert study.verify_integrity().ok


def test_readings_never_touch_clinical_data(study: Study) -> None:
    plan = create_plan(study, _spec())
    film = study.films()[0]
    clinical = reading(20.0, "A", film.sop_instance_uid)
    study.save_measurement(film.id, clinical)
    overview_before = study.overview()
    _read_round(study, plan, "A", 1, A1)
    assert [m.id for m in study.measurements()] == [clinical.id]
    assert study.measurements()[0].angle == pytest.approx(20.0)
    assert study.overview() == overview_before
    from cobbdesk.core.export.dataset import load_long

    long = load_long(study)
    assert sorted(set(long["rater"]) - {""}) == ["A"]
    assert long["cervical_cobb"].dropna().tolist() == pytest.approx([20.0])
    assert study.verify_integrity().ok


def test_worklist_rules_on_save(study: Study) -> None:
    plan = create_plan(study, _spec(raters=("A", "B"), rounds=1))
    open_round(study, plan, "A", 1)
    film = study.films()[0]
    with pytest.raises(ValidationError, match="not a rater"):
        open_round(study, plan, "Z", 1)
    with pytest.raises(ValidationError, match="read with C2-C7"):
        save_reading(study, plan, 1, film.id, reading(5.0, "A", film.sop_instance_uid, "L1-S1"))
    save_reading(study, plan, 1, film.id, reading(5.0, "A", film.sop_instance_uid))
    with pytest.raises(ValidationError, match="already read"):
        save_reading(study, plan, 1, film.id, reading(6.0, "A", film.sop_instance_uid))
    with pytest.raises(ValidationError, match="not open"):
        save_reading(study, plan, 1, film.id, reading(6.0, "B", film.sop_instance_uid))


def test_skips_are_counted_with_reasons(study: Study) -> None:
    plan = create_plan(study, _spec(rounds=1))
    open_round(study, plan, "A", 1)
    items = worklist(study, plan, "A", 1)
    with pytest.raises(ValidationError, match="needs a reason"):
        skip_film(study, plan, "A", 1, items[0].film_id, " ")
    assert skip_film(study, plan, "A", 1, items[0].film_id, "C7 not visible") is None
    assert skip_film(study, plan, "A", 1, items[1].film_id, "unreadable film") is None
    # skipping again: nothing written, the first reason is kept and returned
    assert skip_film(study, plan, "A", 1, items[1].film_id, "motion blur") == "unreadable film"
    status = {(s.rater, s.round): s for s in plan_status(study, plan)}
    a1 = status[("A", 1)]
    assert (a1.total, a1.read, a1.skipped, a1.remaining) == (8, 0, 2, 6)
    assert a1.skip_reasons == {"C7 not visible": 1, "unreadable film": 1}
    assert not status[("B", 1)].opened


def test_plan_iccs_equal_r_psych(study: Study) -> None:
    plan = create_plan(study, _spec())
    start = datetime.now(UTC)
    for rater, first, second in (("A", A1, A2), ("B", B1, B2)):
        _read_round(study, plan, rater, 1, first)
        _read_round(study, plan, rater, 2, second, now=start + timedelta(days=15))
    stats = plan_statistics(study, plan)
    (cervical,) = stats.regions
    inter = cervical.inter
    assert inter is not None
    got = (inter.icc.icc, inter.icc.ci_low, inter.icc.ci_high)
    assert got == pytest.approx(R_INTER, abs=1e-9)
    assert (inter.icc_ak, *inter.icc_ak_ci) == pytest.approx(R_INTER_K, abs=1e-9)
    intra = {a.label: a for a in cervical.intra}
    a, b = intra["intra-rater A"], intra["intra-rater B"]
    assert (a.icc.icc, a.icc.ci_low, a.icc.ci_high) == pytest.approx(R_INTRA_A, abs=1e-9)
    assert (b.icc.icc, b.icc.ci_low, b.icc.ci_high) == pytest.approx(R_INTRA_B, abs=1e-9)
    (ba,) = inter.bland_altman
    assert (ba.a_name, ba.b_name, ba.bias, ba.sd_diff) == pytest.approx(("A", "B", *R_BA_INTER))
    (ba_a,) = a.bland_altman
    assert (ba_a.a_name, ba_a.bias, ba_a.sd_diff) == pytest.approx(("round 2", *R_BA_INTRA_A))
    # SEM = SD·√(1 − ICC), SD the sample SD of all 16 round-1 ratings (Weir 2005)
    import statistics

    sd = statistics.stdev(A1 + B1)
    assert inter.sem == pytest.approx(sd * (1 - R_INTER[0]) ** 0.5)
    assert inter.mdc95 == pytest.approx(1.96 * 2**0.5 * inter.sem)
    assert (stats.films, stats.readings, stats.skips) == (8, 32, 0)
    text = "\n".join(summary_lines(stats))
    assert "ICC(A,1) 0.949 [95% CI 0.787, 0.989]" in text


def test_mdc_note_names_changes_within_error(study: Study) -> None:
    plan = create_plan(study, _spec(rounds=1))
    _read_round(study, plan, "A", 1, A1)
    _read_round(study, plan, "B", 1, B1)
    stats = plan_statistics(study, plan, {"cervical": [1.0, -2.0, 40.0, None]})
    mdc = stats.regions[0].inter.mdc95
    assert stats.regions[0].mdc_note.startswith("2 of 3 patients' month-3 change")
    assert f"{mdc:.1f}°" in stats.regions[0].mdc_note


def test_adjudication_and_consensus(study: Study) -> None:
    plan = create_plan(study, _spec(rounds=1, adjudicate_above=3.0, adjudicator="C"))
    _read_round(study, plan, "A", 1, A1)
    _read_round(study, plan, "B", 1, B1)
    # |A1 − B1| > 3 for films 3 (3.5), 6 (3.0 is not above), 8 (3.5)
    items = adjudication_list(study, plan)
    assert sorted(i.film_id for i in items) == [3, 8]
    consensus = consensus_readings(study, plan)
    assert 3 not in consensus and consensus[1] == pytest.approx((12.0 + 14.0) / 2)
    with pytest.raises(ValidationError, match="not the adjudicator"):
        open_round(study, plan, "A", 0)
        save_reading(study, plan, 0, 3, reading(26.0, "A", "x"))
    open_round(study, plan, "C", 0)
    films = {f.id: f.sop_instance_uid for f in study.films()}
    save_reading(study, plan, 0, 3, reading(26.0, "C", films[3]))
    assert consensus_readings(study, plan)[3] == pytest.approx(26.0)
    with pytest.raises(ValidationError, match="not on the adjudication list"):
        save_reading(study, plan, 0, 1, reading(26.0, "C", films[1]))
    status = {(s.rater, s.round): s for s in plan_status(study, plan)}
    assert (status[("C", 0)].total, status[("C", 0)].read) == (2, 1)


def test_plan_spec_is_checked(study: Study) -> None:
    with pytest.raises(ValidationError, match="at least one round"):
        create_plan(study, _spec(rounds=0))
    with pytest.raises(ValidationError, match="larger than the 4"):
        create_plan(study, _spec(sample=5))
    with pytest.raises(ValidationError, match="no lumbar films"):
        create_plan(study, _spec(region="lumbar"))
    plan = create_plan(study, _spec(sample=2))
    assert len(worklist(study, plan, "A", 1)) == 4 and get_plan(study, "rel").sample_patients == 2
    with pytest.raises(ValidationError, match="already a reading plan"):
        create_plan(study, _spec())
