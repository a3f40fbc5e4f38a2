"""Spearman correlation: against scipy, a hand example, perfect and degenerate cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from cobbdesk.core.stats import spearman


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_scipy_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 8, 30).astype(float)  # many ties
    y = np.round(x + rng.normal(0, 3, 30))
    ref = stats.spearmanr(x, y)
    r = spearman(x, y, x_name="Cobb", y_name="CRP", visit="admission")
    assert r.computable
    assert r.rho == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p == pytest.approx(ref.pvalue, rel=1e-10)
    assert r.df == 28
    assert r.visit == "admission"


def test_hand_calculated_example() -> None:
    # No ties: rho = 1 - 6*sum(d^2)/(n(n^2-1)); d = rank differences = ±1 six times.
    # rho = 1 - 6*6/(6*35) = 0.828571 ; t = rho*sqrt(4/(1-rho^2)) = 2.959800 ;
    # p = 2*P(T_4 > 2.959800) = 0.041563.
    r = spearman([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5], x_name="x", y_name="y")
    assert r.rho == pytest.approx(1 - 36 / 210, abs=1e-12)
    assert r.t == pytest.approx(2.959800, abs=1e-6)
    assert r.p == pytest.approx(0.041563, abs=1e-6)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_perfect_monotone_association(sign: float) -> None:
    x = np.array([1.0, 2, 3, 4, 5, 6, 7])
    r = spearman(x, sign * np.exp(x), x_name="x", y_name="y")
    assert r.computable
    assert r.rho == sign
    assert r.p == 0.0
    assert r.t is None
    assert "perfect" in r.notes[0]


def test_pairwise_complete_and_excluded_ids() -> None:
    x = [1.0, 2.0, None, 4.0, 5.0, 6.0, 7.0, 8.0]
    y = [2.0, 1.0, 3.0, np.nan, 6.0, 5.0, 8.0, 7.0]
    r = spearman(x, y, x_name="x", y_name="y", ids=[f"P{i}" for i in range(1, 9)])
    assert (r.n_total, r.n, r.n_excluded) == (8, 6, 2)
    assert r.excluded_ids == ("P3", "P4")
    ref = stats.spearmanr([1, 2, 5, 6, 7, 8], [2, 1, 6, 5, 8, 7])
    assert r.rho == pytest.approx(ref.statistic)


@pytest.mark.parametrize(
    ("x", "y", "reason"),
    [
        ([1, 2, 3, 4, 5, 6], [3] * 6, "y is constant over the 6 complete pairs (every value is 3)"),
        ([2.5] * 7, [1, 2, 3, 4, 5, 6, 7], "x is constant over the 7 complete pairs"),
        ([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], "5 complete pair(s) of 5; need at least 6"),
        ([], [], "0 complete pair(s) of 0"),
        ([1, 2, 3], [1, 2], "x has 3 values but y has 2"),
    ],
)
def test_not_computable(x: list, y: list, reason: str) -> None:
    r = spearman(x, y, x_name="x", y_name="y")
    assert not r.computable
    assert r.reason.startswith("not computable: ")
    assert reason in r.reason
    assert r.rho is None and r.p is None
