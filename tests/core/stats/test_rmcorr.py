"""Repeated-measures correlation against R's ANCOVA (lm/anova) and hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cobbdesk.core.stats.rmcorr import rmcorr


def ancova_data() -> tuple[list[int], list[float], list[float]]:
    """12 patients with two visits and one patient with a single visit (given to R as CSV)."""
    s, x, y = [], [], []
    for subject in range(1, 13):
        for visit in range(2):
            xv = round(5 + 3 * math.sin(2.1 * subject) + 1.7 * visit
                       + 0.9 * math.cos(3.3 * subject * (visit + 1)), 2)  # fmt: skip
            yv = round(2 + 0.8 * xv + 2 * math.cos(1.3 * subject)
                       + 0.6 * math.sin(5.1 * subject + visit), 2)  # fmt: skip
            s.append(subject), x.append(xv), y.append(yv)
    return [*s, 13], [*x, 4.0], [*y, 5.0]


def test_equals_r_ancova() -> None:
    # R 4.5: a <- anova(lm(y ~ factor(s) + x)); r = sign(b) * sqrt(SSx / (SSx + SSres));
    # r = 0.96378868427586417, df = 11 (25 observations, 13 patients), p = 1.176368298230553e-07
    s, x, y = ancova_data()
    r = rmcorr(x, y, s, x_name="x", y_name="y")
    assert r.computable
    assert (r.n_observations, r.n_subjects, r.df) == (24, 12, 11)
    assert r.r == pytest.approx(0.96378868427586417, rel=1e-12)
    assert r.p == pytest.approx(1.176368298230553e-07, rel=1e-9)


def test_hand_example_and_missing_values() -> None:
    # a: dx = -.5 .5, dy = -1 1; b: dx = -1 1, dy = -1.5 1.5; c: dx = 0 0, dy = .5 -.5
    # Sxy = 4, Sxx = 2.5, Syy = 7 -> r = 4 / sqrt(17.5); df = 6 - 3 - 1 = 2
    s = ["a", "a", "b", "b", "c", "c", "d", "d"]
    r = rmcorr([1, 2, 1, 3, 2, 2, None, 5], [2, 4, 1, 4, 0, 1, 3, np.nan], s,
               x_name="x", y_name="y")  # fmt: skip
    assert r.r == pytest.approx(4 / math.sqrt(17.5), rel=1e-12)
    assert (r.df, r.n_subjects, r.n_observations) == (2, 3, 6)


def test_not_computable() -> None:
    one_visit = rmcorr([1.0, 2, 3], [1.0, 2, 3], ["a", "b", "c"], x_name="x", y_name="y")
    assert one_visit.reason.startswith("not computable: 0 observation(s)")
    flat = rmcorr([1.0, 1, 2, 2, 3, 3], [1.0, 2, 3, 4, 5, 7], list("aabbcc"),
                  x_name="vas", y_name="crp")  # fmt: skip
    assert flat.reason == "not computable: vas does not change within patients"


def test_sums_of_products_are_correctly_rounded() -> None:
    """r_rm's sums Σx'y' are the exactly rounded sum of the products (the same bits on every
    machine; a BLAS dot product splits the sum by its thread count): checked against exact
    rational arithmetic on 20,000 values, where a plain float sum loses the last bits."""
    from fractions import Fraction

    from cobbdesk.core.stats.rmcorr import _dot

    rng = np.random.default_rng(5)
    a, b = rng.normal(size=20_000) * 1e3, rng.normal(size=20_000)
    exact = float(sum(Fraction(p) for p in (a * b).tolist()))
    assert _dot(a, b) == exact
    assert _dot(a, a) == float(sum(Fraction(p) for p in (a * a).tolist()))
