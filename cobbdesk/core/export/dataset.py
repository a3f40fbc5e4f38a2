"""A study as two pandas DataFrames (long and wide), built with a few set-based SQL queries.

Rules (documented in the README's export section and the codebook):

* Only ``admission`` and ``month3`` visits are exported; when a patient has several visits of
  one kind (different labels), the first created is used.
* Angles come from cervical/lumbar films.  When a rater measured the same visit and region
  more than once (one film measured twice, or two films), the **most recently created**
  measurement is used (ties broken by id).  Angles are rounded to 4 decimals.
* Every patient has one row per rater who measured any of their films (one row with an empty
  rater when no angle was measured); labs are per visit and repeated on each rater's row.
* The long layout has a row for both visits of every patient × rater; a missing visit shows
  as empty values (so the wide layout has empty month-3 columns).
* De-identified by default: the study ID only; dates become day offsets from admission; age
  is whole years at admission, capped at 90 with ``age_90plus`` = 1.  ``identified=True``
  adds name, MRN, birth date, DICOM patient ID and visit dates.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, case, func, select

from cobbdesk.core.export.columns import (
    AGE_CAP,
    ANGLE_DECIMALS,
    DERIVED_DECIMALS,
    EVENTS,
    MEASURES,
    REGIONS,
    ColumnSpec,
    long_columns,
    wide_columns,
)
from cobbdesk.core.export.lab_cells import numeric_labs
from cobbdesk.core.labs import LAB_SPECS
from cobbdesk.core.measure.guards import PLAUSIBLE_RANGE, plausibility_flag
from cobbdesk.core.measure.measurement import ALGORITHM_VERSION, Template
from cobbdesk.core.stats.paired import paired_differences
from cobbdesk.core.store.checks import (
    ANGLE_TOLERANCE_DEG,
    POINT_COLUMNS,
    FloatArray,
    angle_spacing,
    current_calibrations,
    recompute_angles,
    stale_reasons,
)
from cobbdesk.core.store.records import Region, template_region
from cobbdesk.core.store.schema import films, labs, measurements, patients, visits
from cobbdesk.core.store.study import Study

_KEYS = ["record_id", "rater"]
_PER_EVENT = (
    *(
        f"{r}_{n}"
        for r in REGIONS
        for n in ("spacing_source", "cobb_flag", "cobb_stale", "snapped")
    ),
    "region_mismatch",
)
"""Long columns that become one wide column per event (besides the measures)."""


def load_long(study: Study, *, identified: bool = False) -> pd.DataFrame:
    """The long layout: one row per patient × visit × rater, columns of ``long_columns``."""
    with study.engine.connect() as conn:
        people = _patients(conn)
        visit_rows = _visits(conn)
        measured = _measurements(conn, visit_rows)
        calibrated = current_calibrations(conn)
        lab_values = _labs(conn, study.location)
    angles = _angles(measured, calibrated)
    mismatches = _mismatches(measured)
    rated = pd.concat([angles[["patient_id", "rater"]], mismatches[["patient_id", "rater"]]])
    frame = _skeleton(people, rated)
    frame = frame.merge(visit_rows, on=["patient_id", "event"], how="left")
    for region in REGIONS:
        part = angles[angles["region"] == region].drop(columns=["region", "patient_id"])
        part = part.rename(columns={
            "angle": f"{region}_cobb", "spacing": f"{region}_spacing_source",
            "flag": f"{region}_cobb_flag", "stale": f"{region}_cobb_stale",
            "snapped": f"{region}_snapped",
        })  # fmt: skip
        frame = frame.merge(part, on=["visit_id", "rater"], how="left")
    counts = mismatches.groupby(["visit_id", "rater"]).size().rename("region_mismatch")
    frame = frame.merge(counts.reset_index(), on=["visit_id", "rater"], how="left")
    frame["region_mismatch"] = frame["region_mismatch"].fillna(0).where(frame["visit_id"].notna())
    frame = frame.merge(lab_values, left_on="visit_id", right_index=True, how="left")
    frame = _dates_and_ages(frame, identified)
    frame["event"] = pd.Categorical(frame["event"], categories=list(EVENTS), ordered=True)
    frame = frame.sort_values(["record_id", "rater", "event"], kind="stable")
    frame["event"] = frame["event"].astype(str)
    return conform(frame.reset_index(drop=True), long_columns(identified))


def load_wide(study: Study, *, identified: bool = False) -> pd.DataFrame:
    """The wide layout (one row per patient and rater)."""
    return long_to_wide(load_long(study, identified=identified), identified=identified)


def _patients(conn: Connection) -> pd.DataFrame:
    p = patients.c
    query = select(
        p.id.label("patient_id"), p.study_id.label("record_id"), p.name, p.mrn, p.birth_date,
        p.dicom_patient_id, p.sex, p.dose_mg_kg_day, p.duration_months,
    ).where(p.deleted_utc.is_(None))  # fmt: skip
    return _frame(conn, query)


def _visits(conn: Connection) -> pd.DataFrame:
    v = visits.c
    query = (
        select(v.id.label("visit_id"), v.patient_id, v.kind.label("event"), v.visit_date)
        .where(v.deleted_utc.is_(None), v.kind.in_(EVENTS))
        .order_by(v.id)
    )
    return _frame(conn, query).drop_duplicates(["patient_id", "event"], keep="first")


_TEMPLATE_REGIONS = {t.value: template_region(t.value).value for t in Template}
_SCALE_COLUMNS = ("spacing_row_mm", "spacing_col_mm", "pixel_aspect_row", "pixel_aspect_col")


def _measurements(conn: Connection, visit_rows: pd.DataFrame) -> pd.DataFrame:
    """Every live measurement of an exported visit, oldest first (``created_utc``, id)."""
    m, f = measurements.c, films.c
    query = (
        select(
            f.visit_id, f.region, m.film_id, m.rater, m.template,
            *(m[name] for name in (*POINT_COLUMNS, *_SCALE_COLUMNS)),
            m.angle_deg, m.algorithm_version, m.spacing_source.label("spacing"),
            (m.upper_snapped + m.lower_snapped).label("snapped"),
        )
        .join_from(measurements, films, f.id == m.film_id)
        .where(m.deleted_utc.is_(None), f.deleted_utc.is_(None))
        .order_by(m.created_utc, m.id)
    )  # fmt: skip
    rows = _frame(conn, query)
    rows = rows[rows["visit_id"].isin(visit_rows["visit_id"])]
    rows = rows.merge(visit_rows[["visit_id", "patient_id"]], on="visit_id")
    regions = rows["template"].map(_TEMPLATE_REGIONS).fillna(Region.UNKNOWN.value)
    rows["matches"] = regions.to_numpy() == rows["region"].to_numpy()
    return rows


def _angles(rows: pd.DataFrame, calibrated: dict[int, tuple[float, float]]) -> pd.DataFrame:
    """The most recent region-matching measurement per visit, region and rater.

    The angle is recomputed from the stored points (never the stored ``angle_deg`` cache);
    ``stale`` names why the cache could not be trusted, ``flag`` is the plausibility flag.
    """
    rows = rows[rows["matches"] & rows["region"].isin(REGIONS)]
    rows = rows.drop_duplicates(["visit_id", "region", "rater"], keep="last").copy()
    points = _numbers(rows, POINT_COLUMNS)  # text edited into a cell becomes NaN: stale
    spacing = _numbers(rows, _SCALE_COLUMNS[:2])
    aspect = _numbers(rows, _SCALE_COLUMNS[2:])
    no_spacing = ~(spacing > 0).all(axis=1)
    square = ~(aspect > 0).all(axis=1) | (aspect[:, 0] == aspect[:, 1])
    scales = np.where(no_spacing[:, None], np.where(square[:, None], np.nan, aspect), spacing)
    angles = recompute_angles(points, scales)
    rows["angle"] = np.round(angles, ANGLE_DECIMALS)
    rows["stale"] = _stale(rows, angles, spacing, calibrated)
    rows["flag"] = _flags(rows["template"].to_numpy(), angles)
    columns = ["patient_id", "visit_id", "region", "rater", "angle", "spacing", "flag", "stale"]
    return rows[[*columns, "snapped"]]


def _numbers(rows: pd.DataFrame, columns: Any) -> Any:
    """The columns as a float array, NaN where a cell is not a number."""
    return rows[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)


def _stale(
    rows: pd.DataFrame,
    angles: FloatArray,
    spacing: FloatArray,
    calibrated: dict[int, tuple[float, float]],
) -> list[str]:
    """:func:`~cobbdesk.core.store.checks.stale_reasons` codes per row, ``;``-joined."""
    stored = _numbers(rows, ["angle_deg"])[:, 0]
    suspect = ~(np.abs(stored - angles) <= ANGLE_TOLERANCE_DEG)
    suspect |= rows["algorithm_version"].to_numpy() != ALGORITHM_VERSION
    film_ids = rows["film_id"].to_numpy()
    suspect |= np.fromiter((int(f) in calibrated for f in film_ids), bool, len(film_ids))
    codes = [""] * len(rows)
    algorithms = rows["algorithm_version"].to_numpy()
    for i in np.flatnonzero(suspect):  # few rows: the exact per-row rule
        own = angle_spacing(spacing[i, 0], spacing[i, 1])
        reasons = stale_reasons(
            stored[i], angles[i], algorithms[i], own, calibrated.get(int(film_ids[i]))
        )
        codes[i] = ";".join(reasons)
    return codes


def _flags(templates: Any, angles: FloatArray) -> list[str]:
    """:func:`~cobbdesk.core.measure.guards.plausibility_flag` per row ("" when plausible)."""
    flags = [""] * len(angles)
    outside = np.isnan(angles)
    for template, (low, high) in PLAUSIBLE_RANGE.items():
        outside |= (templates == template.value) & ~((angles >= low) & (angles <= high))
    for i in np.flatnonzero(outside):  # few rows: the guard's own text
        if math.isnan(angles[i]):
            flags[i] = "the stored points do not define two endplate lines"
        else:
            flags[i] = plausibility_flag(templates[i], float(angles[i])) or ""
    return flags


def _mismatches(rows: pd.DataFrame) -> pd.DataFrame:
    """Measurements whose template does not match their film's region (never exported)."""
    return rows.loc[~rows["matches"], ["patient_id", "visit_id", "rater"]]


