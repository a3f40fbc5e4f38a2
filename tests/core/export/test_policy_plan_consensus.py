"""The ``consensus`` rater policy reads a reading plan's consensus readings (#14).

Hand-made expectation: with A1/B1 of tests/core/reading/helpers and a 3° threshold, films 3
(|25.0 − 28.5| = 3.5) and 8 (|27.0 − 30.5| = 3.5) go to the adjudicator (film 6 differs by
exactly 3.0: not above).  The adjudicator reads film 3 as 26.0 and has not read film 8 yet, so
film 3 is 26.0, film 8 has no consensus, and every other film is the mean of A and B.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cobbdesk.core.export.dataset import load_long
from cobbdesk.core.export.policy import (
    RaterPolicyError,
    apply_policy,
    parse_policy,
    resolve,
    study_raters,
)
from cobbdesk.core.reading.plan import PlanSpec, create_plan
from cobbdesk.core.reading.readings import save_reading
from cobbdesk.core.reading.rounds import open_round
from cobbdesk.core.store import Study
from tests.core.reading.helpers import A1, B1, make_study, reading
from tests.core.reading.test_plans import _read_round


def _sop(study: Study, film_id: int) -> str:
    return next(f.sop_instance_uid for f in study.films() if f.id == film_id)


def test_consensus_policy_uses_the_plans_consensus_readings(tmp_path: Path) -> None:
    study = make_study(tmp_path / "c.cobbdesk")
    try:
        study.save_measurement(1, reading(45.0, "A", _sop(study, 1)))  # clinical: not used
        spec = PlanSpec("rel", ("A", "B"), rounds=1, washout_days=0, seed=3,
                        region="cervical", adjudicate_above=3.0, adjudicator="C")  # fmt: skip
        plan = create_plan(study, spec)
        _read_round(study, plan, "A", 1, A1)
        _read_round(study, plan, "B", 1, B1)
        open_round(study, plan, "C", 0)
        save_reading(study, plan, 0, 3, reading(26.0, "C", _sop(study, 3)))
        policy = resolve(study, parse_policy("consensus"), study_raters(study))
        assert (policy.kind, policy.rater, policy.plan) == ("consensus", "C", "rel")
        assert policy.label == "consensus (plan rel)" and "reading plan rel" in policy.describe()
        frame = apply_policy(load_long(study), policy)
    finally:
        study.close()
    got = {(r.record_id, r.event): r.cervical_cobb for r in frame.itertuples()}
    assert len(got) == 8 and len(frame) == 8
    for film_id in range(1, 9):  # film id 2p + v + 1: patient p, visit v
        key = (f"P{(film_id - 1) // 2 + 1:03d}", ("admission", "month3")[(film_id - 1) % 2])
        if film_id == 3:
            assert got[key] == 26.0
        elif film_id == 8:
            assert math.isnan(got[key])
        else:
            assert got[key] == pytest.approx((A1[film_id - 1] + B1[film_id - 1]) / 2, abs=1e-6)
    assert set(frame["rater"]) == {"consensus:rel"}


def test_a_plan_without_adjudication_leaves_the_named_adjudicator_rule(tmp_path: Path) -> None:
    study = make_study(tmp_path / "n.cobbdesk")
    try:
        create_plan(study, PlanSpec("plain", ("A", "B"), rounds=1, seed=1, region="cervical"))
        with pytest.raises(RaterPolicyError, match="needs an adjudicator"):
            resolve(study, parse_policy("consensus"), study_raters(study))
    finally:
        study.close()
