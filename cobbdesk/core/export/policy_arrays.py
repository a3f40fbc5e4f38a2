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

    >>> kahan_mean([1.5, 2.5, float("nan"), 3.5]), kahan_mean([float("nan")])
    (2.5, nan)
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


def group_means(values: Array, lo: Array, size: Array) -> Array:
    """:func:`kahan_mean` of each group ``values[lo:lo + size]``, all groups at once."""
    total, compensation = np.zeros(len(lo)), np.zeros(len(lo))
    count = np.zeros(len(lo))
    last = max(len(values) - 1, 0)
    for j in range(int(size.max()) if len(size) else 0):
        value = np.where(size > j, values[np.minimum(lo + j, last)], np.nan)
        present = ~np.isnan(value)
        with np.errstate(invalid="ignore"):
            y = value - compensation
            t = total + y
            step = t - total - y
        step = np.where(np.isnan(step), 0.0, step)  # an infinity: keep it, as pandas does
        compensation = np.where(present, step, compensation)
        total = np.where(present, t, total)
        count += present
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _merge_groups(columns: dict[str, Array], out: dict[str, Array], lo: Array, size: Array,
                  rows: Array) -> None:  # fmt: skip
    """Fill ``out[...][rows]`` for patients with several raters (their rows lo:lo + size)."""
    for name in RATER_COLUMNS:
        values = columns[name]
        if name.endswith("_cobb"):
            out[name][rows] = group_means(values, lo, size)
        elif name in _NOTES:  # joined where a group has a note ("" for most)
            noted = _segments(np.logical_or, values != "", lo, size)
            merged = np.full(len(lo), "", dtype=object)
            for g in np.flatnonzero(noted).tolist():
                merged[g] = _join_text(values[lo[g] : lo[g] + size[g]].tolist())
            out[name][rows] = merged
        else:  # snapped: the largest; region_mismatch: the sum (NaN when none present)
            present = _segments(np.logical_or, ~np.isnan(values), lo, size)
            if name.endswith("_snapped"):
                merged = _segments(np.fmax, values, lo, size)
            else:
                merged = _segments(np.add, np.nan_to_num(values), lo, size)
            out[name][rows] = np.where(present, merged, np.nan)


def _segments(ufunc: Any, values: Array, lo: Array, size: Array) -> Array:
    """``ufunc`` reduced over each segment ``values[lo:lo + size]`` (segments in order)."""
    padded = np.append(values, values[:1] if len(values) else [0])
    bounds = np.empty(2 * len(lo), dtype=np.int64)
    bounds[0::2], bounds[1::2] = lo, lo + size
    return ufunc.reduceat(padded, bounds)[0::2]  # type: ignore[no-any-return]


def _mean_of_raters(table: Table, starts: list[int]) -> Table:
    bounds = np.array(starts, dtype=np.int64)
    first, size = bounds[:-1], np.diff(bounds)
    several = np.flatnonzero(size > 1)
    raters = table.rater[first].copy()  # one rater (or none): that name
    for k in several.tolist():
        lo, hi = starts[k], starts[k + 1]
        raters[k] = "+".join(sorted({r for r in table.rater[lo:hi] if r != ""}))
    events = {}
    for event in EVENTS:
        columns = table.events[event]
        out = {name: values[first] for name, values in columns.items()}
        if len(several):
            _merge_groups(columns, out, first[several], size[several], several)
        for region in REGIONS:
            out[f"{region}_cobb"] = np.round(out[f"{region}_cobb"], MEAN_DECIMALS)
        events[event] = out
    return Table(table.record_id[first], raters, events)


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