def _labs(conn: Connection, path: Path | str) -> pd.DataFrame:
    """One row per visit id, one column per lab (binary labs coded 0/1), plus ``nlr``.

    Pivoted in SQL (one ``MAX(…) FILTER (WHERE name = …)`` per lab; unique per visit).
    Raises ExportError naming ``path`` when an exported cell holds text
    (:func:`~cobbdesk.core.export.lab_cells.numeric_labs`).
    """
    lab = labs.c
    pivot = [func.max(_lab_value(name)).filter(lab.name == name).label(name) for name in LAB_SPECS]
    query = select(lab.visit_id, *pivot).where(lab.deleted_utc.is_(None)).group_by(lab.visit_id)
    table = _frame(conn, query).set_index("visit_id")
    table = numeric_labs(conn, table.reindex(columns=list(LAB_SPECS)), path)
    lymph = table["lymphocyte"].where(table["lymphocyte"] > 0)
    table["nlr"] = (table["neutrophil"] / lymph).round(DERIVED_DECIMALS)
    return table


def _lab_value(name: str) -> Any:
    """The stored value of lab ``name`` as a number (binary: positive 1, negative 0)."""
    lab = labs.c
    if LAB_SPECS[name].kind != "binary":
        return lab.value_num
    return case((lab.value_text == "positive", 1.0), (lab.value_text == "negative", 0.0))


