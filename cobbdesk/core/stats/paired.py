"""Paired comparison of two visits: Wilcoxon signed-rank test (primary), paired t-test.

Differences are always ``after - before`` on complete pairs.  The signed-rank statistic,
its tie-corrected variance and its exact null distribution are computed here from the
definitions (see :mod:`cobbdesk.core.stats.ranks`); the tests check them against scipy.
The paired t-test (:mod:`cobbdesk.core.stats.paired_t`) and the Hodges–Lehmann median
difference (:mod:`cobbdesk.core.stats.median_difference`) live in their own modules and are
re-exported here.

>>> r = wilcoxon_signed_rank([1, 2, 3, 4, 5, 6], [2, 4, 6, 8, 10, 12])
>>> r.w_plus, r.w_minus, r.p_exact
(21.0, 0.0, 0.03125)
>>> round(r.z, 4), round(r.p, 4), r.z_based_on
(-2.2014, 0.0277, 'negative ranks')
>>> wilcoxon_signed_rank([1, 2, 3], [1, 2, 3]).reason
'not computable: all 3 differences are zero'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from cobbdesk.core.stats import distributions as sps
from cobbdesk.core.stats.descriptive import Descriptive, describe
from cobbdesk.core.stats.median_difference import (
    HL_METHOD,
    SELECTION_NOTE,
    SORT_MAX_N,
    HodgesLehmann,
    hodges_lehmann,
)
from cobbdesk.core.stats.paired_t import (
    PAIRED_T_METHOD,
    PairedTResult,
    paired_t_on_differences,
    paired_t_test,
)
from cobbdesk.core.stats.ranks import (
    EXACT_MAX_N,
    SMALL_N_ENUMERATION,
    average_ranks,
    enumerated_two_sided_p,
    exact_two_sided_p,
    tie_sum,
)
from cobbdesk.core.stats.results import (
    MIN_N_ASYMPTOTIC,
    CaseId,
    FloatArray,
    Pairs,
    StatResult,
    UnusableInputError,
    Values,
    complete_pairs,
    not_computable,
)

__all__ = [
    "HL_METHOD",
    "PAIRED_T_METHOD",
    "SELECTION_NOTE",
    "SORT_MAX_N",
    "TIE_DECIMALS",
    "TIE_METHOD",
    "WILCOXON_METHOD",
    "HodgesLehmann",
    "PairedTResult",
    "WilcoxonResult",
    "hodges_lehmann",
    "paired_differences",
    "paired_t_test",
    "wilcoxon_signed_rank",
]

TIE_DECIMALS = 9
"""Differences are rounded to this many decimals before ranking, so that angles recorded
to 0.1° tie as they do on paper (10.3 - 10.2 and 5.2 - 5.1 differ in binary floating
point); it also makes 0.3 - 0.1 - 0.2 a zero difference.  SPSS, PSPP, R and SciPy rank the
unrounded float differences, so their Z can differ slightly on the raw visit columns; the
exports carry ``<measure>_delta`` = :func:`paired_differences`, on which they agree."""
TIE_METHOD = (
    f"differences after − before are rounded to {TIE_DECIMALS} decimals before ranking, so "
    "that values equal on paper tie (10.3 − 10.2 and 5.2 − 5.1 differ in binary floating "
    "point); the exported <measure>_delta columns hold exactly these rounded differences"
)

WILCOXON_METHOD = (
    "Wilcoxon signed-rank test on complete pairs, differences after − before; "
    "zero differences dropped (Wilcoxon's method, as SPSS); tied |differences| get average "
    "ranks; two-sided p from the asymptotic normal approximation with tie correction "
    "Σ(t³−t)/48 in the variance and no continuity correction (as SPSS NPAR TESTS; equals "
    "scipy.stats.wilcoxon(zero_method='wilcox', correction=False, method='approx')). "
    "W = min(T+, T−) (scipy's two-sided statistic); Z = (W − n(n+1)/4)/σ, hence ≤ 0, as "
    "printed by SPSS with the footnote 'based on negative/positive ranks' naming the smaller "
    "sum; z_directional = (T+ − n(n+1)/4)/σ is positive when values rise. "
    "Effect size r = |Z|/√N with N = number of complete pairs (zeros included). "
    f"Exact two-sided p: from the signed-rank null distribution when there are no ties or "
    f"zeros and n ≤ {EXACT_MAX_N}; by enumerating all sign assignments of the average ranks "
    f"when n ≤ {SMALL_N_ENUMERATION} (valid with ties). With fewer than {MIN_N_ASYMPTOTIC} "
    "non-zero differences the exact p is the reported p (small sample). "
    "Hodges–Lehmann estimate = median of the Walsh averages of all complete-pair "
    "differences, with the distribution-free CI from the signed-rank distribution. "
    + TIE_METHOD[0].upper()
    + TIE_METHOD[1:]
    + "."
)


@dataclass(frozen=True, kw_only=True)
class WilcoxonResult(StatResult):
    """Wilcoxon signed-rank test of ``after - before`` (see ``WILCOXON_METHOD``).

    Counts: ``n_total`` cases given, ``n_pairs`` complete, ``excluded_ids`` the others;
    ``zeros`` zero differences (dropped), ``n_used = n_positive + n_negative``.
    Descriptives are given on complete pairs and on all available values of each visit.
    """

    before_label: str = "before"
    after_label: str = "after"
    n_total: int = 0
    n_pairs: int = 0
    n_excluded: int = 0
    excluded_ids: tuple[CaseId, ...] = ()
    zeros: int = 0
    n_used: int = 0
    n_positive: int = 0
    n_negative: int = 0
    w_plus: float | None = None
    w_minus: float | None = None
    w: float | None = None
    mean_rank_positive: float | None = None
    mean_rank_negative: float | None = None
    tie_correction: float | None = None
    expected_w: float | None = None
    sd_w: float | None = None
    z: float | None = None
    z_based_on: str = ""
    z_directional: float | None = None
    p: float | None = None
    p_exact: float | None = None
    p_exact_reason: str = ""
    p_source: str = "asymptotic"
    median_diff: float | None = None
    hodges_lehmann: HodgesLehmann | None = None
    effect_r: float | None = None
    before_complete: Descriptive | None = None
    after_complete: Descriptive | None = None
    before_available: Descriptive | None = None
    after_available: Descriptive | None = None
    t_test: PairedTResult | None = None


@dataclass(frozen=True)
class _RankSums:
    """Signed-rank sums of the non-zero differences."""

    n_used: int
    n_positive: int
    n_negative: int
    w_plus: float
    w_minus: float
    tie_term: float
    has_ties: bool
    ranks: FloatArray


def _rank_sums(d: FloatArray) -> _RankSums:
    """Rank |d| of the non-zero differences (average ties) and sum by sign."""
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return _RankSums(0, 0, 0, 0.0, 0.0, 0.0, False, np.zeros(0))
    ranks, tie_sizes = average_ranks(np.abs(nonzero))
    positive = nonzero > 0
    return _RankSums(
        n_used=int(nonzero.size),
        n_positive=int(np.sum(positive)),
        n_negative=int(np.sum(~positive)),
        w_plus=float(np.sum(ranks[positive])),
        w_minus=float(np.sum(ranks[~positive])),
        tie_term=tie_sum(tie_sizes),
        has_ties=bool(np.any(tie_sizes > 1)),
        ranks=ranks,
    )


def _describe_visits(pairs: Pairs, labels: tuple[str, str]) -> dict[str, Any]:
    """Descriptives of both visits, on complete pairs and on all available values."""
    return {
        "before_complete": describe(pairs.x, name=f"{labels[0]} (complete pairs)"),
        "after_complete": describe(pairs.y, name=f"{labels[1]} (complete pairs)"),
        "before_available": describe(pairs.x_all, name=f"{labels[0]} (all available)"),
        "after_available": describe(pairs.y_all, name=f"{labels[1]} (all available)"),
    }


def _asymptotic(sums: _RankSums, n_pairs: int) -> dict[str, Any]:
    """Tie-corrected normal approximation, SPSS's Z, p and effect size r."""
    n = sums.n_used
    mean = n * (n + 1) / 4.0
    tie_correction = sums.tie_term / 48.0
    sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24.0 - tie_correction)
    w = min(sums.w_plus, sums.w_minus)
    z = (w - mean) / sd
    if sums.w_plus == sums.w_minus:
        based_on = "equal sums of negative and positive ranks"
    else:
        based_on = "negative ranks" if sums.w_minus < sums.w_plus else "positive ranks"
    return {
        "w": w,
        "tie_correction": tie_correction,
        "expected_w": mean,
        "sd_w": sd,
        "z": z,
        "z_based_on": based_on,
        "z_directional": (sums.w_plus - mean) / sd,
        "p": min(1.0, float(2.0 * sps.norm.sf(abs(z)))),
        "effect_r": abs(z) / math.sqrt(n_pairs),
    }


