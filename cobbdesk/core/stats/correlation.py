"""Spearman rank correlation between two variables (e.g. a Cobb angle and a lab value).

>>> r = spearman([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5], x_name="Cobb", y_name="CRP")
>>> r.n, round(r.rho, 4), round(r.p, 4)
(6, 0.8286, 0.0416)
>>> spearman([1, 2, 3, 4, 5, 6], [3] * 6, x_name="Cobb", y_name="CRP").reason
'not computable: CRP is constant over the 6 complete pairs (every value is 3)'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from cobbdesk.core.stats import distributions as sps
from cobbdesk.core.stats.ranks import average_ranks
from cobbdesk.core.stats.results import (
    MIN_N_ASYMPTOTIC,
    CaseId,
    FloatArray,
    StatResult,
    UnusableInputError,
    Values,
    complete_pairs,
    not_computable,
)

SPEARMAN_METHOD = (
    "Spearman rank correlation on pairwise-complete cases: Pearson correlation of the "
    "ranks, tied values given average ranks; two-sided p from the t approximation "
    "t = rho·√((n−2)/(1−rho²)) with n − 2 df (as SPSS NONPAR CORR and scipy.stats.spearmanr); "
    "|rho| = 1 is reported with p = 0"
)
PERFECT_TOLERANCE = 1e-12
"""|rho| within this of 1 is treated as a perfect monotone association."""


@dataclass(frozen=True, kw_only=True)
class SpearmanResult(StatResult):
    """Spearman's rho between ``x_name`` and ``y_name`` (at ``visit`` when given).

    ``t`` is None when |rho| = 1 (t is infinite there; ``p`` is then 0, see ``notes``).
    """

    x_name: str = ""
    y_name: str = ""
    visit: str | None = None
    n_total: int = 0
    n: int = 0
    n_excluded: int = 0
    excluded_ids: tuple[CaseId, ...] = ()
    rho: float | None = None
    t: float | None = None
    df: int | None = None
    p: float | None = None


def spearman(
    x: Values,
    y: Values,
    *,
    x_name: str,
    y_name: str,
    visit: str | None = None,
    ids: Sequence[CaseId] | None = None,
) -> SpearmanResult:
    """Spearman's rho with a two-sided p on pairwise-complete cases.

    Parameters
    ----------
    x, y
        The two variables (NaN/None for missing), one value per case.
    x_name, y_name
        Variable names for reports and messages.
    visit
        Visit the values belong to (e.g. ``"admission"``), recorded in the result.
    ids
        Case ids, reported for excluded cases (positions 0, 1, ... when omitted).

    Returns
    -------
    SpearmanResult
        Not computable with fewer than ``MIN_N_ASYMPTOTIC`` complete pairs or when a
        variable is constant.  Formula: Spearman (1904); t approximation as in SPSS
        Statistics Algorithms (NONPAR CORR) and Zar, *Biostatistical Analysis*, sec. 19.9.
    """
    base = SpearmanResult(
        method=SPEARMAN_METHOD, computable=False, x_name=x_name, y_name=y_name, visit=visit
    )
    try:
        pairs = complete_pairs(x, y, ids, (x_name, y_name))
    except UnusableInputError as exc:
        return replace(base, reason=exc.reason)
    base = replace(
        base,
        n_total=pairs.n_total,
        n=pairs.n,
        n_excluded=len(pairs.excluded_ids),
        excluded_ids=pairs.excluded_ids,
    )
    if pairs.n < MIN_N_ASYMPTOTIC:
        why = f"{pairs.n} complete pair(s) of {pairs.n_total}; need at least {MIN_N_ASYMPTOTIC}"
        return replace(base, reason=not_computable(why))
    for values, name in ((pairs.x, x_name), (pairs.y, y_name)):
        if np.all(values == values[0]):
            why = f"{name} is constant over the {pairs.n} complete pairs"
            why += f" (every value is {values[0]:g})"
            return replace(base, reason=not_computable(why))
    return _rho_and_p(base, pairs.x, pairs.y)


def _rho_and_p(base: SpearmanResult, x: FloatArray, y: FloatArray) -> SpearmanResult:
    """Fill ``base`` with rho, t, df and p for non-constant complete pairs ``x``, ``y``."""
    rx, _ = average_ranks(x)
    ry, _ = average_ranks(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    rho = float(np.sum(rx * ry) / math.sqrt(float(np.sum(rx**2)) * float(np.sum(ry**2))))
    df = int(x.size) - 2
    if abs(rho) >= 1.0 - PERFECT_TOLERANCE:
        note = f"rho = {rho:+.0f}: perfect monotone association; t is infinite, p reported as 0"
        rho = math.copysign(1.0, rho)
        return replace(base, computable=True, rho=rho, df=df, p=0.0, notes=(note,))
    t = rho * math.sqrt(df / (1.0 - rho**2))
    return replace(base, computable=True, rho=rho, t=t, df=df, p=float(2.0 * sps.t.sf(abs(t), df)))