def _frame(conn: Connection, query: Any) -> pd.DataFrame:
    """Run ``query`` on the DB-API cursor and build a DataFrame from its plain tuples.

    The export queries hold only constants (region and visit names), so they are compiled
    with literal values; skipping SQLAlchemy's per-row result processing saves ~0.2 s on a
    10,000-patient study.
    """
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        parts = []
        while rows := cursor.fetchmany(_CHUNK_ROWS):
            parts.append(_shared_texts(pd.DataFrame.from_records(rows, columns=columns)))
            del rows
    finally:
        cursor.close()
    if len(parts) <= 1:
        return parts[0] if parts else pd.DataFrame.from_records([], columns=columns)
    frame = pd.concat(parts, ignore_index=True)
    for column in columns:  # e.g. a chunk of only NULLs: infer from all rows, as in one fetch
        if len({str(part[column].dtype) for part in parts}) > 1:
            cells = [(v,) for v in frame[column].to_numpy(dtype=object)]
            frame[column] = pd.DataFrame.from_records(cells, columns=[column])[column]
    return frame


#: Rows fetched at a time: the driver's tuples of one chunk are alive at once, not all
#: (440,000 measurement rows of 100,000 patients were ~700 MiB of tuples; issue #17).
_CHUNK_ROWS = 50_000


