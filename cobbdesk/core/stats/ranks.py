"""Ranking, the signed-rank null distribution, and Walsh averages.

Written from the textbook definitions (Hollander, Wolfe & Chicken, *Nonparametric
Statistical Methods*, 3rd ed., 2014, ch. 3) rather than delegated to scipy, so that the
method is explicit; the tests check every number against scipy independently.

>>> ranks, tie_sizes = average_ranks(np.array([3.0, 1.0, 3.0, 2.0]))
>>> ranks.tolist(), tie_sizes.tolist()
([3.5, 1.0, 3.5, 2.0], [1, 1, 2])
>>> signed_rank_null_counts(3).tolist()  # subsets of {1,2,3} by rank sum 0..6
[1, 1, 1, 2, 1, 1, 1]
>>> exact_two_sided_p(0, 6)  # six positive differences: 2/64
0.03125
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from cobbdesk.core.stats import distributions as sps
from cobbdesk.core.stats.results import FloatArray

COUNTS_MAX_N = 50
"""Largest n for which :func:`signed_rank_null_counts` gives integer counts (< 2**53)."""
EXACT_MAX_N = 400
"""Largest n for which the exact signed-rank distribution (exact p, exact Hodges–Lehmann CI)
is used: its n(n+1)/2 + 1 probabilities take 0.6 MB at n = 400.  Above it the normal
approximation with continuity correction applies, so memory stays O(n) for any study."""
SMALL_N_ENUMERATION = 12
"""Up to this many non-zero differences the exact p is found by enumerating all 2**n sign
assignments of the actual (average) ranks, which stays exact with tied |differences|."""


def average_ranks(values: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Ranks 1..n with tied values given the average of their ranks.

    Returns
    -------
    ranks
        The rank of each value, in input order.
    tie_sizes
        The size t of every group of equal values (1 for untied values), used in the
        tie-correction terms sum(t**3 - t).
    """
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    group_rank = ends - (counts - 1) / 2.0
    return group_rank[inverse].astype(np.float64), counts.astype(np.int64)


def tie_sum(tie_sizes: npt.NDArray[np.int64]) -> float:
    """sum(t**3 - t) over tie groups (0 when there are no ties)."""
    t = tie_sizes.astype(np.float64)
    return float(np.sum(t**3 - t))


def signed_rank_null_counts(n: int) -> npt.NDArray[np.int64]:
    """Number of sign assignments of ranks 1..n giving each rank sum T+ = 0..n(n+1)/2.

    The standard dynamic programme over subsets of {1..n}: adding rank r either leaves a
    subset sum unchanged or raises it by r.  Divide by 2**n for null probabilities.
    """
    if not 0 <= n <= COUNTS_MAX_N:
        raise ValueError(f"integer signed-rank counts are limited to n <= {COUNTS_MAX_N}")
    counts = np.zeros(n * (n + 1) // 2 + 1, dtype=np.int64)
    counts[0] = 1
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank]
    return counts


