"""Rater policies on the numpy per-rater table (fast export path; no pandas).

The rules of :mod:`cobbdesk.core.export.policy` (its module docstring): ``each`` keeps the
per-rater rows; ``mean`` averages each angle over the raters of a patient's visit (pandas'
compensated (Kahan) sum, in rater order, then rounded to ``MEAN_DECIMALS``), takes the
largest snapped count, sums mismatches and joins differing notes; a named rater (or the
study's adjudicator for ``consensus``) keeps that rater's rows and blanks the others.  A
reading plan's consensus is not done here (:class:`~cobbdesk.core.export.fetch.Unsupported`).
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from cobbdesk.core.export.assemble import Array, Table
from cobbdesk.core.export.columns import EVENTS, REGIONS
from cobbdesk.core.export.fetch import Unsupported
from cobbdesk.core.export.policy import MEAN_DECIMALS, RATER_COLUMNS, RaterPolicy

_NOTES = tuple(f"{r}_{n}" for r in REGIONS for n in ("spacing_source", "cobb_flag", "cobb_stale"))


def apply_policy(table: Table, policy: RaterPolicy) -> Table:
    """The analysis rows of ``table`` under ``policy`` (one per patient unless ``each``)."""
    if policy.kind == "each":
        return table
    if policy.kind == "consensus" and policy.plan:
        raise Unsupported("a reading plan's consensus")
    starts = _group_starts(table.record_id)
    if policy.kind == "mean":
        return _mean_of_raters(table, starts)
    return _one_rater(table, starts, policy.rater)


def _group_starts(record_ids: Array) -> list[int]:
    """First row of each patient (rows are sorted by record_id), then the row count."""
    starts = [i for i in range(len(record_ids)) if i == 0 or record_ids[i] != record_ids[i - 1]]
    return [*starts, len(record_ids)]


def kahan_mean(values: list[float]) -> float:
    """The mean of the non-NaN ``values`` with pandas' compensated summation (groupby mean);
    NaN when none.

    >>> kahan_mean([0.1, 0.2, float("nan"), 0.3]), kahan_mean([float("nan")])
    (0.2, nan)
    """
    total = compensation = 0.0
    count = 0
    for value in values:
        if math.isnan(value):
            continue
        count += 1
        y = value - compensation
        t = total + y
        compensation = t - total - y
        if math.isnan(compensation):  # an infinity: keep it, as pandas does
            compensation = 0.0
        total = t
    return total / count if count else math.nan


def _join_text(texts: list[str]) -> str:
    """The distinct non-empty ``;``-separated codes of ``texts``, in order; one text as is."""
    distinct = list(dict.fromkeys(t for t in texts if t != ""))
    if len(distinct) <= 1:
        return distinct[0] if distinct else ""
    parts: list[str] = []
    for text in distinct:
        parts.extend(p for p in text.split(";") if p and p not in parts)
    return ";".join(parts)


def _max(values: list[float]) -> float:
    present = [v for v in values if not math.isnan(v)]
    return max(present) if present else math.nan


def _sum_present(values: list[float]) -> float:
    present = [v for v in values if not math.isnan(v)]
    return float(sum(present)) if present else math.nan


def _merged(columns: dict[str, Array], lo: int, hi: int, name: str) -> Any:
    """One value of column ``name`` for the rows ``lo:hi`` of one patient's visit."""
    values = columns[name][lo:hi].tolist()
    if name in _NOTES:
        return _join_text(values)
    if name.endswith("_cobb"):
        return kahan_mean(values)
    if name.endswith("_snapped"):
        return _max(values)
    return _sum_present(values)  # region_mismatch


def _mean_of_raters(table: Table, starts: list[int]) -> Table:
    first = np.array(starts[:-1], dtype=np.int64)
    raters = [
        "+".join(sorted({r for r in table.rater[lo:hi] if r != ""}))
        for lo, hi in itertools.pairwise(starts)
    ]
    events = {}
    for event in EVENTS:
        columns = table.events[event]
        out = {name: values[first] for name, values in columns.items()}
        for k, (lo, hi) in enumerate(itertools.pairwise(starts)):
            if hi - lo > 1:  # several raters: few patients, merged in Python
                for name in RATER_COLUMNS:
                    out[name][k] = _merged(columns, lo, hi, name)
        for region in REGIONS:
            out[f"{region}_cobb"] = np.round(out[f"{region}_cobb"], MEAN_DECIMALS)
        events[event] = out
    return Table(table.record_id[first], np.array(raters, dtype=object), events)


def _one_rater(table: Table, starts: list[int], rater: str) -> Table:
    """That rater's rows; a patient without them keeps its first row with blank readings."""
    chosen, blank = [], []
    for lo, hi in itertools.pairwise(starts):
        own = [i for i in range(lo, hi) if table.rater[i] == rater]
        chosen.append(own[0] if own else lo)
        blank.append(not own)
    rows = np.array(chosen, dtype=np.int64)
    empty = np.array(blank, dtype=bool)
    events = {}
    for event in EVENTS:
        out = {name: values[rows] for name, values in table.events[event].items()}
        for name in RATER_COLUMNS:
            column = out[name]
            if name == "region_mismatch":
                column[empty & ~np.isnan(column)] = 0.0
            elif name.endswith(("_cobb", "_snapped")):
                column[empty] = np.nan
            else:
                column[empty] = ""
        events[event] = out
    raters = np.where(empty, "", rater).astype(object)
    return Table(table.record_id[rows], raters, events)
