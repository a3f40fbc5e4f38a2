"""Hodges–Lehmann median difference of paired visits with its distribution-free CI.

The estimate is the median of the Walsh averages of the differences; the interval's orders
come from the exact signed-rank null distribution (:mod:`cobbdesk.core.stats.ranks`), the
order statistics from a full sort or, for many differences, by selection
(:mod:`cobbdesk.core.stats.walsh`).  :func:`~cobbdesk.core.stats.paired.wilcoxon_signed_rank`
reports it as ``hodges_lehmann``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from cobbdesk.core.stats.ranks import EXACT_MAX_N, walsh_averages, walsh_ci_order
from cobbdesk.core.stats.results import (
    FloatArray,
    StatResult,
    UnusableInputError,
    Values,
    as_vector,
    not_computable,
)
from cobbdesk.core.stats.walsh import WalshOrder

HL_METHOD = (
    "Hodges–Lehmann estimate: median of the n(n+1)/2 Walsh averages of the differences; "
    "CI [W(c), W(M+1−c)] with c the largest order for which P(T+ ≤ c−1) ≤ α/2 under the "
    f"exact signed-rank null distribution for n ≤ {EXACT_MAX_N} (Hollander, Wolfe & Chicken "
    "2014, sec. 3.3; as R wilcox.test(conf.int = TRUE, exact = TRUE)), above it under the "
    "normal approximation with continuity correction"
)


@dataclass(frozen=True, kw_only=True)
class HodgesLehmann(StatResult):
    """Hodges–Lehmann median difference with its distribution-free confidence interval.

    ``ci_reason`` says why there is no interval (too few pairs for the confidence level);
    ``achieved_confidence`` is the exact coverage when the exact distribution was used.
    """

    n: int = 0
    estimate: float | None = None
    confidence: float = 0.95
    ci_low: float | None = None
    ci_high: float | None = None
    achieved_confidence: float | None = None
    ci_exact: bool | None = None
    ci_reason: str = ""


SORT_MAX_N = 2000
"""Above this many differences the Walsh order statistics are found by selection."""
SELECTION_NOTE = "Hodges–Lehmann order statistics found by selection (no full Walsh sort)"


def hodges_lehmann(
    differences: Values, confidence: float = 0.95, *, sort_max_n: int = SORT_MAX_N
) -> HodgesLehmann:
    """Hodges–Lehmann estimate and CI from paired differences (see ``HL_METHOD``).

    Missing (NaN/None) differences are ignored.

    >>> h = hodges_lehmann([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    >>> h.estimate, h.ci_low, h.ci_high, h.achieved_confidence
    (3.5, 1.0, 6.0, 0.96875)
    """
    base = HodgesLehmann(method=HL_METHOD, computable=False, confidence=confidence)
    try:
        d = as_vector(differences, "differences")
    except UnusableInputError as exc:
        return replace(base, reason=exc.reason)
    d = d[~np.isnan(d)]
    n = int(d.size)
    base = replace(base, n=n)
    if n == 0:
        return replace(base, reason=not_computable("no differences"))
    kth, kth_pair = _walsh_order_statistic(d, sort_max_n)
    m = n * (n + 1) // 2
    median = _median_of(m, kth, kth_pair)
    notes = [] if n <= sort_max_n else [SELECTION_NOTE]
    if len(np.unique(d)) < n:
        notes.insert(0, "ties among the differences: CI coverage is approximate")
    base = replace(base, computable=True, estimate=float(median), notes=tuple(notes))
    order = walsh_ci_order(n, confidence)
    if order.c < 1:
        why = f"{n} differences are too few for a {confidence:.0%} distribution-free CI"
        return replace(base, ci_reason=why, ci_exact=order.exact)
    return replace(
        base,
        ci_low=kth(order.c),
        ci_high=kth(m + 1 - order.c),
        achieved_confidence=order.achieved_confidence,
        ci_exact=order.exact,
    )


def _median_of(
    m: int, kth: Callable[[int], float], kth_pair: Callable[[int], tuple[float, float]]
) -> float:
    """Median of ``m`` ordered values given by ``kth`` (1-based) and ``kth_pair`` (k, k+1)."""
    if m % 2:
        return kth((m + 1) // 2)
    low, high = kth_pair(m // 2)
    return (low + high) / 2.0


def _walsh_order_statistic(
    d: FloatArray, sort_max_n: int
) -> tuple[Callable[[int], float], Callable[[int], tuple[float, float]]]:
    """k -> the k-th smallest (1-based) Walsh average, and k -> the k-th and (k+1)-th: a full
    sort for small n, else selection (:class:`~cobbdesk.core.stats.walsh.WalshOrder`)."""
    if d.size <= sort_max_n:
        walsh = walsh_averages(d)
        return (lambda k: float(walsh[k - 1])), (lambda k: (float(walsh[k - 1]), float(walsh[k])))
    order = WalshOrder(np.sort(d))
    return order.kth, order.kth_pair
