"""Assemble the per-rater long columns from the fetched rows (no pandas; fast export path).

Index arrays do the joins: for each (record_id, rater) row and event, the row of its visit,
of its exported measurement per region and of its labs (``-1`` = none, read as missing).
The values and their types are those :func:`cobbdesk.core.export.dataset.load_long` gives
after ``conform``: text as str ("" for missing), every number as float64 with NaN.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cobbdesk.core.export.columns import AGE_CAP, DERIVED_DECIMALS, EVENTS, REGIONS
from cobbdesk.core.export.fetch import Unsupported
from cobbdesk.core.labs import LAB_SPECS

Array = npt.NDArray[Any]
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_IDENTIFYING = ("name", "mrn", "birth_date", "dicom_patient_id")


@dataclass
class Table:
    """Rows keyed by ``record_id`` and ``rater`` (object arrays of str), and per event the
    long columns: ``events[event][name]`` — text as object arrays of str, every number
    (integers too) as float64 with NaN for missing."""

    record_id: Array
    rater: Array
    events: dict[str, dict[str, Array]]

    def __len__(self) -> int:
        return len(self.record_id)


@dataclass
class Visits:
    """The exported visit of each (patient id, event): its id and its date text."""

    by_patient: dict[tuple[int, str], tuple[int, str | None]]
    patient_of: dict[int, int]


@dataclass
class Angles:
    """The exported measurement per (visit id, region, rater): ``values`` (``cobb``,
    ``spacing_source``, ``cobb_flag``, ``cobb_stale``, ``snapped``, …) in the order of their
    sorted :func:`angle_keys` ``keys``; ``rater_codes`` numbers the raters of those keys."""

    keys: Array
    rater_codes: dict[str, int]
    values: dict[str, Array]


def angle_keys(visit_ids: Array, regions: Array, raters: Array, n_raters: int) -> Array:
    """One int64 per (visit id, region index in ``REGIONS``, rater code < ``n_raters``)."""
    width = max(n_raters, 1)
    return (visit_ids.astype(np.int64) * len(REGIONS) + regions) * width + raters


@dataclass
class Labs:
    """Visit id → row of ``table`` (one column per lab of ``LAB_SPECS``, NaN when missing)."""

    row_of: dict[int, int]
    table: Array


def parse_date(text: str | None) -> dt.date | None:
    """An ISO ``YYYY-MM-DD`` date; None for NULL or an impossible day (pandas reads those as
    missing with ``errors="coerce"``).  Unsupported for any other spelling or a year outside
    pandas' datetime range.

    >>> parse_date("2026-02-28"), parse_date("2026-02-30"), parse_date(None)
    (datetime.date(2026, 2, 28), None, None)
    """
    if text is None:
        return None
    if not _ISO_DATE.match(text) or not 1678 <= int(text[:4]) <= 2261:
        raise Unsupported("a date not written YYYY-MM-DD in 1678–2261")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _take(values: Array, rows: Array, missing: Any) -> Array:
    """``values[rows]`` with ``missing`` where a row is -1."""
    padded = np.empty(len(values) + 1, dtype=values.dtype)
    padded[:-1] = values
    padded[-1] = missing
    return padded[np.where(rows < 0, len(values), rows)]


def _text(values: Array) -> Array:
    """Text cells as str, "" for NULL (``conform``'s text rule)."""
    out = values.copy()
    out[np.array([v is None for v in out.tolist()], dtype=bool)] = ""
    return out


def assemble(
    people: dict[str, Array],
    chosen: Visits,
    angles: Angles,
    measured: dict[str, Array],
    labs: Labs,
    *,
    keys: list[tuple[str, str, int]],
    identified: bool,
) -> Table:
    """The :class:`Table` of ``keys`` (record_id, rater, patient row), sorted as given."""
    rows = np.array([k[2] for k in keys], dtype=np.int64)
    raters = np.array([k[1] for k in keys], dtype=object)
    record_ids = np.array([k[0] for k in keys], dtype=object)
    pids = people["id"][rows].tolist()
    visit_rows = {e: [chosen.by_patient.get((pid, e)) for pid in pids] for e in EVENTS}
    patient = _patient_columns(people, rows, visit_rows["admission"], identified)
    mismatches = _mismatch_counts(measured)
    events = {}
    for event in EVENTS:
        found = visit_rows[event]
        ids = np.array([-1 if v is None else v[0] for v in found], dtype=np.int64)
        columns = dict(patient)
        columns["visit_day"] = _visit_days(found, visit_rows["admission"])
        columns.update(_angle_columns(angles, ids, raters))
        counts = [mismatches.get((v, r), 0) for v, r in zip(ids.tolist(), raters, strict=True)]
        columns["region_mismatch"] = np.where(ids < 0, np.nan, np.array(counts, dtype=float))
        columns.update(_lab_columns(labs, ids))
        if identified:
            dates = np.array([None if v is None else v[1] for v in found], dtype=object)
            columns["visit_date"] = _text(dates)
        events[event] = columns
    return Table(record_ids, raters, events)


def _patient_columns(
    people: dict[str, Array],
    rows: Array,
    admissions: list[tuple[int, str | None] | None],
    identified: bool,
) -> dict[str, Array]:
    """Sex, age (capped unless identified), dose, duration and the identifying columns."""
    columns = {
        "sex": _text(people["sex"][rows]),
        "dose_mg_kg_day": people["dose_mg_kg_day"][rows],
        "duration_months": people["duration_months"][rows],
    }
    births = {k: parse_date(b) for k, b in enumerate(people["birth_date"].tolist())}
    ages = np.full(len(rows), np.nan)
    for i, (row, visit) in enumerate(zip(rows.tolist(), admissions, strict=True)):
        birth, admitted = births[row], _day(visit)
        if birth is not None and admitted is not None:
            before = (admitted.month, admitted.day) < (birth.month, birth.day)
            ages[i] = admitted.year - birth.year - int(before)
    with np.errstate(invalid="ignore"):
        columns["age_90plus"] = np.where(np.isnan(ages), np.nan, (ages >= AGE_CAP) * 1.0)
    columns["age_admission"] = ages if identified else np.minimum(ages, AGE_CAP)
    if identified:
        for name in _IDENTIFYING:
            columns[name] = _text(people[name][rows])
    return columns


def _day(visit: tuple[int, str | None] | None) -> dt.date | None:
    return None if visit is None else _parsed(visit[1])


@functools.lru_cache(maxsize=4096)
def _parsed(text: str | None) -> dt.date | None:
    return parse_date(text)  # visit dates repeat: parse each text once


def _visit_days(
    found: list[tuple[int, str | None] | None], admissions: list[tuple[int, str | None] | None]
) -> Array:
    """Days from the patient's admission visit to this visit (NaN when either is missing)."""
    out = np.full(len(found), np.nan)
    for i, (visit, admission) in enumerate(zip(found, admissions, strict=True)):
        day, admitted = _day(visit), _day(admission)
        if day is not None and admitted is not None:
            out[i] = (day - admitted).days
    return out


def _angle_columns(angles: Angles, visit_ids: Array, raters: Array) -> dict[str, Array]:
    """Per region: the angle, spacing source, flag, stale codes and snapped lines."""
    codes = np.fromiter((angles.rater_codes.get(r, -1) for r in raters), np.int64, len(raters))
    known = (visit_ids >= 0) & (codes >= 0)
    columns: dict[str, Array] = {}
    for k, region in enumerate(REGIONS):
        wanted = angle_keys(visit_ids, np.full(len(codes), k), codes, len(angles.rater_codes))
        found = np.full(len(codes), -1, dtype=np.int64)
        if len(angles.keys):
            at = np.minimum(np.searchsorted(angles.keys, wanted), len(angles.keys) - 1)
            hit = known & (angles.keys[at] == wanted)
            found[hit] = at[hit]
        for name in ("cobb", "spacing_source", "cobb_flag", "cobb_stale", "snapped"):
            values = angles.values[name]
            missing = "" if values.dtype == object else np.nan
            columns[f"{region}_{name}"] = _take(values, found, missing)
    return columns


def _mismatch_counts(measured: dict[str, Array]) -> dict[tuple[int, str], int]:
    """(visit id, rater) → measurements whose template does not match their film's region."""
    counts: dict[tuple[int, str], int] = {}
    mismatched = ~measured["matches"]
    for key in zip(measured["visit_id"][mismatched].tolist(), measured["rater"][mismatched],
                   strict=True):  # fmt: skip
        counts[key] = counts.get(key, 0) + 1
    return counts


def _lab_columns(labs: Labs, visit_ids: Array) -> dict[str, Array]:
    """One column per lab, and ``nlr`` = neutrophil / lymphocyte (lymphocyte > 0 only)."""
    found = np.array([labs.row_of.get(v, -1) for v in visit_ids.tolist()], dtype=np.int64)
    columns = {
        name: _take(labs.table[:, k], found, np.nan) for k, name in enumerate(LAB_SPECS)
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        lymph = np.where(columns["lymphocyte"] > 0, columns["lymphocyte"], np.nan)
        columns["nlr"] = np.round(columns["neutrophil"] / lymph, DERIVED_DECIMALS)
    return columns
