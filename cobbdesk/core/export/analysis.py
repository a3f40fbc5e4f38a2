"""The study's statistics, computed with :mod:`cobbdesk.core.stats` on the analysis dataset.

* The analysis dataset is exactly what the export writes under the same rater policy
  (:mod:`~cobbdesk.core.export.policy`): one row per patient and visit; by default each angle
  is the **mean over raters** of each rater's most recent reading; labs are per visit.
* Wilcoxon signed-rank (primary) and paired t-test (secondary), month 3 vs admission, on
  complete pairs, for both regions and every numeric lab value, on the differences exported
  as ``<measure>_delta``.
* Spearman rho between VAS and each angle and numeric lab (incl. NLR) at each visit, and
  the repeated-measures correlation (rmcorr) over both visits (Bakdash & Marusich 2017) in
  place of a pooled correlation that would treat a patient's two visits as independent.
* Descriptives (n, min, max, mean, SD) of every numeric variable at each visit.
* Reliability per region when at least two raters measured: ICC(A,1) over films
  (patient × visit) with every rater's value, Bland–Altman of the first two raters (by
  name), SEM/MDC95 with the SD of all ratings of the complete films, and the month-3
  changes (mean over raters) smaller than the MDC95.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from cobbdesk.core.export.analysis_json import (  # LABELS: re-exported for the report
    LABELS,
    descriptive_dict,
    rmcorr_dict,
    spearman_dict,
    wilcoxon_dict,
)
from cobbdesk.core.export.columns import EVENTS, MEASURES, NUMERIC_LABS, REGIONS
from cobbdesk.core.export.policy import MEAN, RaterPolicy, apply_policy
from cobbdesk.core.stats import (
    BlandAltmanResult,
    Descriptive,
    IccResult,
    MdcFlags,
    RmcorrResult,
    SemMdc,
    SpearmanResult,
    WilcoxonResult,
    bland_altman,
    describe,
    flag_changes_below_mdc,
    icc_a1,
    rmcorr,
    sem_mdc,
    spearman,
    wilcoxon_signed_rank,
)
from cobbdesk.core.stats.paired import TIE_METHOD
from cobbdesk.core.stats.results import FloatArray, jsonable, not_computable

if TYPE_CHECKING:  # pandas is loaded by the pandas path only (--stats-json has its own)
    import pandas as pd

Columns = dict[str, Any]
"""Per event, per measure: one float value per patient (in ``ids`` order)."""

UNITS = {m.name: m.unit for m in MEASURES}
__all__ = ["LABELS", "UNITS", "AnalysisInputs", "Ratings", "Reliability", "StudyAnalysis",
           "analyse", "analyse_inputs", "analysis_values", "data_notes", "descriptive_dict",
           "notes_from_counts", "rmcorr_dict", "spearman_dict", "wilcoxon_dict"]  # fmt: skip
PAIRED_MEASURES = (*(f"{r}_cobb" for r in REGIONS), *NUMERIC_LABS)
SPEARMAN_Y = (*(f"{r}_cobb" for r in REGIONS), *(n for n in NUMERIC_LABS if n != "vas"))


@dataclass(frozen=True)
class Reliability:
    """Inter-rater reliability of one region."""

    region: str
    raters: tuple[str, ...]
    icc: IccResult
    bland_altman: BlandAltmanResult | None
    sem: SemMdc | None
    mdc_flags: MdcFlags | None
    below_mdc_ids: tuple[str, ...] = ()
    ba_pairs: tuple[tuple[float, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able entry of ``"icc"`` in ``--json``: ICC(A,1) with its 95 % CI, the
        full ICC detail, Bland–Altman, SEM/MDC95 (degrees) and the changes below the MDC95
        (NaN and infinities as None; None for a part not computed).
        """
        return {
            "region": self.region,
            "raters": list(self.raters),
            "method": self.icc.method,
            "computable": self.icc.computable,
            "reason": self.icc.reason,
            "n_subjects": self.icc.n_subjects,
            "n_raters": self.icc.n_raters,
            "icc": jsonable(self.icc.icc),
            "ci_low": jsonable(self.icc.ci_low),
            "ci_high": jsonable(self.icc.ci_high),
            "detail": self.icc.to_dict(),
            "bland_altman": self.bland_altman.to_dict() if self.bland_altman else None,
            "sem_mdc": self.sem.to_dict() if self.sem else None,
            "mdc_flags": self.mdc_flags.to_dict() if self.mdc_flags else None,
            "below_mdc_ids": list(self.below_mdc_ids),
        }


