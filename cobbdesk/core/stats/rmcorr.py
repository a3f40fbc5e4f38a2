"""Repeated-measures correlation (rmcorr): one association over several visits per patient.

Pooling both visits of every patient into one Spearman or Pearson correlation treats a
patient's two observations as independent.  rmcorr (Bakdash & Marusich 2017, *Front.
Psychol.* 8:456) removes each patient's own mean from x and y (the ANCOVA
``y ~ patient + x``) and correlates what is left, so only within-patient co-variation counts:

* x'ᵢⱼ = xᵢⱼ − x̄ᵢ, y'ᵢⱼ = yᵢⱼ − ȳᵢ over patients i with ≥ 2 complete observations j;
* r_rm = Σx'y' / √(Σx'² Σy'²) (= sign(β)·√(SS_x / (SS_x + SS_error)) of the ANCOVA);
* df = N − k − 1 (N complete observations, k patients); t = r_rm·√(df / (1 − r_rm²)),
  two-sided p with df degrees of freedom (= the ANCOVA's F test of x).

>>> r = rmcorr([1, 2, 1, 3, 2, 2], [2, 4, 1, 4, 0, 1], ["a", "a", "b", "b", "c", "c"],
...            x_name="x", y_name="y")
>>> round(r.r, 4), r.df, r.n_subjects
(0.9562, 2, 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from cobbdesk.core.stats import distributions as sps
from cobbdesk.core.stats.results import (
    CaseId,
    StatResult,
    UnusableInputError,
    Values,
    complete_pairs,
    not_computable,
)

RMCORR_METHOD = (
    "repeated-measures correlation (rmcorr; Bakdash & Marusich 2017): Pearson correlation of "
    "x and y after removing each patient's mean (ANCOVA y ~ patient + x) over patients with "
    "at least two complete visits; df = N − k − 1 (N observations, k patients); two-sided p "
    "from t = r·√(df/(1 − r²)) (equal to the ANCOVA F test of x)"
)
MIN_DF = 2
"""Smallest df = N − k − 1 for which r_rm and p are reported."""


@dataclass(frozen=True, kw_only=True)
class RmcorrResult(StatResult):
    """r_rm between ``x_name`` and ``y_name`` over repeated observations of subjects."""

    x_name: str = ""
    y_name: str = ""
    n_observations: int = 0
    n_subjects: int = 0
    r: float | None = None
    df: int | None = None
    t: float | None = None
    p: float | None = None


def rmcorr(
    x: Values,
    y: Values,
    subjects: Sequence[CaseId] | np.ndarray,
    *,
    x_name: str,
    y_name: str,
) -> RmcorrResult:
    """Repeated-measures correlation of ``x`` and ``y`` (see the module docstring).

    Parameters
    ----------
    x, y
        One value per observation (NaN/None for missing), shape (N,).
    subjects
        The subject (patient) of each observation, shape (N,).

    Returns
    -------
    RmcorrResult
        Not computable when fewer than ``MIN_DF`` residual df remain or x or y does not vary
        within any patient.
    """
    base = RmcorrResult(method=RMCORR_METHOD, computable=False, x_name=x_name, y_name=y_name)
    try:
        pairs = complete_pairs(x, y, None, (x_name, y_name))
    except UnusableInputError as exc:
        return replace(base, reason=exc.reason)
    labels = _subject_codes(subjects)  # ints: np.unique on 10⁵ strings is ~20x slower
    if labels.shape != pairs.x_all.shape:
        why = f"{labels.size} subjects were given for {pairs.x_all.size} observations"
        return replace(base, reason=not_computable(why))
    complete = ~(np.isnan(pairs.x_all) | np.isnan(pairs.y_all))
    code = np.unique(labels[complete], return_inverse=True)[1].reshape(-1)
    keep = np.bincount(code)[code] >= 2 if code.size else np.zeros(0, dtype=bool)
    code = np.unique(code[keep], return_inverse=True)[1].reshape(-1)
    xs, ys = pairs.x[keep], pairs.y[keep]
    n, k = int(xs.size), int(code.max()) + 1 if code.size else 0
    base = replace(base, n_observations=n, n_subjects=k)
    df = n - k - 1
    if df < MIN_DF:
        why = f"{n} observation(s) of {k} patient(s) with two visits give df = {df}; need {MIN_DF}"
        return replace(base, reason=not_computable(why))
    dx = xs - (np.bincount(code, xs) / np.bincount(code))[code]
    dy = ys - (np.bincount(code, ys) / np.bincount(code))[code]
    sxx, syy, sxy = _dot(dx, dx), _dot(dy, dy), _dot(dx, dy)
    for ss, name in ((sxx, x_name), (syy, y_name)):
        if ss <= 1e-24:
            return replace(base, reason=not_computable(f"{name} does not change within patients"))
    r = max(-1.0, min(1.0, sxy / math.sqrt(sxx * syy)))
    if abs(r) >= 1.0 - 1e-12:
        note = "perfect within-patient association; t is infinite, p reported as 0"
        return replace(base, computable=True, r=r, df=df, p=0.0, notes=(note,))
    t = r * math.sqrt(df / (1.0 - r * r))
    p = float(2.0 * sps.t.sf(abs(t), df))
    return replace(base, computable=True, r=r, df=df, t=t, p=p)


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ aᵢbᵢ, correctly rounded (``math.fsum`` of the products): the same bits on every
    machine.  ``a @ b`` goes to the BLAS, whose threads (their number depends on the CPU and
    the BLAS build) split the sum differently; it also made each call wait ~20 ms for those
    threads on a loaded machine."""
    return math.fsum((a * b).tolist())


def _subject_codes(subjects: Sequence[CaseId] | np.ndarray) -> np.ndarray:
    """One integer per observation, equal for equal subjects (order of first appearance);
    an integer array is already such codes (its values are only compared)."""
    if isinstance(subjects, np.ndarray) and subjects.dtype.kind in "iu":
        return subjects.astype(np.int64).reshape(-1)
    index: dict[CaseId, int] = {}
    return np.fromiter((index.setdefault(s, len(index)) for s in subjects), dtype=np.int64)
