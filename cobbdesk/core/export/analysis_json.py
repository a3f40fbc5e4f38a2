"""The ``cobbdesk stats --json`` entries of each statistic (plain JSON types; NaN and
infinities as None), shared by the pandas and the numpy analysis paths."""

from __future__ import annotations

from typing import Any

from cobbdesk.core.export.columns import MEASURES
from cobbdesk.core.stats import (
    Descriptive,
    RmcorrResult,
    SpearmanResult,
    StatResult,
    WilcoxonResult,
)
from cobbdesk.core.stats.results import jsonable

LABELS = {m.name: m.label for m in MEASURES}


def _common(result: StatResult) -> dict[str, Any]:
    return {"method": result.method, "computable": result.computable, "reason": result.reason}


def wilcoxon_dict(measure: str, r: WilcoxonResult) -> dict[str, Any]:
    """One ``"wilcoxon"`` entry of ``--json`` for ``measure`` (a key of :data:`LABELS`).

    Month 3 vs admission: W, z, p (and exact p), median difference, Hodges–Lehmann estimate with
    its CI, effect size r, means ± SD of the complete pairs and the paired t-test; differences
    are in the measure's unit (degrees for the Cobb angles).  ``KeyError`` for an unknown measure.
    """
    hl = r.hodges_lehmann
    t = r.t_test
    return {
        "measure": measure,
        "label": LABELS[measure],
        **_common(r),
        "n": r.n_pairs,
        "n_total": r.n_total,
        "n_excluded": r.n_excluded,
        "excluded_ids": [str(i) for i in r.excluded_ids],
        "zeros": r.zeros,
        "w": jsonable(r.w),
        "z": jsonable(r.z),
        "p": jsonable(r.p),
        "p_exact": jsonable(r.p_exact),
        "p_source": r.p_source,
        "median_diff": jsonable(r.median_diff),
        "hl_estimate": jsonable(hl.estimate) if hl else None,
        "hl_ci_low": jsonable(hl.ci_low) if hl else None,
        "hl_ci_high": jsonable(hl.ci_high) if hl else None,
        "effect_r": jsonable(r.effect_r),
        "mean_sd_admission": r.before_complete.mean_sd if r.before_complete else "",
        "mean_sd_month3": r.after_complete.mean_sd if r.after_complete else "",
        "t_test": t.to_dict() if t else None,
        "detail": r.to_dict(),
    }


def spearman_dict(r: SpearmanResult) -> dict[str, Any]:
    """One ``"spearman"`` entry of ``--json``: x, y, visit, n, rho, p and the excluded cases."""
    return {
        "x": r.x_name,
        "y": r.y_name,
        "visit": r.visit,
        **_common(r),
        "n": r.n,
        "rho": jsonable(r.rho),
        "p": jsonable(r.p),
        "n_excluded": r.n_excluded,
        "excluded_ids": [str(i) for i in r.excluded_ids],
    }


def rmcorr_dict(r: RmcorrResult) -> dict[str, Any]:
    """One ``"rmcorr"`` entry of ``--json``: x, y, observations, patients, r, df and p."""
    return {
        "x": r.x_name,
        "y": r.y_name,
        **_common(r),
        "n_observations": r.n_observations,
        "n_patients": r.n_subjects,
        "r": jsonable(r.r),
        "df": r.df,
        "p": jsonable(r.p),
    }


def descriptive_dict(variable: str, visit: str, d: Descriptive) -> dict[str, Any]:
    """One ``"descriptives"`` entry of ``--json``: n, missing, min, max, mean, SD of
    ``variable`` at ``visit`` (in the variable's unit).
    """
    keys = ("n", "missing", "minimum", "maximum", "mean", "sd", "mean_sd")
    return {
        "variable": variable,
        "visit": visit,
        **_common(d),
        **{k: jsonable(getattr(d, k)) for k in keys},
    }
