"""Rater policies: the analysis dataset the exports and the statistics share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from cobbdesk.core.export import analyse, load_long
from cobbdesk.core.export.analysis import analysis_values
from cobbdesk.core.export.policy import (
    MEAN,
    RaterPolicy,
    RaterPolicyError,
    apply_policy,
    parse_policy,
    resolve,
    set_study_policy,
    study_policy,
    study_raters,
)
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import audit

from .conftest import PATIENTS, RATER_B_OFFSET, RATER_B_PATIENTS


@pytest.fixture(scope="module")
def long(fixture_study: Path):  # type: ignore[no-untyped-def]
    with Study.open(fixture_study) as study:
        return load_long(study)


def test_mean_policy_one_row_per_patient_and_visit(long) -> None:  # type: ignore[no-untyped-def]
    frame = apply_policy(long, MEAN)
    assert len(frame) == 2 * len(PATIENTS)
    assert not frame.duplicated(["record_id", "event"]).any()
    row = frame[(frame["record_id"] == "P001") & (frame["event"] == "admission")].iloc[0]
    # P001 admission: A re-measured -30 -> -12.5 (latest counts), B = A + 1 -> mean -12.0
    assert row["cervical_cobb"] == -12.5 + RATER_B_OFFSET["admission"] / 2
    assert row["rater"] == "A+B" and row["vas"] == 7
    one = frame[frame["record_id"] == "+1"]
    assert (one["rater"] == "A").all()


def test_named_rater_keeps_every_patient(long) -> None:  # type: ignore[no-untyped-def]
    frame = apply_policy(long, RaterPolicy("rater", "B"))
    assert len(frame) == 2 * len(PATIENTS)
    measured = frame[frame["cervical_cobb"].notna()]["record_id"].unique()
    assert sorted(measured) == sorted(RATER_B_PATIENTS)
    other = frame[frame["record_id"] == "P003"]
    assert other["cervical_cobb"].isna().all() and (other["rater"] == "").all()
    assert other["vas"].tolist()[0] == 6  # labs stay: they belong to the visit (no month 3)


def test_statistics_use_the_policy_values(long) -> None:  # type: ignore[no-untyped-def]
    b = analyse(long, RaterPolicy("rater", "B"))
    values = analysis_values(long, RaterPolicy("rater", "B"))
    pairs = values["cervical_cobb"].unstack("event").dropna()
    assert b.wilcoxon["cervical_cobb"].n_pairs == len(pairs) == len(RATER_B_PATIENTS)
    by_id = {p.study_id: p for p in PATIENTS}
    expected = [by_id[i].cervical[1] - by_id[i].cervical[0] - 1.5 for i in sorted(pairs.index)]
    np.testing.assert_allclose(pairs["month3"] - pairs["admission"], expected)
    assert b.to_dict()["raters"] == "B"
    assert b.policy_note.startswith("rater policy rater B")


def test_parse_and_resolve() -> None:
    assert parse_policy("mean") == MEAN and parse_policy(" A ") == RaterPolicy("rater", "A")
    assert parse_policy("each", allow_each=True).kind == "each"
    with pytest.raises(RaterPolicyError, match="each is for exports"):
        parse_policy("each")
    with pytest.raises(RaterPolicyError, match=r"rater 'Z' has no measurement .*raters: A, B"):
        resolve(None, parse_policy("Z"), ["A", "B"])
    with pytest.raises(RaterPolicyError, match="needs an adjudicator"):
        resolve(None, parse_policy("consensus"), ["A", "B"])


def test_study_policy_and_adjudicator_are_audited(fresh_study: Path) -> None:
    from cobbdesk.core.export.policy import SETTING_ADJUDICATOR, set_setting

    with Study.open(fresh_study, actor="tester") as study:
        assert study_policy(study) == MEAN and study_raters(study) == ["A", "B"]
        with pytest.raises(RaterPolicyError, match="needs an adjudicator"):
            set_study_policy(study, "consensus")
        set_setting(study, SETTING_ADJUDICATOR, "B", reason="senior reader")
        policy = set_study_policy(study, "consensus", reason="protocol v2")
        assert policy == RaterPolicy("consensus", "B") and policy.label == "consensus (B)"
        assert resolve(study, study_policy(study), study_raters(study)) == policy
        with study.engine.connect() as conn:
            rows = conn.execute(
                select(audit.c.entity_id, audit.c.new_value, audit.c.reason).where(
                    audit.c.entity == "study_setting"
                )
            ).all()
    assert [tuple(r) for r in rows] == [
        ("adjudicator", "B", "senior reader"),
        ("rater_policy", "consensus", "protocol v2"),
    ]