@dataclass(frozen=True)
class StudyAnalysis:
    """Every result of ``cobbdesk stats``; ``to_dict()`` is the ``--json`` output."""

    n_patients: int
    values: Any  # pandas DataFrame: index (record_id, event), one column per measure; None
    # from the numpy path (cobbdesk export --stats-json), which needs no figures
    wilcoxon: dict[str, WilcoxonResult]
    spearman: list[SpearmanResult]
    descriptives: list[tuple[str, str, Descriptive]]
    reliability: list[Reliability]
    statements: list[str] = field(default_factory=list)
    policy: RaterPolicy = MEAN
    rmcorr: list[RmcorrResult] = field(default_factory=list)
    n_raters: int = 0

    @property
    def policy_note(self) -> str:
        """The rater policy sentence that heads the notes, the report and the CLI summary."""
        if self.n_raters == 0:
            return f"rater policy {self.policy.label}: no angle measured yet"
        if self.policy.kind == "mean" and self.n_raters == 1:
            return (
                f"rater policy {self.policy.label}: one rater measured, so each angle is that "
                "rater's most recent reading"
            )
        return f"rater policy {self.policy.label}: {self.policy.describe()}"

    def to_dict(self) -> dict[str, Any]:
        """The ``cobbdesk stats --json`` document (plain JSON types; NaN and infinities as None)."""
        return {
            "n_patients": self.n_patients,
            "raters": self.policy.text,
            "notes": [self.policy_note, TIE_METHOD, *self.statements],
            "wilcoxon": [wilcoxon_dict(m, r) for m, r in self.wilcoxon.items()],
            "spearman": [spearman_dict(r) for r in self.spearman],
            "rmcorr": [rmcorr_dict(r) for r in self.rmcorr],
            "descriptives": [descriptive_dict(v, e, d) for v, e, d in self.descriptives],
            "icc": [r.to_dict() for r in self.reliability],
            "excluded": {m: [str(i) for i in r.excluded_ids] for m, r in self.wilcoxon.items()},
        }


def _by_event(values: pd.DataFrame, ids: list[str]) -> dict[str, pd.DataFrame]:
    """Per event, one row per id (in ``ids`` order; NaN when the visit is missing)."""
    import pandas as pd

    names = [m.name for m in MEASURES]
    if values.empty:
        empty = pd.DataFrame(np.nan, index=pd.Index(ids), columns=names)
        return dict.fromkeys(EVENTS, empty)
    return {e: values.xs(e, level="event").reindex(ids)[names] for e in EVENTS}


def _column(frames: Columns, event: str, name: str) -> FloatArray:
    return np.asarray(frames[event][name], dtype=np.float64)


def _named(result: Any, ids: Sequence[str]) -> Any:
    """``result`` with excluded/dropped case positions replaced by study IDs.

    The statistics are called without ids (positions are cheap for 10,000 cases).
    """
    for name in ("excluded_ids", "dropped_ids"):
        if hasattr(result, name):
            result = replace(result, **{name: tuple(ids[i] for i in getattr(result, name))})
    return result


def _paired(frames: Columns, ids: list[str]) -> dict[str, WilcoxonResult]:
    return {
        name: _named(
            wilcoxon_signed_rank(
                _column(frames, "admission", name),
                _column(frames, "month3", name),
                before_label="admission",
                after_label="month3",
            ),
            ids,
        )
        for name in PAIRED_MEASURES
    }


