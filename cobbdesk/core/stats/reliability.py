"""Measurement reliability: ICC, Bland–Altman limits of agreement, SEM and MDC.

>>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
>>> r = icc_a1(sf)  # Shrout & Fleiss (1979) Table 2
>>> round(r.icc, 2), round(r.icc_c1, 2), round(r.ci_low, 2), round(r.ci_high, 2)
(0.29, 0.71, 0.02, 0.76)
>>> s = sem_mdc(0.9, 5.0)
>>> round(s.sem, 3), round(s.mdc95, 3)
(1.581, 4.383)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from cobbdesk.core.stats import distributions as sps
from cobbdesk.core.stats.results import (
    CaseId,
    FloatArray,
    StatResult,
    UnusableInputError,
    Values,
    complete_pairs,
    not_computable,
    resolve_ids,
)

ICC_METHOD = (
    "ICC(A,1): two-way random effects, absolute agreement, single rater (McGraw & Wong "
    "1996; = Shrout & Fleiss 1979 ICC(2,1)) = (MSR − MSE)/(MSR + (k−1)MSE + k(MSC − MSE)/n) "
    "from the two-way ANOVA without replication on complete rows; CI from McGraw & Wong "
    "(1996) Table 7 case 2A (approximate F with Satterthwaite df); F = MSR/MSE tests ICC = 0 "
    "with df (n−1, (n−1)(k−1)). Secondary: ICC(C,1) consistency = (MSR − MSE)/(MSR + (k−1)MSE) "
    "(= Shrout & Fleiss ICC(3,1)) with its exact F-based CI."
)
BLAND_ALTMAN_METHOD = (
    "Bland–Altman: differences a − b on complete pairs; bias = mean difference, SD with n−1; "
    "95% limits of agreement = bias ± 1.96·SD; CIs with t(0.975, n−1): bias ± t·SD/√n, "
    "limits ± t·√3·SD/√n (Bland & Altman 1999, Stat Methods Med Res 8:135, approximate SE)"
)
SEM_METHOD = (
    "SEM = SD·√(1 − ICC); MDC95 = 1.96·√2·SEM (Weir 2005, J Strength Cond Res 19:231); "
    "SD is the between-subject SD of the measurements"
)
MDC_FLAG_METHOD = "change flagged when |Δ| < MDC95 (within measurement error); missing Δ → None"
LOA_Z = 1.96


@dataclass(frozen=True, kw_only=True)
class IccResult(StatResult):
    """ICC(A,1) with CI and F test, plus ICC(C,1); mean squares of the two-way ANOVA."""

    n_subjects: int = 0
    n_raters: int = 0
    n_dropped: int = 0
    dropped_ids: tuple[CaseId, ...] = ()
    icc: float | None = None
    confidence: float = 0.95
    ci_low: float | None = None
    ci_high: float | None = None
    f: float | None = None
    df1: int | None = None
    df2: int | None = None
    p: float | None = None
    icc_c1: float | None = None
    icc_c1_ci_low: float | None = None
    icc_c1_ci_high: float | None = None
    ms_rows: float | None = None
    ms_cols: float | None = None
    ms_error: float | None = None


@dataclass(frozen=True, kw_only=True)
class BlandAltmanResult(StatResult):
    """Bias and 95 % limits of agreement of ``a - b``, each with a confidence interval."""

    a_name: str = "a"
    b_name: str = "b"
    n_total: int = 0
    n: int = 0
    n_excluded: int = 0
    excluded_ids: tuple[CaseId, ...] = ()
    bias: float | None = None
    sd_diff: float | None = None
    loa_low: float | None = None
    loa_high: float | None = None
    bias_ci_low: float | None = None
    bias_ci_high: float | None = None
    loa_low_ci_low: float | None = None
    loa_low_ci_high: float | None = None
    loa_high_ci_low: float | None = None
    loa_high_ci_high: float | None = None


@dataclass(frozen=True, kw_only=True)
class SemMdc(StatResult):
    """Standard error of measurement and minimal detectable change (95 %)."""

    icc: float | None = None
    sd: float | None = None
    sem: float | None = None
    mdc95: float | None = None


@dataclass(frozen=True, kw_only=True)
class MdcFlags(StatResult):
    """Per-case flag: True when |Δ| < MDC (change within measurement error)."""

    mdc: float | None = None
    flags: tuple[bool | None, ...] = ()
    n_below: int = 0
    n_at_or_above: int = 0
    n_missing: int = 0


def _complete_rows(
    matrix: npt.ArrayLike, ids: Sequence[CaseId] | None
) -> tuple[FloatArray, tuple[CaseId, ...]]:
    """Rows without a missing rating, and the ids of the dropped rows."""
    try:
        data = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise UnusableInputError(f"ratings are not all numbers ({exc})") from exc
    if data.ndim != 2:
        raise UnusableInputError(
            f"ratings must be a subjects × raters table; got shape {data.shape}"
        )
    if np.isinf(data).any():
        raise UnusableInputError("ratings contain infinite values")
    row_ids = resolve_ids(ids, data.shape[0])
    keep = np.asarray(~np.isnan(data).any(axis=1), dtype=np.bool_)
    dropped = tuple(i for i, k in zip(row_ids, keep.tolist(), strict=True) if not k)
    return data[keep], dropped


def _mean_squares(x: FloatArray) -> tuple[float, float, float]:
    """MSR (subjects), MSC (raters), MSE of the two-way ANOVA without replication."""
    n, k = x.shape
    grand = float(x.mean())
    ss_rows = k * float(np.sum((x.mean(axis=1) - grand) ** 2))
    ss_cols = n * float(np.sum((x.mean(axis=0) - grand) ** 2))
    ss_error = max(0.0, float(np.sum((x - grand) ** 2)) - ss_rows - ss_cols)
    return ss_rows / (n - 1), ss_cols / (k - 1), ss_error / ((n - 1) * (k - 1))


def _icc_a1_ci(
    ms: tuple[float, float, float], n: int, k: int, icc: float, confidence: float
) -> tuple[float, float]:
    """McGraw & Wong (1996) Table 7, case 2A: CI of ICC(A,1)."""
    msr, msc, mse = ms
    a = k * icc / (n * (1.0 - icc))
    b = 1.0 + k * icc * (n - 1) / (n * (1.0 - icc))
    v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1)))
    q = 0.5 + confidence / 2.0
    f_upper = float(sps.f.ppf(q, n - 1, v))
    f_lower = float(sps.f.ppf(q, v, n - 1))
    c = k * msc + (k * n - k - n) * mse
    low = n * (msr - f_upper * mse) / (f_upper * c + n * msr)
    high = n * (f_lower * msr - mse) / (c + n * f_lower * msr)
    return low, high


def _icc_c1_ci(f: float, df1: int, df2: int, k: int, confidence: float) -> tuple[float, float]:
    """McGraw & Wong (1996) Table 7, case 3 (consistency): exact F-based CI of ICC(C,1)."""
    q = 0.5 + confidence / 2.0
    f_low = f / float(sps.f.ppf(q, df1, df2))
    f_high = f * float(sps.f.ppf(q, df2, df1))
    return (f_low - 1.0) / (f_low + k - 1.0), (f_high - 1.0) / (f_high + k - 1.0)


def icc_a1(
    matrix: npt.ArrayLike, *, ids: Sequence[CaseId] | None = None, confidence: float = 0.95
) -> IccResult:
    """ICC(A,1) (absolute agreement, single rater) with CI and F test; ICC(C,1) as well.

    Parameters
    ----------
    matrix
        Rows = subjects (films), columns = raters or sessions; NaN for a missing rating.
        Rows with any missing rating are dropped and counted.
    ids
        Row ids reported for dropped rows (positions 0, 1, ... when omitted).
    confidence
        Level of the confidence intervals.

    Returns
    -------
    IccResult
        Not computable with fewer than 2 complete subjects or 2 raters, or when the
        residual mean square is 0 (F and the CIs are then undefined).
    """
    base = IccResult(method=ICC_METHOD, computable=False, confidence=confidence)
    try:
        x, dropped = _complete_rows(matrix, ids)
    except UnusableInputError as exc:
        return replace(base, reason=exc.reason)
    n, k = x.shape
    base = replace(base, n_subjects=n, n_raters=k, n_dropped=len(dropped), dropped_ids=dropped)
    if n < 2 or k < 2:
        why = f"{n} complete subject(s) × {k} rater(s); need at least 2 × 2"
        return replace(base, reason=not_computable(why))
    msr, msc, mse = _mean_squares(x)
    base = replace(base, ms_rows=msr, ms_cols=msc, ms_error=mse)
    if mse <= 1e-12 * max(msr, msc, 1e-300):
        why = "the residual mean square is 0 (every rater differs from the others by a constant)"
        return replace(base, reason=not_computable(why + "; F and the CIs are undefined"))
    icc = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    f, df1, df2 = msr / mse, n - 1, (n - 1) * (k - 1)
    low, high = _icc_a1_ci((msr, msc, mse), n, k, icc, confidence)
    c_low, c_high = _icc_c1_ci(f, df1, df2, k, confidence)
    return replace(
        base,
        computable=True,
        icc=icc,
        ci_low=low,
        ci_high=high,
        f=f,
        df1=df1,
        df2=df2,
        p=float(sps.f.sf(f, df1, df2)),
        icc_c1=(msr - mse) / (msr + (k - 1) * mse),
        icc_c1_ci_low=c_low,
        icc_c1_ci_high=c_high,
    )


def bland_altman(
    a: Values,
    b: Values,
    *,
    ids: Sequence[CaseId] | None = None,
    a_name: str = "a",
    b_name: str = "b",
) -> BlandAltmanResult:
    """Bland–Altman bias and 95 % limits of agreement of ``a - b`` on complete pairs.

    Not computable with fewer than 2 complete pairs (see ``BLAND_ALTMAN_METHOD``).

    >>> r = bland_altman([10.0, 12.0, 14.0, 16.0], [9.0, 12.0, 13.0, 14.0])
    >>> r.bias, round(r.sd_diff, 4), round(r.loa_low, 4), round(r.loa_high, 4)
    (1.0, 0.8165, -0.6003, 2.6003)
    """
    base = BlandAltmanResult(
        method=BLAND_ALTMAN_METHOD, computable=False, a_name=a_name, b_name=b_name
    )
    try:
        pairs = complete_pairs(a, b, ids, (a_name, b_name))
    except UnusableInputError as exc:
        return replace(base, reason=exc.reason)
    n = pairs.n
    base = replace(
        base,
        n_total=pairs.n_total,
        n=n,
        n_excluded=len(pairs.excluded_ids),
        excluded_ids=pairs.excluded_ids,
    )
    if n < 2:
        return replace(base, reason=not_computable(f"{n} complete pair(s); need at least 2"))
    d = pairs.x - pairs.y
    bias, sd = float(np.mean(d)), float(np.std(d, ddof=1))
    t = float(sps.t.ppf(0.975, n - 1))
    se_bias, se_loa = sd / math.sqrt(n), math.sqrt(3.0) * sd / math.sqrt(n)
    low, high = bias - LOA_Z * sd, bias + LOA_Z * sd
    notes = ("all differences are equal: SD = 0, limits equal the bias",) if sd == 0 else ()
    return replace(
        base,
        computable=True,
        notes=notes,
        bias=bias,
        sd_diff=sd,
        loa_low=low,
        loa_high=high,
        bias_ci_low=bias - t * se_bias,
        bias_ci_high=bias + t * se_bias,
        loa_low_ci_low=low - t * se_loa,
        loa_low_ci_high=low + t * se_loa,
        loa_high_ci_low=high - t * se_loa,
        loa_high_ci_high=high + t * se_loa,
    )


def sem_mdc(icc: float, sd: float) -> SemMdc:
    """SEM = SD·√(1 − ICC) and MDC95 = 1.96·√2·SEM (Weir 2005).

    Not computable unless 0 ≤ ICC ≤ 1 and SD ≥ 0 are finite numbers.
    """
    base = SemMdc(method=SEM_METHOD, computable=False)
    if not (math.isfinite(icc) and 0.0 <= icc <= 1.0):
        why = f"ICC = {icc} is outside 0..1 (a negative ICC means no reliability)"
        return replace(base, reason=not_computable(why))
    if not (math.isfinite(sd) and sd >= 0.0):
        return replace(base, icc=icc, reason=not_computable(f"SD = {sd} is not a number ≥ 0"))
    sem = sd * math.sqrt(1.0 - icc)
    return replace(base, computable=True, icc=icc, sd=sd, sem=sem, mdc95=LOA_Z * math.sqrt(2) * sem)


def flag_changes_below_mdc(deltas: Values, mdc: float) -> MdcFlags:
    """Flag each change Δ with True when |Δ| < ``mdc`` (None when Δ is missing).

    >>> r = flag_changes_below_mdc([1.0, -6.0, None, 4.38], 4.38)
    >>> r.flags, r.n_below, r.n_at_or_above, r.n_missing
    ((True, False, None, False), 1, 2, 1)
    """
    base = MdcFlags(method=MDC_FLAG_METHOD, computable=False)
    if not (math.isfinite(mdc) and mdc > 0.0):
        return replace(base, reason=not_computable(f"MDC = {mdc} is not a positive number"))
    try:
        values = complete_pairs(deltas, deltas, None, ("changes", "changes")).x_all
    except UnusableInputError as exc:
        return replace(base, reason=exc.reason)
    flags = tuple(None if math.isnan(v) else bool(abs(v) < mdc) for v in values.tolist())
    return replace(
        base,
        computable=True,
        mdc=mdc,
        flags=flags,
        n_below=sum(flag is True for flag in flags),
        n_at_or_above=sum(flag is False for flag in flags),
        n_missing=sum(flag is None for flag in flags),
    )
