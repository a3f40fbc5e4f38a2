"""ICC, Bland–Altman, SEM/MDC: published reference values and hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cobbdesk.core.stats import bland_altman, flag_changes_below_mdc, icc_a1, sem_mdc

SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def test_shrout_fleiss_1979_reference_values() -> None:
    r = icc_a1(SHROUT_FLEISS)
    assert r.computable
    assert (r.n_subjects, r.n_raters, r.n_dropped) == (6, 4, 0)
    # Shrout & Fleiss (1979) Table 2: BMS = 11.24, JMS = 32.49, EMS = 1.02.
    assert round(r.ms_rows, 2) == 11.24
    assert round(r.ms_cols, 2) == 32.49
    assert round(r.ms_error, 2) == 1.02
    # Table 4: ICC(2,1) = .29, ICC(3,1) = .71 (0.290 and 0.715 to three decimals).
    assert round(r.icc, 3) == 0.290
    assert round(r.icc_c1, 3) == 0.715
    # R psych::ICC on the same data: ICC2 = 0.29, F = 11, df 5, 15, p = 0.00013,
    # 95 % CI 0.019 to 0.76; ICC3 95 % CI 0.34 to 0.95.
    assert round(r.ci_low, 3) == 0.019
    assert round(r.ci_high, 2) == 0.76
    assert round(r.f, 0) == 11 and (r.df1, r.df2) == (5, 15)
    assert round(r.p, 5) == 0.00013
    assert round(r.icc_c1_ci_low, 2) == 0.34
    assert round(r.icc_c1_ci_high, 2) == 0.95


def test_incomplete_rows_are_dropped_and_named() -> None:
    ratings = [*SHROUT_FLEISS, [5.0, np.nan, 4.0, 6.0], [np.nan] * 4]
    ids = ["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8"]
    r = icc_a1(ratings, ids=ids)
    assert (r.n_subjects, r.n_dropped, r.dropped_ids) == (6, 2, ("F7", "F8"))
    assert r.icc == pytest.approx(icc_a1(SHROUT_FLEISS).icc)


def test_icc_agreement_below_consistency_when_raters_are_offset() -> None:
    rng = np.random.default_rng(5)
    truth = rng.normal(20, 8, 30)
    ratings = np.column_stack([truth + rng.normal(0, 1, 30), truth + 5 + rng.normal(0, 1, 30)])
    r = icc_a1(ratings)
    assert r.icc_c1 is not None and r.icc_c1 > 0.95
    assert r.icc is not None and r.icc < r.icc_c1
    assert r.ci_low is not None and r.ci_high is not None and r.ci_low < r.icc < r.ci_high


@pytest.mark.parametrize(
    ("ratings", "fragment"),
    [
        ([[1.0, 2.0]], "1 complete subject(s) × 2 rater(s)"),
        ([[1.0], [2.0], [3.0]], "3 complete subject(s) × 1 rater(s)"),
        ([[5.0, 5.0], [5.0, 5.0], [5.0, 5.0]], "residual mean square is 0"),
        ([[1.0, 3.0], [2.0, 4.0], [7.0, 9.0]], "residual mean square is 0"),
        ([1.0, 2.0, 3.0], "subjects × raters table"),
        ([[1.0, np.nan], [np.nan, 2.0]], "0 complete subject(s)"),
    ],
)
def test_icc_not_computable(ratings: list, fragment: str) -> None:
    r = icc_a1(ratings)
    assert not r.computable
    assert r.reason.startswith("not computable: ")
    assert fragment in r.reason
    assert r.icc is None and r.ci_low is None and r.p is None


def test_bland_altman_hand_calculation() -> None:
    # a - b = [1, 0, 1, 2]: bias 1 ; SD = sqrt((0 + 1 + 0 + 1)/3) = 0.816497 ;
    # LoA = 1 ± 1.96*0.816497 = -0.600334, 2.600334 ; t(0.975, 3) = 3.182446 ;
    # SE(bias) = 0.816497/2 = 0.408248 -> CI 1 ± 1.299228 ;
    # SE(LoA) = sqrt(3)*0.408248 = 0.707107 -> limits ± 2.250329.
    r = bland_altman([10.0, 12.0, 14.0, 16.0, None], [9.0, 12.0, 13.0, 14.0, 3.0])
    assert (r.n_total, r.n, r.excluded_ids) == (5, 4, (4,))
    assert r.bias == 1.0
    assert r.sd_diff == pytest.approx(0.816497, abs=1e-6)
    assert r.loa_low == pytest.approx(-0.600334, abs=1e-6)
    assert r.loa_high == pytest.approx(2.600334, abs=1e-6)
    assert r.bias_ci_low == pytest.approx(1 - 1.299228, abs=1e-6)
    assert r.bias_ci_high == pytest.approx(1 + 1.299228, abs=1e-6)
    assert r.loa_low_ci_low == pytest.approx(-0.600334 - 2.250329, abs=1e-6)
    assert r.loa_high_ci_high == pytest.approx(2.600334 + 2.250329, abs=1e-6)


def test_bland_altman_degenerate() -> None:
    assert "need at least 2" in bland_altman([1.0], [2.0]).reason
    same = bland_altman([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    assert same.computable and same.sd_diff == 0 and same.loa_low == same.loa_high == 1.0
    assert "SD = 0" in same.notes[0]


def test_sem_and_mdc() -> None:
    # SEM = 5*sqrt(1 - 0.9) = 1.581139 ; MDC95 = 1.96*sqrt(2)*1.581139 = 4.382693.
    r = sem_mdc(0.9, 5.0)
    assert r.sem == pytest.approx(1.581139, abs=1e-6)
    assert r.mdc95 == pytest.approx(4.382693, abs=1e-6)


@pytest.mark.parametrize(("icc", "sd"), [(1.2, 5.0), (-0.1, 5.0), (math.nan, 5.0), (0.8, -1.0)])
def test_sem_not_computable(icc: float, sd: float) -> None:
    r = sem_mdc(icc, sd)
    assert not r.computable and r.reason.startswith("not computable: ")
    assert r.sem is None and r.mdc95 is None


def test_flag_changes_below_mdc() -> None:
    r = flag_changes_below_mdc([0.5, -5.0, None, 4.0, -3.9], 4.0)
    assert r.flags == (True, False, None, False, True)
    assert (r.n_below, r.n_at_or_above, r.n_missing) == (2, 2, 1)
    assert not flag_changes_below_mdc([1.0], 0.0).computable
    assert not flag_changes_below_mdc([1.0], math.nan).computable