def _correlations(frames: Columns, ids: list[str]) -> list[SpearmanResult]:
    """Spearman rho of VAS with every variable of ``SPEARMAN_Y``, at each visit."""
    results = []
    for y in SPEARMAN_Y:
        for event in EVENTS:
            x_values, y_values = _column(frames, event, "vas"), _column(frames, event, y)
            r = spearman(x_values, y_values, x_name="vas", y_name=y, visit=event)
            results.append(_named(r, ids))
    return results


def _repeated(frames: Columns, ids: list[str]) -> list[RmcorrResult]:
    """rmcorr of VAS with every variable of ``SPEARMAN_Y`` over both visits."""
    subjects = np.tile(np.arange(len(ids)), len(EVENTS))  # patient positions: same codes
    x_all = np.concatenate([_column(frames, e, "vas") for e in EVENTS])
    return [
        rmcorr(x_all, np.concatenate([_column(frames, e, y) for e in EVENTS]), subjects,
               x_name="vas", y_name=y)
        for y in SPEARMAN_Y
    ]  # fmt: skip


def _descriptives(frames: Columns) -> list[tuple[str, str, Descriptive]]:
    rows = []
    for measure in MEASURES:
        if measure.kind != "number":
            continue
        for event in EVENTS:
            data = _column(frames, event, measure.name)
            name = f"{measure.label}, {event}"
            rows.append((measure.name, event, describe(data, name=name, unit=measure.unit)))
    return rows


@dataclass(frozen=True)
class Ratings:
    """One region's angles: films (record_id, event), sorted, × raters (sorted by name);
    ``matrix`` is (films, raters) with NaN where a rater did not measure the film."""

    raters: tuple[str, ...]
    films: tuple[tuple[str, str], ...]
    matrix: FloatArray


def _ratings(long: pd.DataFrame, region: str) -> Ratings:
    """Films (record_id, event) × raters of one region's angles, from the long frame."""
    rated = long[(long["rater"] != "") & long[f"{region}_cobb"].notna()]
    table = rated.pivot_table(
        index=["record_id", "event"], columns="rater", values=f"{region}_cobb", aggfunc="first"
    )
    films = tuple((str(i), str(e)) for i, e in table.index)
    raters = tuple(str(c) for c in table.columns)
    matrix = table.to_numpy(dtype=np.float64).reshape(len(films), len(raters))
    return Ratings(raters, films, matrix)


def _reliability(
    ratings: dict[str, Ratings], frames: Columns, ids: list[str]
) -> list[Reliability]:
    results = []
    for region in REGIONS:
        table = ratings[region]
        if len(table.raters) < 2:
            continue
        raters = table.raters
        film_ids = [f"{i} ({e})" for i, e in table.films]
        icc = _named(icc_a1(table.matrix), film_ids)
        a, b = table.matrix[:, 0].copy(), table.matrix[:, 1].copy()
        ba = _named(bland_altman(a, b, a_name=raters[0], b_name=raters[1]), film_ids)
        both = ~(np.isnan(a) | np.isnan(b))
        result = Reliability(
            region, raters, icc, ba, None, None,
            ba_pairs=tuple(zip(a[both].tolist(), b[both].tolist(), strict=True)),
        )  # fmt: skip
        results.append(_with_mdc(result, table, frames, ids))
    return results


def _with_mdc(result: Reliability, table: Ratings, frames: Columns, ids: list[str]) -> Reliability:
    if not result.icc.computable or result.icc.icc is None:
        return result
    complete = table.matrix[~np.isnan(table.matrix).any(axis=1)]
    sd = float(np.std(complete, ddof=1)) if complete.size > 1 else float("nan")
    sem = sem_mdc(result.icc.icc, sd)
    if not sem.computable or sem.mdc95 is None:
        return replace(result, sem=sem)
    name = f"{result.region}_cobb"
    delta = _column(frames, "month3", name) - _column(frames, "admission", name)
    flags = flag_changes_below_mdc(delta, sem.mdc95)
    below = tuple(i for i, f in zip(ids, flags.flags, strict=False) if f is True)
    return replace(result, sem=sem, mdc_flags=flags, below_mdc_ids=below)


