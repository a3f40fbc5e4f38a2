"""Paired t-test of two visits: ``after - before`` on complete pairs (Student 1908).

The parametric companion of the Wilcoxon signed-rank test in
:mod:`cobbdesk.core.stats.paired`, which reports it alongside (``WilcoxonResult.t_test``).

>>> r = paired_t_test([1, 2, 3, 4], [2, 4, 5, 7])
>>> r.mean_diff, r.df, round(r.t, 4)
(2.0, 3, 4.899)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from cobbdesk.core.stats import distributions as sps
from cobbdesk.core.stats.results import (
    CaseId,
    FloatArray,
    StatResult,
    UnusableInputError,
    Values,
    complete_pairs,
    fmt,
    not_computable,
)

PAIRED_T_METHOD = (
    "paired t-test on complete pairs, differences after − before: t = mean/(SD/√n), "
    "df = n − 1, two-sided p, CI = mean ± t(1−α/2, df)·SD/√n (Student 1908)"
)


@dataclass(frozen=True, kw_only=True)
class PairedTResult(StatResult):
    """Paired t-test of ``after - before``."""

    n: int = 0
    mean_diff: float | None = None
    sd_diff: float | None = None
    t: float | None = None
    df: int | None = None
    p: float | None = None
    confidence: float = 0.95
    ci_low: float | None = None
    ci_high: float | None = None


def paired_t_test(
    before: Values,
    after: Values,
    *,
    ids: Sequence[CaseId] | None = None,
    confidence: float = 0.95,
) -> PairedTResult:
    """Paired t-test of ``after - before`` on complete pairs (see ``PAIRED_T_METHOD``).

    Not computable with fewer than 2 pairs or when all differences are equal (SD = 0).
    """
    try:
        pairs = complete_pairs(before, after, ids, ("before", "after"))
    except UnusableInputError as exc:
        return PairedTResult(method=PAIRED_T_METHOD, computable=False, reason=exc.reason)
    return paired_t_on_differences(pairs.y - pairs.x, confidence)


def paired_t_on_differences(d: FloatArray, confidence: float) -> PairedTResult:
    """Paired t-test on the differences ``d`` (1-D float array) of complete pairs."""
    n = int(d.size)
    base = PairedTResult(method=PAIRED_T_METHOD, computable=False, n=n, confidence=confidence)
    if n < 2:
        return replace(base, reason=not_computable(f"{n} complete pair(s); need at least 2"))
    mean, sd = float(np.mean(d)), float(np.std(d, ddof=1))
    if sd <= 1e-12 * max(1.0, abs(mean)):
        why = f"all {n} differences equal {fmt(mean, 6)}, so SD = 0 and t is undefined"
        return replace(base, reason=not_computable(why), mean_diff=mean, sd_diff=0.0)
    se = sd / math.sqrt(n)
    t = mean / se
    half = float(sps.t.ppf(0.5 + confidence / 2.0, n - 1)) * se
    return replace(
        base,
        computable=True,
        mean_diff=mean,
        sd_diff=sd,
        t=t,
        df=n - 1,
        p=float(2.0 * sps.t.sf(abs(t), n - 1)),
        ci_low=mean - half,
        ci_high=mean + half,
    )
