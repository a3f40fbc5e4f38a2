"""The per-rater export dataset as numpy columns (no pandas): the fast path of a wide export.

The same rules as :mod:`cobbdesk.core.export.dataset` (its module docstring), computed from
the SQL rows with numpy and plain Python: exported visits, the most recent region-matching
measurement per visit × region × rater with its angle recomputed from the points, stale and
plausibility notes, region mismatches, labs pivoted per visit, day offsets and ages.  The
result is keyed by (record_id, rater), sorted as the pandas path sorts (code-point order),
with one column array per long column and event.  Data the pandas path would read
differently (text in a number cell, a date not written ``YYYY-MM-DD``) raises
:class:`~cobbdesk.core.export.fetch.Unsupported`: the caller falls back.  The equality of
both paths, byte for byte, is tested on varied studies (tests/core/export/test_fast_wide.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, case, func, select

from cobbdesk.core.export.assemble import Angles, Labs, Table, Visits, angle_keys, assemble
from cobbdesk.core.export.columns import ANGLE_DECIMALS, EVENTS, REGIONS
from cobbdesk.core.export.fetch import (
    Kind,
    Unsupported,
    fetch,
    fetch_numbers,
    number_or_refused,
)
from cobbdesk.core.export.measured import SCALES, TEMPLATES, measurement_rows
from cobbdesk.core.labs import LAB_SPECS
from cobbdesk.core.measure.guards import PLAUSIBLE_RANGE, plausibility_flag
from cobbdesk.core.measure.measurement import ALGORITHM_VERSION
from cobbdesk.core.store.checks import (
    ANGLE_TOLERANCE_DEG,
    POINT_COLUMNS,
    angle_spacing,
    current_calibrations,
    recompute_angles,
    stale_reasons,
)
from cobbdesk.core.store.schema import labs, patients, visits
from cobbdesk.core.store.study import Study

Array = npt.NDArray[Any]
__all__ = ["Table", "load_table"]
_IDENTIFYING = ("name", "mrn", "dicom_patient_id")


def load_table(study: Study, *, identified: bool = False) -> Table:
    """The per-rater long dataset of ``study`` (one row per patient × rater, both events).

    Raises :class:`~cobbdesk.core.export.fetch.Unsupported` for data the fast path does not
    reproduce exactly.
    """
    with study.engine.connect() as conn:
        people = _patients(conn, identified)
        chosen = _visits(conn)
        measured = measurement_rows(conn, chosen)
        calibrated = current_calibrations(conn)
        lab_rows = _labs(conn)
    angles = _angles(measured, calibrated)
    keys = _keys(people, measured, angles)
    return assemble(
        people, chosen, angles, measured, lab_rows, keys=keys, identified=identified
    )


def _patients(conn: Connection, identified: bool) -> dict[str, Array]:
    """The live patients' columns the export writes (the identifying ones only when
    ``identified``)."""
    p = patients.c
    texts = ("study_id", "birth_date", "sex", *(_IDENTIFYING if identified else ()))
    query = select(p.id, *(p[name] for name in texts), p.dose_mg_kg_day, p.duration_months)
    kinds: dict[str, Kind] = {"id": "i", "dose_mg_kg_day": "f", "duration_months": "f"}
    kinds.update(dict.fromkeys(texts, "t"))
    return fetch(conn, query.where(p.deleted_utc.is_(None)), kinds)


def _visits(conn: Connection) -> Visits:
    """The first created (lowest id) live visit of each patient and exported kind."""
    v = visits.c
    query = (
        select(v.id, v.patient_id, v.kind, v.visit_date)
        .where(v.deleted_utc.is_(None), v.kind.in_(EVENTS))
        .order_by(v.id)
    )
    cols = fetch(conn, query, {"id": "i", "patient_id": "i", "kind": "t", "visit_date": "t"})
    ids, patient_ids = cols["id"].tolist(), cols["patient_id"].tolist()
    keys = list(zip(patient_ids, cols["kind"], strict=True))
    found = list(zip(ids, cols["visit_date"], strict=True))
    # the lowest id of each (patient, kind) wins: assigned last when read backwards
    chosen = dict(zip(reversed(keys), reversed(found), strict=True))
    patient_of = {vid: pid for (pid, _kind), (vid, _date) in chosen.items()}
    return Visits(chosen, patient_of)


def _angles(rows: dict[str, Array], calibrated: dict[int, tuple[float, float]]) -> Angles:
    """The most recent region-matching measurement per visit, region and rater, its angle
    recomputed from the points, its stale codes and plausibility flag."""
    regions = rows["region"]
    used = np.flatnonzero(rows["matches"] & (regions < len(REGIONS)))
    rater_code: dict[str, int] = {}
    raters = np.fromiter((rater_code.setdefault(r, len(rater_code)) for r in rows["rater"][used]),
                         np.int64, len(used))  # fmt: skip
    keys = angle_keys(rows["visit_id"][used], regions[used], raters, len(rater_code))
    # the latest row of each key: its first occurrence when read backwards
    sorted_keys, first_backwards = np.unique(keys[::-1], return_index=True)
    picked = used[len(used) - 1 - first_backwards]  # aligned with sorted_keys
    needed = (*POINT_COLUMNS, *SCALES, "angle_deg", "current", "film_id", "template",
              "spacing_source", "snapped", "patient_id", "rater")  # fmt: skip
    part = {name: rows[name][picked] for name in needed}
    points = np.column_stack([part[n] for n in POINT_COLUMNS]) if len(picked) else np.empty((0, 8))
    spacing = np.column_stack([part[n] for n in SCALES[:2]]).reshape(-1, 2)
    aspect = np.column_stack([part[n] for n in SCALES[2:]]).reshape(-1, 2)
    with np.errstate(invalid="ignore"):
        no_spacing = ~np.all(spacing > 0, axis=1)
        square = ~np.all(aspect > 0, axis=1) | (aspect[:, 0] == aspect[:, 1])
    scales = np.where(no_spacing[:, None], np.where(square[:, None], np.nan, aspect), spacing)
    angles = recompute_angles(points.reshape(-1, 8), scales.reshape(-1, 2))
    values = {
        "cobb": np.round(angles, ANGLE_DECIMALS),
        "spacing_source": part["spacing_source"],
        "cobb_flag": _flags(np.array((*TEMPLATES, ""), dtype=object)[part["template"]], angles),
        "cobb_stale": _stale(part, angles, spacing, calibrated),
        "snapped": part["snapped"],
        "patient_id": part["patient_id"],
        "rater": part["rater"],
    }
    return Angles(sorted_keys, rater_code, values)


def _stale(
    part: dict[str, Array],
    angles: Array,
    spacing: Array,
    calibrated: dict[int, tuple[float, float]],
) -> Array:
    """:func:`~cobbdesk.core.store.checks.stale_reasons` codes per row, ``;``-joined."""
    stored = part["angle_deg"]
    with np.errstate(invalid="ignore"):
        suspect = ~(np.abs(stored - angles) <= ANGLE_TOLERANCE_DEG)
    suspect |= part["current"] != 1
    film_ids = part["film_id"].tolist()
    suspect |= np.fromiter((f in calibrated for f in film_ids), bool, len(film_ids))
    codes = np.full(len(angles), "", dtype=object)
    for i in np.flatnonzero(suspect).tolist():  # few rows: the exact per-row rule
        own = angle_spacing(spacing[i, 0], spacing[i, 1])
        algorithm = ALGORITHM_VERSION if part["current"][i] == 1 else ""  # only compared
        reasons = stale_reasons(stored[i], angles[i], algorithm, own,
                                calibrated.get(film_ids[i]))  # fmt: skip
        codes[i] = ";".join(reasons)
    return codes


def _flags(templates: Array, angles: Array) -> Array:
    """:func:`~cobbdesk.core.measure.guards.plausibility_flag` per row ("" when plausible)."""
    flags = np.full(len(angles), "", dtype=object)
    outside = np.isnan(angles)
    with np.errstate(invalid="ignore"):
        for template, (low, high) in PLAUSIBLE_RANGE.items():
            outside |= (templates == template.value) & ~((angles >= low) & (angles <= high))
    for i in np.flatnonzero(outside).tolist():  # few rows: the guard's own text
        if math.isnan(angles[i]):
            flags[i] = "the stored points do not define two endplate lines"
        else:
            flags[i] = plausibility_flag(templates[i], float(angles[i])) or ""
    return flags


def _labs(conn: Connection) -> Labs:
    """Lab values per visit in ``LAB_SPECS`` order (binary labs 0/1; NaN when missing),
    pivoted in SQL (one ``MAX(…) FILTER (WHERE name = …)`` per lab; unique per visit).
    Unsupported for text or a blob in a number lab's value (read as
    :data:`~cobbdesk.core.export.fetch.REFUSED`), or an infinite value."""
    lab = labs.c
    pivot = [func.max(_lab_value(conn, name)).filter(lab.name == name).label(name)
             for name in LAB_SPECS]  # fmt: skip
    query = select(lab.visit_id, *pivot).where(lab.deleted_utc.is_(None)).group_by(lab.visit_id)
    cols = fetch_numbers(conn, query, ids=("visit_id",))
    table = np.column_stack([cols[name] for name in LAB_SPECS]).reshape(-1, len(LAB_SPECS))
    if np.isinf(table).any():  # refused, naming the cell, by the pandas path (lab_cells)
        raise Unsupported("a lab holds an infinite value")
    return Labs({v: k for k, v in enumerate(cols["visit_id"].tolist())}, table)


def _lab_value(conn: Connection, name: str) -> Any:
    """The stored value of lab ``name`` as a number (binary: positive 1, negative 0)."""
    lab = labs.c
    if LAB_SPECS[name].kind != "binary":
        return number_or_refused(conn, lab.value_num)
    return case((lab.value_text == "positive", 1.0), (lab.value_text == "negative", 0.0))


def _keys(
    people: dict[str, Array], measured: dict[str, Array], angles: Angles
) -> list[tuple[str, str, int]]:
    """(record_id, rater, patient row) for every patient × rater, sorted; a patient nobody
    measured has one row with rater "" (raters of mismatching measurements count too)."""
    row_of = {pid: k for k, pid in enumerate(people["id"].tolist())}
    mismatched = ~measured["matches"]
    pairs = set(zip(angles.values["patient_id"].tolist(), angles.values["rater"], strict=True))
    pairs.update(zip(measured["patient_id"][mismatched].tolist(),
                     measured["rater"][mismatched], strict=True))  # fmt: skip
    record_ids = people["study_id"].tolist()
    if None in record_ids:
        raise Unsupported("a patient without a study ID")
    keys = [(record_ids[row_of[pid]], rater, row_of[pid]) for pid, rater in pairs if pid in row_of]
    measured_patients = {pid for pid, _rater in pairs}
    keys.extend((record_ids[row], "", row) for pid, row in row_of.items()
                if pid not in measured_patients)  # fmt: skip
    keys.sort(key=lambda k: (k[0], k[1]))
    return keys