def _shared_texts(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns with one str object per distinct value (raters, templates, regions repeat).

    Only columns whose non-null cells are all text; the column's dtype and values are
    unchanged.  Without this each chunk's strings outlive its freed numbers in the same
    allocator arenas, which then cannot be returned (RSS ~5 × the frame's size).
    """
    for column in frame.columns:
        values = frame[column]
        if not pd.api.types.is_string_dtype(values) or pd.api.types.infer_dtype(values) != "string":
            continue  # numbers, or text mixed with numbers
        codes, uniques = pd.factorize(values)  # a null gets code -1
        if len(uniques) * 4 < len(values):
            shared = np.empty(len(uniques) + 1, dtype=object)
            shared[:-1] = np.asarray(uniques, dtype=object)  # shared[-1] stays None
            frame[column] = pd.Series(shared[codes], index=frame.index, dtype=values.dtype)
    return frame


def _skeleton(people: pd.DataFrame, rated: pd.DataFrame) -> pd.DataFrame:
    """Patients × their raters (or one empty rater) × both events.

    A rater of a patient is anyone with a measurement of an exported visit (``rated``),
    whether or not it matched its film's region.
    """
    raters = rated[["patient_id", "rater"]].drop_duplicates()
    frame = people.merge(raters, on="patient_id", how="left")
    frame["rater"] = frame["rater"].fillna("").astype(str)
    return frame.merge(pd.DataFrame({"event": list(EVENTS)}), how="cross")


def _dates_and_ages(frame: pd.DataFrame, identified: bool) -> pd.DataFrame:
    """``visit_day`` from admission, whole-year age at admission, capped unless identified."""
    day = pd.to_datetime(frame["visit_date"], format="%Y-%m-%d", errors="coerce")
    admission = day.where(frame["event"] == "admission")
    admission = admission.groupby(frame["patient_id"]).transform("max")
    frame["visit_day"] = (day - admission).dt.days.astype("Int64")
    birth = pd.to_datetime(frame["birth_date"], format="%Y-%m-%d", errors="coerce")
    before_birthday = (admission.dt.month * 100 + admission.dt.day) < (
        birth.dt.month * 100 + birth.dt.day
    )
    age = admission.dt.year - birth.dt.year - before_birthday.astype(int)
    age = age.where(admission.notna() & birth.notna()).astype("Int64")
    frame["age_90plus"] = (age >= AGE_CAP).astype("Int64").where(age.notna())
    frame["age_admission"] = age if identified else age.clip(upper=AGE_CAP)
    return frame


def conform(frame: pd.DataFrame, columns: list[ColumnSpec]) -> pd.DataFrame:
    """Exactly ``columns`` in order, typed: text → str ("" missing), integer/binary → Int64."""
    out = frame.reindex(columns=[c.name for c in columns])
    for spec in columns:
        series = out[spec.name]
        if spec.is_text:
            out[spec.name] = series.astype(object).where(series.notna(), "").astype(str)
        elif spec.kind in ("integer", "binary"):
            out[spec.name] = pd.to_numeric(series).round().astype("Int64")
        else:
            out[spec.name] = pd.to_numeric(series).astype(float)
    return out


def long_to_wide(long: pd.DataFrame, *, identified: bool = False) -> pd.DataFrame:
    """The wide layout from the long one (also used to check the long export round-trips)."""
    long = long.copy()
    long["rater"] = long["rater"].fillna("").astype(str)
    keys = long[_KEYS].drop_duplicates().set_index(_KEYS).index
    by_event = {
        event: long[long["event"] == event].drop_duplicates(_KEYS).set_index(_KEYS).reindex(keys)
        for event in EVENTS
    }
    first = long.drop_duplicates(_KEYS).set_index(_KEYS).reindex(keys)
    wide = pd.DataFrame(index=keys)
    for name in ("sex", "age_admission", "age_90plus", "dose_mg_kg_day", "duration_months"):
        wide[name] = first[name]
    wide["month3_day"] = by_event["month3"]["visit_day"]
    for measure in MEASURES:
        for event in EVENTS:
            wide[f"{measure.name}_{event}"] = by_event[event][measure.name]
        if measure.kind == "number":
            before = pd.to_numeric(by_event["admission"][measure.name]).to_numpy(np.float64)
            after = pd.to_numeric(by_event["month3"][measure.name]).to_numpy(np.float64)
            wide[f"{measure.name}_delta"] = paired_differences(before, after)
    for name in _PER_EVENT:  # conform() puts them in the codebook's order
        for event in EVENTS:
            wide[f"{name}_{event}"] = by_event[event][name]
    if identified:
        for name in ("name", "mrn", "birth_date", "dicom_patient_id"):
            wide[name] = first[name]
        for event in EVENTS:
            wide[f"{event}_date"] = by_event[event]["visit_date"]
    wide = wide.reset_index().rename(columns={"record_id": "study_id"})
    return conform(wide, wide_columns(identified))