def _exact(sums: _RankSums, zeros: int) -> tuple[float | None, str]:
    """Exact two-sided p, or None and the reason it is not given."""
    if sums.n_used <= SMALL_N_ENUMERATION:
        return enumerated_two_sided_p(sums.ranks, sums.w_plus), ""
    if zeros:
        return None, f"not given: {zeros} zero difference(s) (exact distribution assumes none)"
    if sums.has_ties:
        return None, "not given: tied |differences| (exact distribution assumes no ties)"
    if sums.n_used > EXACT_MAX_N:
        return None, f"not given: n = {sums.n_used} > {EXACT_MAX_N}; asymptotic p applies"
    return exact_two_sided_p(round(min(sums.w_plus, sums.w_minus)), sums.n_used), ""


def wilcoxon_signed_rank(
    before: Values,
    after: Values,
    *,
    ids: Sequence[CaseId] | None = None,
    before_label: str = "before",
    after_label: str = "after",
    confidence: float = 0.95,
) -> WilcoxonResult:
    """Wilcoxon signed-rank test of ``after - before`` on complete pairs.

    Parameters
    ----------
    before, after
        Values of each case at the two visits (NaN/None for missing).
    ids
        Case ids, reported for excluded cases (positions 0, 1, ... when omitted).
    before_label, after_label
        Visit names used in the descriptives and messages.
    confidence
        Level of the Hodges–Lehmann interval.

    Returns
    -------
    WilcoxonResult
        Not computable with no complete pair or all differences zero.  With fewer than
        ``MIN_N_ASYMPTOTIC`` non-zero differences ``p`` is the exact p (``p_source`` =
        "exact", a small-sample note).  See ``WILCOXON_METHOD`` for the
        conventions (Wilcoxon 1945; SPSS Statistics Algorithms, NPAR TESTS WILCOXON).
    """
    base = WilcoxonResult(
        method=WILCOXON_METHOD,
        computable=False,
        before_label=before_label,
        after_label=after_label,
    )
    try:
        pairs = complete_pairs(before, after, ids, (before_label, after_label))
    except UnusableInputError as exc:
        return replace(base, reason=exc.reason)
    base = replace(
        base,
        n_total=pairs.n_total,
        n_pairs=pairs.n,
        n_excluded=len(pairs.excluded_ids),
        excluded_ids=pairs.excluded_ids,
        **_describe_visits(pairs, (before_label, after_label)),
    )
    if pairs.n == 0:
        return replace(base, reason=not_computable(f"no complete pairs among {pairs.n_total}"))
    return _test_differences(base, paired_differences(pairs.x, pairs.y), confidence)


