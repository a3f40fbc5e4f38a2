"""Wilcoxon signed-rank and paired t-test: against scipy, hand calculations, edge cases."""

from __future__ import annotations

import itertools
import math
import statistics

import numpy as np
import pytest
from scipy import stats

from cobbdesk.core.stats import hodges_lehmann, paired_t_test, wilcoxon_signed_rank
from cobbdesk.core.stats.ranks import (
    average_ranks,
    exact_two_sided_p,
    signed_rank_null_counts,
    walsh_ci_order,
)


def tied_data(seed: int, n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Integer angles: many tied |differences| and several zero differences."""
    rng = np.random.default_rng(seed)
    before = rng.integers(0, 20, n).astype(float)
    after = before + rng.integers(-3, 6, n)
    return before, after


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_matches_scipy_with_ties_and_zeros(seed: int) -> None:
    before, after = tied_data(seed)
    d = after - before
    assert np.sum(d == 0) > 0 and len(np.unique(np.abs(d[d != 0]))) < np.sum(d != 0)
    ref = stats.wilcoxon(d, zero_method="wilcox", correction=False, method="approx")
    greater = stats.wilcoxon(d, zero_method="wilcox", alternative="greater", method="approx")
    r = wilcoxon_signed_rank(before, after)
    assert r.computable, r.reason
    assert r.p == pytest.approx(ref.pvalue, rel=1e-12)
    assert r.w == pytest.approx(ref.statistic)
    assert r.z == pytest.approx(ref.zstatistic, rel=1e-12)
    assert r.w_plus == pytest.approx(greater.statistic)
    assert r.zeros == int(np.sum(d == 0))
    assert r.n_used == r.n_pairs - r.zeros == r.n_positive + r.n_negative
    assert r.w_plus + r.w_minus == pytest.approx(r.n_used * (r.n_used + 1) / 2)
    assert r.p_exact is None and "zero" in r.p_exact_reason
    assert r.median_diff == pytest.approx(np.median(d))
    assert r.effect_r == pytest.approx(abs(ref.zstatistic) / math.sqrt(r.n_pairs))


def test_average_ranks_match_scipy_rankdata() -> None:
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0])
    ranks, tie_sizes = average_ranks(values)
    np.testing.assert_allclose(ranks, stats.rankdata(values, method="average"))
    # groups: 1 (x2), 2, 3 (x2), 4, 5 (x3), 6, 9
    assert sorted(tie_sizes.tolist()) == [1, 1, 1, 1, 2, 2, 3]


def test_hand_calculated_example_with_ties_and_a_zero() -> None:
    # d = after - before = [0, 1, -1, 2, 2, 3, -4, 5]; the zero is dropped, n_used = 7.
    # |d| = 1 1 2 2 3 4 5 -> average ranks 1.5 1.5 3.5 3.5 5 6 7.
    # T+ = 1.5 + 3.5 + 3.5 + 5 + 7 = 20.5 ; T- = 1.5 + 6 = 7.5 (sum 28 = 7*8/2).
    # E[T] = 7*8/4 = 14 ; Var = 7*8*15/24 - [(2^3-2) + (2^3-2)]/48 = 35 - 0.25 = 34.75.
    # Z = (7.5 - 14)/sqrt(34.75) = -1.102646 ; p = 2*Phi(-1.102646) = 0.270181.
    # r = 1.102646/sqrt(8 pairs) = 0.389844.
    before = np.zeros(8)
    after = np.array([0.0, 1, -1, 2, 2, 3, -4, 5])
    r = wilcoxon_signed_rank(before, after)
    assert (r.zeros, r.n_used, r.n_positive, r.n_negative) == (1, 7, 5, 2)
    assert (r.w_plus, r.w_minus, r.w) == (20.5, 7.5, 7.5)
    assert r.expected_w == 14.0
    assert r.tie_correction == 0.25
    assert r.sd_w == pytest.approx(math.sqrt(34.75))
    assert r.z == pytest.approx(-1.102646, abs=1e-6)
    assert r.z_directional == pytest.approx(1.102646, abs=1e-6)
    assert r.z_based_on == "negative ranks"
    assert r.p == pytest.approx(0.270181, abs=1e-6)
    assert r.effect_r == pytest.approx(0.389844, abs=1e-6)
    assert r.mean_rank_positive == pytest.approx(20.5 / 5)
    assert r.mean_rank_negative == pytest.approx(7.5 / 2)


def test_z_is_based_on_positive_ranks_when_values_fall() -> None:
    before = np.array([10.0, 12, 14, 9, 11, 15, 13, 8])
    after = before - np.array([1.0, 2, 3, 4, -0.5, 6, 7, 8])
    r = wilcoxon_signed_rank(before, after)
    assert r.z_based_on == "positive ranks"
    assert r.z is not None and r.z < 0
    assert r.z_directional is not None and r.z_directional < 0
    assert r.median_diff is not None and r.median_diff < 0


def test_exact_p_six_positive_differences() -> None:
    # All 6 differences positive, no ties: P(T- <= 0) = 1/2^6, two-sided p = 2/64.
    r = wilcoxon_signed_rank([0.0] * 6, [1.0, 2, 3, 4, 5, 6])
    assert r.p_exact == 0.03125
    assert r.p_exact_reason == ""
    assert exact_two_sided_p(0, 6) == 2 / 64


@pytest.mark.parametrize(
    "d",
    [
        [1.0, -2, 3, 4, -5, 6, 7, 8, 9, -10],
        [0.5, 1.5, -2.5, 3.5, 4.5, -5.5, 6.5],
        [3.0, -1, 4, -15, 9, 2, 6, 5, -35, 8, 97, 93, 23, 84, 62, 64, 33],
    ],
)
def test_exact_p_matches_scipy_exact(d: list[float]) -> None:
    ref = stats.wilcoxon(d, method="exact")
    r = wilcoxon_signed_rank(np.zeros(len(d)), d)
    assert r.p_exact == pytest.approx(ref.pvalue, rel=1e-12)


def test_null_counts_are_a_distribution() -> None:
    # n = 4: subsets of {1,2,3,4} by sum 0..10 (enumerated by hand):
    # 0:{} 1:{1} 2:{2} 3:{3},{1,2} 4:{4},{1,3} 5:{1,4},{2,3} 6:{2,4},{1,2,3} 7:{3,4},{1,2,4}
    # 8:{1,3,4} 9:{2,3,4} 10:{1,2,3,4}
    assert signed_rank_null_counts(4).tolist() == [1, 1, 1, 2, 2, 2, 2, 2, 1, 1, 1]
    for n in (10, 50):
        counts = signed_rank_null_counts(n)
        assert int(counts.sum()) == 2**n
        assert counts.tolist() == counts[::-1].tolist()


@pytest.mark.parametrize(("n", "critical"), [(6, 0), (10, 8), (20, 52), (30, 137), (50, 434)])
def test_ci_order_matches_published_critical_values(n: int, critical: int) -> None:
    # Two-sided alpha = 0.05 critical values of the signed-rank statistic (reject when
    # T <= critical), from the standard tables (e.g. Zar, Biostatistical Analysis, B.12).
    order = walsh_ci_order(n, 0.95)
    assert order.exact
    assert order.c == critical + 1


def test_hodges_lehmann_against_brute_force_walsh_averages() -> None:
    d = np.array([0.0, 1, -1, 2, 2, 3, -4, 5])
    walsh = sorted((a + b) / 2 for a, b in itertools.combinations_with_replacement(d, 2))
    assert len(walsh) == 36
    h = hodges_lehmann(d)
    assert h.estimate == statistics.median(walsh)
    # n = 8: critical value 3 -> c = 4 -> CI = [W(4), W(36 + 1 - 4)] (1-based).
    assert (h.ci_low, h.ci_high) == (walsh[3], walsh[32])
    # P(T <= 3) = #{{}, {1}, {2}, {3}, {1,2}} / 2^8 = 5/256 <= 0.025 < P(T <= 4) = 7/256
    assert h.achieved_confidence == pytest.approx(1 - 2 * 5 / 256)
    assert h.notes  # ties among the differences


def test_hodges_lehmann_too_few_pairs_for_a_ci() -> None:
    h = hodges_lehmann(np.array([1.0, 2, 3, 4, 5]))
    assert h.computable and h.estimate == 3.0
    assert h.ci_low is None and h.ci_high is None
    assert "too few" in h.ci_reason  # smallest two-sided p with n = 5 is 2/32 > 0.05


def r_reference_differences(n: int) -> np.ndarray:
    """Tie-free differences written to a file and given to R 4.5 (Debian r-base-core)."""
    return np.array([round(9 * math.sin(1.37 * i) + 1.1 + i / 997, 4) for i in range(1, n + 1)])


# R: w <- wilcox.test(d, conf.int=TRUE, exact=TRUE); c(w$statistic, w$p.value, w$estimate,
# w$conf.int) with d = r_reference_differences(n) read from a file (options(digits=17)).
R_WILCOX_EXACT = {
    10: (35.0, 0.4921875, 1.8107, -3.65575, 7.60055),
    30: (296.0, 0.19807579927146438, 1.42535, -0.9744, 4.0973),
    61: (1183.0, 0.088779513809511781, 1.27145, -0.2114, 2.8884),
}


@pytest.mark.parametrize("n", sorted(R_WILCOX_EXACT))
def test_exact_hodges_lehmann_ci_and_p_equal_r(n: int) -> None:
    v, p, estimate, low, high = R_WILCOX_EXACT[n]
    d = r_reference_differences(n)
    r = wilcoxon_signed_rank(np.zeros(n), d)
    assert r.w_plus == v
    assert r.p_exact == pytest.approx(p, rel=1e-12)
    h = r.hodges_lehmann
    assert h is not None and h.ci_exact is True
    assert h.estimate == pytest.approx(estimate, abs=1e-12)
    assert (h.ci_low, h.ci_high) == (pytest.approx(low, abs=1e-12), pytest.approx(high, abs=1e-12))
    assert h.achieved_confidence is not None and h.achieved_confidence >= 0.95


def test_approximate_ci_order_agrees_with_exact_where_both_exist() -> None:
    # Above EXACT_MAX_N the order c comes from the Edgeworth-corrected approximation. For
    # n = 51..400 it gives the exact c for 346 of 350 n and is one order statistic wider
    # (conservative) for n = 64, 97, 175, 274; the plain floor(mean - z sd) was 1-2 wider.
    from cobbdesk.core.stats.ranks import EXACT_MAX_N, approximate_null_cdf, signed_rank_null_cdf

    z = stats.norm.ppf(0.975)
    gaps = []
    for n in [*range(51, EXACT_MAX_N, 3), 97, EXACT_MAX_N]:
        exact = walsh_ci_order(n, 0.95)
        k = math.floor(n * (n + 1) / 4 - z * math.sqrt(n * (n + 1) * (2 * n + 1) / 24)) - 3
        while approximate_null_cdf(k, n) <= 0.025 * (1 + 1e-12):
            k += 1
        assert exact.exact
        gaps.append(exact.c - k)
    assert set(gaps) == {0, 1} and gaps.count(1) <= 3
    assert walsh_ci_order(EXACT_MAX_N + 1, 0.95).exact is False
    assert signed_rank_null_cdf(EXACT_MAX_N)[-1] == pytest.approx(1.0, abs=1e-12)
    assert walsh_ci_order(61, 0.95).c == 673  # R: qsignrank(0.025, 61)


def test_large_n_hodges_lehmann_is_labelled_approximate() -> None:
    d = r_reference_differences(450)
    h = hodges_lehmann(d)
    walsh = np.sort([(a + b) / 2 for a, b in itertools.combinations_with_replacement(d, 2)])
    order = walsh_ci_order(450, 0.95)
    assert h.ci_exact is False and h.achieved_confidence is None
    assert (h.ci_low, h.ci_high) == (walsh[order.c - 1], walsh[walsh.size - order.c])


def test_small_sample_exact_p_as_pspp() -> None:
    # n = 4, all positive: P(T- = 0) = 1/16, two-sided 0.125 (PSPP Exact Sig., R psignrank).
    r = wilcoxon_signed_rank(np.zeros(4), [1.0, 2.0, 3.0, 4.0])
    assert r.computable and r.p == 0.125 and r.p_exact == 0.125 and r.p_source == "exact"
    assert any(note.startswith("small sample") for note in r.notes)
    assert r.z is not None  # printed as SPSS does, but p is not taken from it
    # ties: |d| = 1, 1, 2, 3 -> ranks 1.5 1.5 3 4, T+ = 8.5. Subset sums of {1.5,1.5,3,4}:
    # 0, 1.5, 1.5, 3, 4, 3, 4.5, 4.5, 5.5, 5.5, 7, 6, 7, 8.5, 8.5, 10 -> P(T+ >= 8.5) = 3/16.
    tied = wilcoxon_signed_rank(np.zeros(4), [1.0, -1.0, 2.0, 3.0])
    assert tied.w_plus == 8.5 and tied.p == 0.375


def test_paired_t_matches_scipy() -> None:
    before, after = tied_data(7)
    ref = stats.ttest_rel(after, before)
    ci = ref.confidence_interval()
    r = wilcoxon_signed_rank(before, after).t_test
    assert r is not None and r.computable
    assert r.t == pytest.approx(ref.statistic, rel=1e-12)
    assert r.p == pytest.approx(ref.pvalue, rel=1e-12)
    assert r.df == len(before) - 1
    assert (r.ci_low, r.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert paired_t_test(before, after) == r


def test_excluded_cases_are_counted_and_named() -> None:
    before = [10.0, None, 12.0, 13.0, 9.0, 8.0, 15.0, 11.0, np.nan]
    after = [12.0, 14.0, 15.0, np.nan, 10.0, 13.0, 19.0, 16.0, 3.0]
    ids = ["P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9"]
    r = wilcoxon_signed_rank(before, after, ids=ids, before_label="admission")
    assert (r.n_total, r.n_pairs, r.n_excluded) == (9, 6, 3)
    assert r.excluded_ids == ("P2", "P4", "P9")
    assert r.before_complete is not None and r.before_complete.n == 6
    assert r.before_available is not None and r.before_available.n == 7
    assert r.after_available is not None and r.after_available.n == 8
    assert r.before_complete.name == "admission (complete pairs)"
    assert r.before_complete.mean == pytest.approx(np.mean([10, 12, 9, 8, 15, 11]))
    assert wilcoxon_signed_rank(before, after).excluded_ids == (1, 3, 8)


def test_decimal_angles_tie_despite_floating_point() -> None:
    # 10.3 - 10.2 and 5.2 - 5.1 are both 0.1 on paper but differ in binary floating point.
    before = np.array([10.2, 5.1, 7.0, 8.0, 9.0, 6.0, 4.0])
    after = np.array([10.3, 5.2, 7.5, 9.0, 10.5, 8.0, 1.0])
    assert (after - before)[0] != (after - before)[1]
    r = wilcoxon_signed_rank(before, after)
    assert r.tie_correction == pytest.approx((2**3 - 2) / 48)
    assert r.p_exact is not None  # n = 7 <= 12: enumerated over the tied average ranks
    assert r.p_exact == pytest.approx(_enumerate(after - before), abs=1e-12)


def _enumerate(d: np.ndarray) -> float:
    """Two-sided permutation p of T+ over all sign flips (an independent brute force)."""
    d = np.round(d[d != 0], 9)
    ranks = stats.rankdata(np.abs(d))
    t = ranks[d > 0].sum()
    sums = [sum(r for r, keep in zip(ranks, signs, strict=True) if keep)
            for signs in itertools.product([0, 1], repeat=d.size)]  # fmt: skip
    low = np.mean([x <= t + 1e-9 for x in sums])
    high = np.mean([x >= t - 1e-9 for x in sums])
    return min(1.0, 2 * min(low, high))


def test_model_study_cervical_admission_to_month_3() -> None:
    # 61 patients, cervical lordosis 9.96±6.82° at admission, 14.91±4.84° at month 3.
    rng = np.random.default_rng(20240611)
    z0, z1 = rng.standard_normal(61), rng.standard_normal(61)
    before = 9.96 + 6.82 * (z0 - z0.mean()) / z0.std(ddof=1)
    after = 14.91 + 4.84 * (z1 - z1.mean()) / z1.std(ddof=1)
    r = wilcoxon_signed_rank(before, after, before_label="admission", after_label="month 3")
    assert r.computable
    assert r.before_complete is not None and r.before_complete.mean_sd == "9.96±6.82"
    assert r.after_complete is not None and r.after_complete.mean_sd == "14.91±4.84"
    assert r.p is not None and r.p < 0.05
    assert r.p == pytest.approx(
        stats.wilcoxon(after - before, correction=False, method="approx").pvalue, rel=1e-12
    )
    assert r.p_exact == pytest.approx(
        stats.wilcoxon(after - before, method="exact").pvalue, rel=1e-9
    )
    assert r.hodges_lehmann is not None and r.hodges_lehmann.ci_exact is True
    assert r.t_test is not None and r.t_test.p is not None and r.t_test.p < 0.05
    rounded = wilcoxon_signed_rank(np.round(before, 1), np.round(after, 1))  # 0.1° readings
    assert rounded.p is not None and rounded.p < 0.05


@pytest.mark.parametrize(
    ("before", "after", "fragment"),
    [
        ([], [], "no complete pairs among 0"),
        ([1.0, None, 3.0], [None, 2.0, None], "no complete pairs among 3"),
        ([1.0] * 12, [1.0] * 12, "all 12 differences are zero"),
        ([1.0, 2.0], [1.0], "before has 2 values but after has 1"),
        (["a", "b"], [1.0, 2.0], "before contains values that are not numbers"),
        ([[1.0, 2.0]], [[1.0, 2.0]], "must be one-dimensional"),
        ([1.0, math.inf], [1.0, 2.0], "infinite"),
    ],
)
def test_not_computable(before: list, after: list, fragment: str) -> None:
    r = wilcoxon_signed_rank(before, after)
    assert not r.computable
    assert r.reason.startswith("not computable: ")
    assert fragment in r.reason
    assert r.p is None and r.z is None and r.w is None and r.p_exact is None


def test_all_zero_differences_keep_counts_and_t_test_explains() -> None:
    r = wilcoxon_signed_rank([5.0] * 12, [5.0] * 12)
    assert r.reason == "not computable: all 12 differences are zero"
    assert (r.n_pairs, r.zeros, r.n_used) == (12, 12, 0)
    assert r.t_test is not None and not r.t_test.computable
    assert "SD = 0" in r.t_test.reason


def test_paired_t_not_computable() -> None:
    assert "need at least 2" in paired_t_test([1.0], [2.0]).reason
    assert "all 3 differences equal 1" in paired_t_test([1.0, 2, 3], [2.0, 3, 4]).reason
    assert "not numbers" in paired_t_test(["x"], [1.0]).reason
