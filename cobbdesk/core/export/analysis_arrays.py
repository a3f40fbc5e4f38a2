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


def analyse_table(per_rater: Table, policy: RaterPolicy) -> StudyAnalysis:
    """All statistics of the per-rater ``table`` under the resolved ``policy`` (not
    ``each``: ValueError).  :class:`~cobbdesk.core.export.fetch.Unsupported` when the policy
    needs the pandas path (a reading plan's consensus)."""
    if policy.kind == "each":
        raise ValueError("the statistics need one value per patient and visit, not 'each'")
    return analyse_inputs(analysis_inputs(per_rater, apply_policy(per_rater, policy)), policy)


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
    """Films (record_id, event) × raters (both sorted) of one region's angles."""
    cells: dict[tuple[str, str], dict[str, float]] = {}
    for event in EVENTS:
        angles = table.events[event][f"{region}_cobb"]
        for i in np.flatnonzero(~np.isnan(angles)).tolist():
            rater = table.rater[i]
            if rater != "":
                cells.setdefault((table.record_id[i], event), {}).setdefault(rater, angles[i])
    raters = tuple(sorted({r for row in cells.values() for r in row}))
    films = tuple(sorted(cells))
    column = {r: k for k, r in enumerate(raters)}
    matrix = np.full((len(films), len(raters)), np.nan)
    for f, film in enumerate(films):
        for rater, value in cells[film].items():
            matrix[f, column[rater]] = value
    return Ratings(raters, films, matrix)
