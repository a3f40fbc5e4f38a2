"""The statistics' inputs from the numpy per-rater table (``export --stats-json`` without
pandas, issue #17): the same numbers :func:`cobbdesk.core.export.analysis.analyse` reads
from the pandas long frame, so both give the same JSON (tested on varied studies).
"""

from __future__ import annotations

import numpy as np

from cobbdesk.core.export.analysis import (
    AnalysisInputs,
    Ratings,
    StudyAnalysis,
    analyse_inputs,
    notes_from_counts,
)
from cobbdesk.core.export.assemble import Table
from cobbdesk.core.export.columns import EVENTS, MEASURES, REGIONS
from cobbdesk.core.export.fetch import Unsupported
from cobbdesk.core.export.policy import RaterPolicy
from cobbdesk.core.export.policy_arrays import apply_policy


def analyse_table(
    per_rater: Table, policy: RaterPolicy, analysed: Table | None = None
) -> StudyAnalysis:
    """All statistics of the per-rater ``table`` under the resolved ``policy`` (not
    ``each``: ValueError); ``analysed``: ``apply_policy(per_rater, policy)`` when the caller
    has it already.  :class:`~cobbdesk.core.export.fetch.Unsupported` when the policy
    needs the pandas path (a reading plan's consensus)."""
    if policy.kind == "each":
        raise ValueError("the statistics need one value per patient and visit, not 'each'")
    if analysed is None:
        analysed = apply_policy(per_rater, policy)
    return analyse_inputs(analysis_inputs(per_rater, analysed), policy)


def analysis_inputs(per_rater: Table, analysed: Table) -> AnalysisInputs:
    """The statistics' inputs: ``analysed`` (one row per patient, sorted by study ID) gives
    the values, ``per_rater`` the ratings, the raters and the notes."""
    ids = sorted(set(per_rater.record_id.tolist()))
    if analysed.record_id.tolist() != ids:  # one row per patient, in order: never otherwise
        raise Unsupported("the analysis rows are not one per patient")
    frames = {e: {m.name: analysed.events[e][m.name] for m in MEASURES} for e in EVENTS}
    stale = {
        region: sum(int(np.count_nonzero(per_rater.events[e][f"{region}_cobb_stale"] != ""))
                    for e in EVENTS)
        for region in REGIONS
    }  # fmt: skip
    mismatches = sum(float(np.nansum(per_rater.events[e]["region_mismatch"])) for e in EVENTS)
    return AnalysisInputs(
        ids=ids,
        frames=frames,
        ratings={region: _ratings(per_rater, region) for region in REGIONS},
        n_raters=len({r for r in per_rater.rater.tolist() if r != ""}),
        notes=notes_from_counts(stale, int(mismatches)),
    )


def _ratings(table: Table, region: str) -> Ratings:
    """Films (record_id, event) × raters (both sorted) of one region's angles.

    ``table`` is sorted by record_id, so a patient's position is a running count of changes;
    (record_id, event, rater) is unique in it (one reading per rater and visit)."""
    record_ids = table.record_id
    changes = np.ones(len(record_ids), dtype=np.int64)
    changes[1:] = record_ids[1:] != record_ids[:-1]
    patient = np.cumsum(changes) - 1
    named = table.rater != ""
    films, raters, values = [], [], []
    for k, event in enumerate(EVENTS):
        angles = np.asarray(table.events[event][f"{region}_cobb"], dtype=np.float64)
        rows = np.flatnonzero(named & ~np.isnan(angles))
        films.append(patient[rows] * len(EVENTS) + k)
        raters.append(table.rater[rows])
        values.append(angles[rows])
    film_codes, film_of = np.unique(np.concatenate(films), return_inverse=True)
    names = sorted(set(np.concatenate(raters).tolist()))
    column = {name: c for c, name in enumerate(names)}
    rater_of = np.fromiter(map(column.__getitem__, np.concatenate(raters).tolist()), np.int64)
    matrix = np.full((len(film_codes), len(names)), np.nan)
    matrix[film_of.reshape(-1), rater_of] = np.concatenate(values)
    first = np.flatnonzero(changes)  # each patient's first row
    ids = record_ids[first].tolist()
    keys = tuple((ids[c // len(EVENTS)], EVENTS[c % len(EVENTS)]) for c in film_codes.tolist())
    return Ratings(tuple(names), keys, matrix)
