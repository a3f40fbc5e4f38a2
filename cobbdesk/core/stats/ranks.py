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
from scipy import stats as sps

from cobbdesk.core.stats.results import FloatArray

EXACT_MAX_N = 50
"""Largest n for which the exact signed-rank distribution is used (counts stay < 2**53)."""


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
    if not 0 <= n <= EXACT_MAX_N:
        raise ValueError(f"exact signed-rank distribution is limited to n <= {EXACT_MAX_N}")
    counts = np.zeros(n * (n + 1) // 2 + 1, dtype=np.int64)
    counts[0] = 1
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank]
    return counts


def exact_two_sided_p(t_min: int, n: int) -> float:
    """Exact two-sided p = min(1, 2 P(T <= t_min)), T the signed-rank statistic, no ties.

    ``t_min`` is min(T+, T-), an integer when there are no ties.
    """
    counts = signed_rank_null_counts(n)
    tail = int(np.sum(counts[: t_min + 1]))
    return min(1.0, 2.0 * tail / 2.0**n)


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

    Exact (n <= 50): the largest c with P(T+ <= c - 1) <= alpha/2 under the null
    distribution, so the achieved confidence 1 - 2 P(T+ <= c - 1) is at least nominal.
    Otherwise the large-sample approximation c = floor(n(n+1)/4 - z sqrt(n(n+1)(2n+1)/24))
    (Hollander, Wolfe & Chicken eq. 3.27; floor makes it conservative).  c < 1 means no
    interval at this confidence exists for this n.
    """
    half_alpha = (1.0 - confidence) / 2.0
    if n <= EXACT_MAX_N:
        cdf = np.cumsum(signed_rank_null_counts(n)) / 2.0**n
        c = int(np.searchsorted(cdf, half_alpha * (1 + 1e-12), side="right"))
        achieved = 1.0 - 2.0 * float(cdf[c - 1]) if c >= 1 else None
        return CiOrder(c=c, achieved_confidence=achieved, exact=True)
    z = float(sps.norm.ppf(1.0 - half_alpha))
    mean = n * (n + 1) / 4.0
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0)
    return CiOrder(c=math.floor(mean - z * sd), achieved_confidence=None, exact=False)