def signed_rank_null_cdf(n: int) -> FloatArray:
    """P(T+ <= t) for t = 0..n(n+1)/2 under the null hypothesis, no ties, n <= EXACT_MAX_N.

    The dynamic programme of :func:`signed_rank_null_counts` on probabilities (each rank
    halves the mass), in float64 so that n above 50 does not overflow; R's ``psignrank`` does
    the same in doubles.  Raises ValueError above ``EXACT_MAX_N``.
    """
    if not 0 <= n <= EXACT_MAX_N:
        raise ValueError(f"exact signed-rank distribution is limited to n <= {EXACT_MAX_N}")
    prob = np.zeros(n * (n + 1) // 2 + 1, dtype=np.float64)
    prob[0] = 1.0
    for rank in range(1, n + 1):
        prob[rank:] = (prob[rank:] + prob[:-rank]) * 0.5
        prob[:rank] *= 0.5
    return np.asarray(np.minimum(np.cumsum(prob), 1.0), dtype=np.float64)


def exact_two_sided_p(t_min: int, n: int) -> float:
    """Exact two-sided p = min(1, 2 P(T <= t_min)), T the signed-rank statistic, no ties.

    ``t_min`` is min(T+, T-), an integer when there are no ties; n <= ``EXACT_MAX_N``.
    """
    if n <= COUNTS_MAX_N:
        tail = int(np.sum(signed_rank_null_counts(n)[: t_min + 1]))
        return min(1.0, 2.0 * tail / 2.0**n)
    return min(1.0, 2.0 * float(signed_rank_null_cdf(n)[t_min]))


def enumerated_two_sided_p(ranks: FloatArray, t_plus: float) -> float:
    """Exact two-sided p by enumerating every sign assignment of the given ranks.

    The permutation distribution of T+ conditional on the observed (average) ranks, valid
    with ties (Hollander, Wolfe & Chicken 2014, sec. 3.1, comment 11): p = min(1, 2 min(
    P(T+ <= t), P(T+ >= t))).  2**n sums: only for n <= ``SMALL_N_ENUMERATION``.
    """
    n = int(ranks.size)
    if n > SMALL_N_ENUMERATION:
        raise ValueError(f"enumeration is limited to n <= {SMALL_N_ENUMERATION}")
    signs = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    sums = signs @ ranks
    eps = 1e-9 * max(1.0, float(ranks.sum()))
    low = float(np.mean(sums <= t_plus + eps))
    high = float(np.mean(sums >= t_plus - eps))
    return min(1.0, 2.0 * min(low, high))


def walsh_averages(d: FloatArray) -> FloatArray:
    """All n(n+1)/2 Walsh averages (d_i + d_j)/2, i <= j, sorted ascending."""
    i, j = np.triu_indices(d.size)
    return np.sort((d[i] + d[j]) / 2.0)


@dataclass(frozen=True)
class CiOrder:
    """Which order statistics of the Walsh averages bound the confidence interval.

    ``c`` is 1-based: the interval is [W_(c), W_(M+1-c)], M = n(n+1)/2 (Hollander, Wolfe
    & Chicken 2014, sec. 3.3; the same rule as R ``wilcox.test(conf.int = TRUE)``).
    """

    c: int
    achieved_confidence: float | None
    exact: bool


def walsh_ci_order(n: int, confidence: float) -> CiOrder:
    """Order c of the lower limit for a two-sided ``confidence`` interval.

    Exact (n <= ``EXACT_MAX_N``): the largest c with P(T+ <= c - 1) <= alpha/2 under the
    null distribution, so the achieved confidence 1 - 2 P(T+ <= c - 1) is at least nominal;
    c equals R's ``qsignrank(alpha/2, n)`` (``wilcox.test(conf.int = TRUE, exact = TRUE)``).
    Otherwise the same rule on :func:`approximate_null_cdf` (O(1) memory), which gives the
    exact c for 346 of the n from 51 to 400 and one order wider (conservative) for the other
    four (tests); the plain normal cut-off
    floor(n(n+1)/4 - z sigma) (Hollander, Wolfe & Chicken eq. 3.27) is one or two order
    statistics wider.  c < 1 means no interval at this confidence exists for this n.
    """
    half_alpha = (1.0 - confidence) / 2.0
    if n <= EXACT_MAX_N:
        cdf = signed_rank_null_cdf(n)
        c = int(np.searchsorted(cdf, half_alpha * (1 + 1e-12), side="right"))
        achieved = 1.0 - 2.0 * float(cdf[c - 1]) if c >= 1 else None
        return CiOrder(c=c, achieved_confidence=achieved, exact=True)
    z = float(sps.norm.ppf(1.0 - half_alpha))
    mean = n * (n + 1) / 4.0
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0)
    k = math.floor(mean - z * sd) - 3
    while approximate_null_cdf(k, n) <= half_alpha * (1 + 1e-12):
        k += 1
    return CiOrder(c=k, achieved_confidence=None, exact=False)


def approximate_null_cdf(k: int, n: int) -> float:
    """P(T+ <= k) by the Edgeworth series with continuity correction (any n, O(1) memory).

    T+ = sum of r B_r, B_r ~ Bernoulli(1/2): mean n(n+1)/4, variance sum(r^2)/4, skewness 0,
    fourth cumulant -sum(r^4)/8, so the excess kurtosis is g2 = -2 sum(r^4)/(sum(r^2))^2
    and F(x) = Phi(x) - phi(x) g2 (x^3 - 3x)/24 at x = (k + 1/2 - mean)/sd (Kendall & Stuart,
    *The Advanced Theory of Statistics* vol. 1, sec. 6.18, Edgeworth form of type A series).
    """
    s2 = n * (n + 1) * (2 * n + 1) / 6.0
    s4 = n * (n + 1) * (2 * n + 1) * (3 * n * n + 3 * n - 1) / 30.0
    g2 = -2.0 * s4 / s2**2
    x = (k + 0.5 - n * (n + 1) / 4.0) / math.sqrt(s2 / 4.0)
    return float(sps.norm.cdf(x) - sps.norm.pdf(x) * g2 * (x**3 - 3.0 * x) / 24.0)