def analysis_values(long: pd.DataFrame, policy: RaterPolicy = MEAN) -> pd.DataFrame:
    """The analysis dataset's measures: index (record_id, event), one float column each."""
    names = [m.name for m in MEASURES]
    frame = apply_policy(long, policy)
    values = frame.set_index(["record_id", "event"])[names].astype(np.float64)
    return values.sort_index()


def analyse(long: pd.DataFrame, policy: RaterPolicy = MEAN) -> StudyAnalysis:
    """All statistics from the per-rater long frame under ``policy`` (module docstring).

    ``policy`` must be resolved (:func:`~cobbdesk.core.export.policy.resolve`); ``each`` is
    refused (ValueError) since the statistics need one value per patient and visit.
    """
    if policy.kind == "each":
        raise ValueError("analyse needs one value per patient and visit, not policy 'each'")
    values = analysis_values(long, policy)
    ids = sorted(long["record_id"].unique().tolist())
    inputs = AnalysisInputs(
        ids=ids,
        frames=_by_event(values, ids),
        ratings={region: _ratings(long, region) for region in REGIONS},
        n_raters=int(long.loc[long["rater"] != "", "rater"].nunique()),
        notes=data_notes(long),
    )
    return analyse_inputs(inputs, policy, values=values)


@dataclass(frozen=True)
class AnalysisInputs:
    """What the statistics read: the patients' study IDs (sorted), per event and measure one
    value per patient in that order, each region's :class:`Ratings`, the number of raters
    and the data notes (:func:`data_notes`)."""

    ids: list[str]
    frames: Columns
    ratings: dict[str, Ratings]
    n_raters: int
    notes: list[str]


def analyse_inputs(
    inputs: AnalysisInputs, policy: RaterPolicy, *, values: Any = None
) -> StudyAnalysis:
    """All statistics from ``inputs`` (built by :func:`analyse` from the pandas long frame, or
    by :mod:`~cobbdesk.core.export.analysis_arrays` from numpy columns)."""
    ids, frames = inputs.ids, inputs.frames
    statements = [] if ids else [not_computable("the study has no patients")]
    analysis = StudyAnalysis(
        n_patients=len(ids),
        values=values,
        wilcoxon=_paired(frames, ids),
        spearman=_correlations(frames, ids),
        descriptives=_descriptives(frames),
        reliability=_reliability(inputs.ratings, frames, ids),
        statements=statements,
        policy=policy,
        rmcorr=_repeated(frames, ids),
        n_raters=inputs.n_raters,
    )
    if ids and not analysis.reliability:
        analysis.statements.append(_reliability_note(inputs.n_raters))
    analysis.statements.extend(inputs.notes)
    return analysis


def _reliability_note(n_raters: int) -> str:
    """Why Table 4 holds no ICC: no rater or only one rater measured."""
    who = "no rater" if n_raters == 0 else "only one rater"
    return f"reliability: {who} measured; ICC not computed"


def data_notes(long: pd.DataFrame) -> list[str]:
    """Statements about angles that were recomputed or left out (see the export codebook)."""
    stale = {}
    for region in REGIONS:
        column = f"{region}_cobb_stale"
        stale[region] = int((long[column].fillna("") != "").sum()) if column in long else 0
    wrong = int(long["region_mismatch"].fillna(0).sum()) if "region_mismatch" in long else 0
    return notes_from_counts(stale, wrong)


def notes_from_counts(stale: dict[str, int], wrong: int) -> list[str]:
    """The data notes from the stale angles per region and the mismatching measurements."""
    notes = [
        f"{region}: {count} stored angle(s) were stale; the angles recomputed from their "
        "endplate points are used"
        for region, count in stale.items()
        if count
    ]
    if wrong:
        notes.append(
            f"{wrong} measurement(s) whose template does not match the film's region were "
            "left out (see cobbdesk verify)"
        )
    return notes