def paired_differences(before: FloatArray, after: FloatArray) -> FloatArray:
    """``after - before`` rounded to ``TIE_DECIMALS`` decimals: exactly what is ranked.

    Shapes: two equal-length float arrays (NaN stays NaN).  The exports write these values as
    ``<measure>_delta`` so that any package ranks the same numbers.

    >>> paired_differences(np.array([10.2, 5.1]), np.array([10.3, 5.2])).tolist()
    [0.1, 0.1]
    """
    return np.asarray(np.round(after - before, TIE_DECIMALS), dtype=np.float64)


def _test_differences(base: WilcoxonResult, d: FloatArray, confidence: float) -> WilcoxonResult:
    """Fill ``base`` with the test on the complete-pair differences ``d``."""
    sums = _rank_sums(d)
    zeros = int(d.size - sums.n_used)
    base = replace(
        base,
        zeros=zeros,
        n_used=sums.n_used,
        n_positive=sums.n_positive,
        n_negative=sums.n_negative,
        w_plus=sums.w_plus,
        w_minus=sums.w_minus,
        mean_rank_positive=sums.w_plus / sums.n_positive if sums.n_positive else None,
        mean_rank_negative=sums.w_minus / sums.n_negative if sums.n_negative else None,
        median_diff=float(np.median(d)),
        t_test=paired_t_on_differences(d, confidence),
    )
    if sums.n_used == 0:
        return replace(base, reason=not_computable(f"all {d.size} differences are zero"))
    p_exact, p_exact_reason = _exact(sums, zeros)
    result = replace(
        base,
        computable=True,
        **_asymptotic(sums, int(d.size)),
        p_exact=p_exact,
        p_exact_reason=p_exact_reason,
        hodges_lehmann=hodges_lehmann(d, confidence),
    )
    if sums.n_used >= MIN_N_ASYMPTOTIC:
        return result
    note = (
        f"small sample: {sums.n_used} non-zero difference(s) ({zeros} zero), fewer than "
        f"{MIN_N_ASYMPTOTIC}; p is the exact two-sided p (enumerated), not the normal "
        "approximation; Z is shown as SPSS prints it"
    )
    return replace(result, p=p_exact, p_source="exact", notes=(*result.notes, note))
