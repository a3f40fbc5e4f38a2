"""Reliability statistics from a plan's readings (``cobbdesk stats STUDY --plan NAME``).

Per region (cervical: C2–C7 films, lumbar: L1–S1 films):

* **inter-rater**: films × raters of the round-1 readings → ICC(A,1) with its 95 % CI
  (:func:`cobbdesk.core.stats.reliability.icc_a1`, McGraw & Wong 1996 case 2A) and ICC(A,k),
  the reliability of the mean of the k raters, = (MSR − MSE)/(MSR + (MSC − MSE)/n) (McGraw &
  Wong 1996 Table 4, case 2A, average measures; = Shrout & Fleiss ICC(2,k)) with the CI of
  ICC(A,1) stepped up by Spearman–Brown, kL/(1 + (k − 1)L), as R ``psych::ICC`` reports it;
  Bland–Altman of every pair of raters (a − b);
* **intra-rater**, per rater with two or more rounds: films × rounds of that rater → ICC(A,1)
  and Bland–Altman of round 2 − round 1;
* **SEM** = SD·√(1 − ICC) and **MDC95** = 1.96·√2·SEM (Weir 2005), SD the sample SD (n − 1)
  of every rating in the complete films × raters (or rounds) table;
* counts: films, readings, skips with their reasons;
* a note when patients' month-3 change in the clinical data (given by the caller: the
  analysis dataset lives above this layer) is smaller than the inter-rater MDC95.

Only complete rows enter an ICC (a film skipped by one rater is left out and counted).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from cobbdesk.core.reading.adjudication import plan_status
from cobbdesk.core.reading.plan import Plan
from cobbdesk.core.reading.readings import plan_readings
from cobbdesk.core.stats.reliability import (
    BlandAltmanResult,
    IccResult,
    bland_altman,
    flag_changes_below_mdc,
    icc_a1,
    sem_mdc,
)
from cobbdesk.core.store.study import Study

REGION_TEMPLATES = {"cervical": "C2-C7", "lumbar": "L1-S1"}


def icc_ak(result: IccResult) -> tuple[float | None, float | None, float | None]:
    """ICC(A,k) and its CI from an ICC(A,1) result (module docstring); Nones when the
    ICC(A,1) is not computable."""
    if not result.computable or result.icc is None:
        return None, None, None
    msr, msc, mse = result.ms_rows, result.ms_cols, result.ms_error
    assert msr is not None and msc is not None and mse is not None
    n, k = result.n_subjects, result.n_raters
    value = (msr - mse) / (msr + (msc - mse) / n)

    def step_up(x: float | None) -> float | None:
        """Spearman–Brown step-up of a single-rater value ``x`` to k raters: kx/(1 + (k − 1)x)."""
        return None if x is None else k * x / (1 + (k - 1) * x)

    return value, step_up(result.ci_low), step_up(result.ci_high)


@dataclass
class Agreement:
    """ICC, SEM/MDC and Bland–Altman of one table (inter-rater, or one rater's rounds)."""

    label: str
    icc: IccResult
    icc_ak: float | None = None
    icc_ak_ci: tuple[float | None, float | None] = (None, None)
    sd: float | None = None
    sem: float | None = None
    mdc95: float | None = None
    bland_altman: list[BlandAltmanResult] = field(default_factory=list)
    pairs: list[tuple[str, str, list[float], list[float]]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the results (degrees for ``sd``, ``sem``, ``mdc95``).

        The ICC(A,1) fields without ``dropped_ids`` and each Bland–Altman without ``excluded_ids``;
        the raw ``pairs`` are left out.
        """
        icc = {k: v for k, v in asdict(self.icc).items() if k != "dropped_ids"}
        return {
            "label": self.label, "icc_a1": icc, "icc_ak": self.icc_ak,
            "icc_ak_ci": list(self.icc_ak_ci), "sd": self.sd, "sem": self.sem,
            "mdc95": self.mdc95,
            "bland_altman": [
                {k: v for k, v in asdict(b).items() if k != "excluded_ids"}
                for b in self.bland_altman
            ],
        }  # fmt: skip


def agreement(
    label: str, table: Mapping[str, Mapping[int, float]], films: Sequence[int]
) -> Agreement:
    """Agreement of the columns of ``table`` (column name → film id → angle) over ``films``."""
    names = list(table)
    matrix = np.array([[table[c].get(f, math.nan) for c in names] for f in films], dtype=float)
    result = icc_a1(matrix if len(films) else np.empty((0, len(names))), ids=list(films))
    out = Agreement(label, result)
    if result.computable and result.icc is not None:
        ak, low, high = icc_ak(result)
        out.icc_ak, out.icc_ak_ci = ak, (low, high)
        complete = matrix[~np.isnan(matrix).any(axis=1)]
        out.sd = float(np.std(complete, ddof=1))
        sem = sem_mdc(max(0.0, min(1.0, result.icc)), out.sd)
        out.sem, out.mdc95 = sem.sem, sem.mdc95
    for a, b in combinations(names, 2):
        xs = [table[a].get(f, math.nan) for f in films]
        ys = [table[b].get(f, math.nan) for f in films]
        pair = (b, a) if label.startswith("intra") else (a, b)  # intra: round 2 − round 1
        first, second = (ys, xs) if label.startswith("intra") else (xs, ys)
        out.bland_altman.append(bland_altman(first, second, ids=list(films), a_name=pair[0],
                                             b_name=pair[1]))  # fmt: skip
        out.pairs.append((pair[0], pair[1], first, second))
    return out


@dataclass
class RegionStats:
    """The statistics of one region: its number of films with readings, the inter-rater
    agreement (None with a single rater), one intra-rater agreement per rater (plans with two or
    more rounds) and the MDC95 note ("" when none).
    """

    region: str
    films: int
    inter: Agreement | None
    intra: list[Agreement]
    mdc_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``inter_rater`` None when there is no inter-rater agreement)."""
        return {"region": self.region, "films": self.films,
                "inter_rater": self.inter.to_dict() if self.inter else None,
                "intra_rater": [a.to_dict() for a in self.intra],
                "mdc_note": self.mdc_note}  # fmt: skip


@dataclass
class PlanStats:
    """A plan's statistics: films of round 1, readings, skips (with counts per reason) and
    one :class:`RegionStats` per region with readings.
    """

    plan: Plan
    regions: list[RegionStats]
    films: int
    readings: int
    skips: int
    skip_reasons: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict: the plan's name and description, the counts and the regions."""
        return {"plan": self.plan.name, "description": self.plan.describe(),
                "films": self.films, "readings": self.readings, "skips": self.skips,
                "skip_reasons": self.skip_reasons,
                "regions": [r.to_dict() for r in self.regions]}  # fmt: skip


def _tables(rows: list[dict[str, Any]], region: str) -> dict[str, dict[int, dict[int, float]]]:
    """rater → round → film id → angle, for the plan readings of ``region``."""
    tables: dict[str, dict[int, dict[int, float]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        if row["region"] == region and row["kind"] == "reading":
            tables[row["rater"]][int(row["round"])][int(row["film_id"])] = float(row["angle_deg"])
    return tables


def mdc_note(region: str, mdc: float | None, changes: Sequence[float | None]) -> str:
    """The sentence saying how many clinical month-3 changes are smaller than the MDC95."""
    if mdc is None or not changes:
        return ""
    flags = flag_changes_below_mdc(list(changes), mdc)
    if not flags.computable or flags.n_below == 0:
        return ""
    n = flags.n_below + flags.n_at_or_above
    return (
        f"{flags.n_below} of {n} patients' month-3 change in {region} Cobb angle is smaller "
        f"than the inter-rater MDC95 of {mdc:.1f}°: within measurement error"
    )


def plan_statistics(
    study: Study, plan: Plan, clinical_changes: Mapping[str, Sequence[float | None]] | None = None
) -> PlanStats:
    """The plan's statistics (module docstring); ``clinical_changes``: region → month-3
    changes (month 3 − admission, degrees) of the clinical analysis dataset."""
    rows = plan_readings(study, plan)
    status = plan_status(study, plan)
    reasons: Counter[str] = Counter()
    for s in status:
        reasons.update(s.skip_reasons)
    items = {i for s in status if s.round == 1 for i in range(s.total)}
    regions = []
    for region in REGION_TEMPLATES:
        tables = _tables(rows, region)
        film_ids = sorted({f for r in tables.values() for t in r.values() for f in t})
        if not film_ids:
            continue
        first = {rater: tables[rater].get(1, {}) for rater in plan.raters}
        inter = (agreement("inter-rater (round 1)", first, film_ids)
                 if len(plan.raters) > 1 else None)  # fmt: skip
        intra = [
            agreement(f"intra-rater {rater}",
                      {f"round {n}": tables[rater].get(n, {}) for n in range(1, plan.rounds + 1)},
                      film_ids)
            for rater in plan.raters if plan.rounds > 1
        ]  # fmt: skip
        note = mdc_note(region, inter.mdc95 if inter else None,
                        (clinical_changes or {}).get(region, []))  # fmt: skip
        regions.append(RegionStats(region, len(film_ids), inter, intra, note))
    films_total = max((s.total for s in status if s.round == 1), default=len(items))
    return PlanStats(plan, regions, films_total, sum(r["kind"] == "reading" for r in rows),
                     sum(reasons.values()), dict(sorted(reasons.items())))  # fmt: skip


def _f(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def summary_lines(stats: PlanStats) -> list[str]:
    """The text ``cobbdesk stats --plan`` prints."""
    lines = [stats.plan.describe(),
             f"films {stats.films}, readings {stats.readings}, skips {stats.skips}"
             + "".join(f"; {why}: {n}" for why, n in stats.skip_reasons.items())]  # fmt: skip
    for region in stats.regions:
        lines.append(f"{region.region} ({region.films} films):")
        for a in ([region.inter] if region.inter else []) + region.intra:
            icc = a.icc
            head = (f"  {a.label}: ICC(A,1) {_f(icc.icc)} [95% CI {_f(icc.ci_low)}, "
                    f"{_f(icc.ci_high)}], ICC(A,k) {_f(a.icc_ak)}, SEM {_f(a.sem, 2)}°, "
                    f"MDC95 {_f(a.mdc95, 2)}°, n {icc.n_subjects}") if icc.computable else (
                    f"  {a.label}: {icc.reason}")  # fmt: skip
            lines.append(head)
            for ba in a.bland_altman:
                lines.append(f"    Bland–Altman {ba.a_name} − {ba.b_name}: bias {_f(ba.bias, 2)}°, "
                             f"limits {_f(ba.loa_low, 2)}° to {_f(ba.loa_high, 2)}° (n {ba.n})"
                             if ba.computable else f"    Bland–Altman: {ba.reason}")  # fmt: skip
        if region.mdc_note:
            lines.append(f"  note: {region.mdc_note}")
    return lines


__all__ = [
    "Agreement",
    "PlanStats",
    "RegionStats",
    "agreement",
    "icc_ak",
    "mdc_note",
    "plan_statistics",
    "summary_lines",
]
