"""The study browser's film flags, from set-based SQL instead of a pass over every measurement.

The flags (:func:`cobbdesk.core.compare.flags.film_flags`) need three inputs: measurements
whose recomputed angle is outside the plausible range (:data:`~cobbdesk.core.measure.guards.
PLAUSIBLE_RANGE`), stale stored angles (:meth:`StudyChecks.angle_discrepancies`) and each
film's count of measurements of another region's template.  At 100,000 patients building
every measurement and recomputing every angle in Python took 30–40 s.  Here:

1. one SQL query recomputes every live measurement's angle on the server (the construction of
   :func:`~cobbdesk.core.store.checks.recompute_angles`, written without divisions: with
   ``u``, ``v`` the endplate vectors in mm, ``θ = atan2(|u×v|, u·v)`` and the sign is that of
   the closing of the lines along the normal of their bisector, oriented from the upper to
   the lower line's midpoint) and returns only the *candidates*: rows whose angle may lie
   outside the plausible range, whose stored angle may differ from it, written by another
   algorithm, on a calibrated film, or that are degenerate (a zero-length line, lines within
   a hair of parallel or of 180°, a non-number in a number cell);
2. each candidate is then judged by the very code the per-measurement path used
   (:func:`~cobbdesk.core.store.checks._discrepancy`,
   :meth:`CobbMeasurement.angle <cobbdesk.core.measure.measurement.CobbMeasurement.angle>`),
   so the flags are the same; the SQL margins (1e-7° on the stored angle, 1e-9° on the
   range) only make more rows candidates, never fewer;
3. region mismatches are one ``GROUP BY``.

A measurement whose stored row cannot be read as a measurement (which made the former path
fail for the whole study) gets no plausibility flag; its stale-angle flag still shows it.
SQLite without its math functions gets ``sqrt``/``atan2``/``degrees`` from Python
(PostgreSQL has them).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Connection, Engine, and_, case, func, literal, or_, select
from sqlalchemy.exc import DBAPIError

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.measure.guards import PLAUSIBLE_RANGE
from cobbdesk.core.measure.measurement import ALGORITHM_VERSION, CobbMeasurement
from cobbdesk.core.store.checks import (
    ANGLE_TOLERANCE_DEG,
    POINT_COLUMNS,
    AngleDiscrepancy,
    _discrepancy,
    current_calibrations,
)
from cobbdesk.core.store.clinical import measurement_from_row
from cobbdesk.core.store.records import _TEMPLATE_REGIONS
from cobbdesk.core.store.schema import calibrations, films, measurements, patients, visits

STORED_MARGIN_DEG = 1e-7
"""A stored angle closer than ``ANGLE_TOLERANCE_DEG − this`` to the SQL recomputation is
certainly within tolerance of the exact one (they differ by ~1e-12°)."""
RANGE_MARGIN_DEG = 1e-9
"""An angle this far inside the plausible range is certainly inside it."""


class Study(Protocol):
    """What the flags need of :class:`~cobbdesk.core.store.study.Study`."""

    engine: Engine


class FlagInputs(NamedTuple):
    """The arguments of :func:`cobbdesk.core.compare.flags.film_flags`, in its order."""

    film_of_uid: dict[str, int]
    """SOP Instance UID → film id, of the films of :attr:`measurements`."""
    measurements: list[CobbMeasurement]
    """The live measurements on live films whose angle may be implausible (oldest first)."""
    discrepancies: list[AngleDiscrepancy]
    """Equal to :meth:`StudyChecks.angle_discrepancies`."""
    mismatched: dict[int, int]
    """Film id → live measurements of another region's template (films with one or more)."""


def flag_inputs(study: Study) -> FlagInputs:
    """The inputs of the browser's film flags (see the module rules), from three set queries."""
    with study.engine.connect() as conn:
        _ensure_math(conn)
        rows = [dict(r) for r in conn.execute(_candidates_query(conn)).mappings()]
        mismatched = _mismatches(conn)
        calibrated = _calibrations(conn, {int(r["film_id"]) for r in rows})
    discrepancies = []
    for row in rows:
        found = _discrepancy(row, calibrated.get(int(row["film_id"])))
        if found is not None:
            discrepancies.append(found)
    ranged = sorted((r for r in rows if r["maybe_implausible"]),
                    key=lambda r: (r["created_utc"], r["id"]))  # fmt: skip
    plausibility = [m for m in map(_readable, ranged) if m is not None]
    film_of_uid = {str(r["sop_instance_uid"]): int(r["film_id"]) for r in ranged}
    return FlagInputs(film_of_uid, plausibility, discrepancies, mismatched)


def _readable(row: dict[str, Any]) -> CobbMeasurement | None:
    """The row's measurement when it reads as one and its angle computes, else None."""
    try:
        measurement = measurement_from_row(row, row["sop_instance_uid"], row["pixel_sha256"])
        _ = measurement.angle
    except (CobbdeskError, ValueError, TypeError):
        return None
    return measurement


def _scale(spacing: tuple[Any, Any], aspect: tuple[Any, Any]) -> tuple[Any, Any]:
    """SQL ``(row, col)`` scale as :func:`~cobbdesk.core.store.checks.angle_spacing`
    (positive mm spacing, else a non-square positive aspect, else 1); NULL and NaN fail every
    comparison and fall through as they do there."""
    (sr, sc), (ar, ac) = spacing, aspect
    has_mm = and_(sr > 0, sc > 0, sr < math.inf, sc < math.inf)
    has_aspect = and_(ar > 0, ac > 0, ar < math.inf, ac < math.inf, ar != ac)
    row = case((has_mm, sr), (has_aspect, ar), else_=literal(1.0))
    col = case((has_mm, sc), (has_aspect, ac), else_=literal(1.0))
    return row, col


def _angles() -> Any:
    """Subquery: ``id``, ``film_id``, ``signed`` (°), ``certain`` of every live measurement.

    Three stages, each fenced by ``OFFSET 0`` (SQLite and PostgreSQL then compute a stage's
    columns once per row instead of inlining their expressions into every use):

    1. the endplate vectors ``u``, ``v`` and the midpoint difference ``m``, in mm;
    2. their lengths, cross and dot products;
    3. ``θ = atan2(|u×v|, u·v)``; the bisector ``e = u|v| + v|u|`` (no division) and the sign
       ``−sign(e×m)·sign(u×v)``: the closing of :func:`recompute_angles` (the normal of the
       unit bisector, turned towards the lower line, dotted with ``u/|u| − v/|v|``) is
       ``(e×m)``'s sign times ``(e×(u|v| − v|u|)) = −2|u||v|(u×v)``'s, over positive factors.
    """
    m = measurements.c
    x0, y0, x1, y1, x2, y2, x3, y3 = (m[c] for c in POINT_COLUMNS)
    sy, sx = _scale((m.spacing_row_mm, m.spacing_col_mm), (m.pixel_aspect_row, m.pixel_aspect_col))
    vectors = (
        select(
            m.id,
            m.film_id,
            m.template,
            m.angle_deg,
            ((x1 - x0) * sx).label("ux"),
            ((y1 - y0) * sy).label("uy"),
            ((x3 - x2) * sx).label("vx"),
            ((y3 - y2) * sy).label("vy"),
            ((x2 + x3 - x0 - x1) * sx / 2).label("mx"),
            ((y2 + y3 - y0 - y1) * sy / 2).label("my"),
        )
        .where(m.deleted_utc.is_(None))
        .offset(0)
        .subquery("vectors")
    )
    v = vectors.c
    products = (
        select(
            v.id,
            v.film_id,
            v.template,
            v.angle_deg,
            v.ux,
            v.uy,
            v.vx,
            v.vy,
            v.mx,
            v.my,
            func.sqrt(v.ux * v.ux + v.uy * v.uy).label("lu"),
            func.sqrt(v.vx * v.vx + v.vy * v.vy).label("lv"),
            (v.ux * v.vy - v.uy * v.vx).label("cross"),
            (v.ux * v.vx + v.uy * v.vy).label("dot"),
        )
        .offset(0)
        .subquery("products")
    )
    p = products.c
    bisector_x_mid = (p.ux * p.lv + p.vx * p.lu) * p.my - (p.uy * p.lv + p.vy * p.lu) * p.mx
    theta = func.degrees(func.atan2(func.abs(p.cross), p.dot))
    positive = or_(and_(bisector_x_mid < 0, p.cross > 0), and_(bisector_x_mid > 0, p.cross < 0))
    certain = and_(p.lu > 0, p.lv > 0, func.abs(bisector_x_mid) > 0, func.abs(p.cross) > 0)
    return (
        select(
            p.id,
            p.film_id,
            p.template,
            p.angle_deg,
            case((positive, theta), else_=-theta).label("signed"),
            and_(certain, theta > 1e-6, theta < 89.0).label("certain"),
        )
        .offset(0)
        .subquery("angles")
    )


def _not(condition: Any) -> Any:
    """True where ``condition`` is false *or unknown* (NULL, NaN)."""
    return case((condition, False), else_=True)


def _candidates_query(conn: Connection) -> Any:
    """Live measurements on live films that may be flagged, with what judging them needs."""
    m, f = measurements.c, films.c
    angles = _angles()
    a = angles.c
    fresh = func.abs(a.angle_deg - a.signed) <= ANGLE_TOLERANCE_DEG - STORED_MARGIN_DEG
    inside = [
        and_(a.template == t.value, a.signed >= lo + RANGE_MARGIN_DEG,
             a.signed <= hi - RANGE_MARGIN_DEG)
        for t, (lo, hi) in PLAUSIBLE_RANGE.items()
    ]  # fmt: skip
    ranged = a.template.in_([t.value for t in PLAUSIBLE_RANGE])
    maybe_implausible = and_(ranged, _not(and_(a.certain, or_(*inside))))
    calibrated = (
        select(calibrations.c.id)
        .where(calibrations.c.film_id == a.film_id, calibrations.c.deleted_utc.is_(None))
        .exists()
    )
    reasons = [
        maybe_implausible,
        _not(and_(a.certain, fresh)),
        m.algorithm_version.is_distinct_from(ALGORITHM_VERSION),
        calibrated,
    ]
    if conn.dialect.name == "sqlite":  # text typed into a number cell reads as 0 in SQL
        cells = (*POINT_COLUMNS, "angle_deg", "spacing_row_mm", "spacing_col_mm",
                 "pixel_aspect_row", "pixel_aspect_col")  # fmt: skip
        numbers = [m[c] for c in cells]
        reasons.append(or_(*(func.typeof(c).not_in(("real", "integer", "null")) for c in numbers)))
    return (
        select(
            measurements,
            f.sop_instance_uid,
            f.pixel_sha256,
            f.region,
            patients.c.study_id,
            visits.c.kind.label("visit_kind"),
            visits.c.label.label("visit_label"),
            maybe_implausible.label("maybe_implausible"),
        )
        .select_from(angles)
        .join(measurements, m.id == a.id)
        .join(films, f.id == m.film_id)
        .join(visits, visits.c.id == f.visit_id)
        .join(patients, patients.c.id == visits.c.patient_id)
        .where(f.deleted_utc.is_(None), or_(*reasons))
        .order_by(patients.c.study_id, f.sop_instance_uid, m.created_utc, m.id)
    )


def _mismatches(conn: Connection) -> dict[int, int]:
    """Film id → live measurements whose template's region is not the live film's region."""
    m, f = measurements.c, films.c
    region = case(
        *((m.template == t, r.value) for t, r in _TEMPLATE_REGIONS.items()), else_="unknown"
    )
    query = (
        select(m.film_id, func.count())
        .join_from(measurements, films, f.id == m.film_id)
        .where(m.deleted_utc.is_(None), f.deleted_utc.is_(None),
               region.is_distinct_from(f.region))
        .group_by(m.film_id)
    )  # fmt: skip
    return {int(film): int(n) for film, n in conn.execute(query).all()}


def _calibrations(conn: Connection, film_ids: set[int]) -> dict[int, tuple[float, float]]:
    """Film id → its latest live user calibration, for the candidate films only."""
    if not film_ids:
        return {}
    found = current_calibrations(conn)
    return {k: v for k, v in found.items() if k in film_ids}


def _ensure_math(conn: Connection) -> None:
    """Give a SQLite built without math functions Python's ``sqrt``, ``atan2``, ``degrees``."""
    if conn.dialect.name != "sqlite":
        return
    try:
        conn.exec_driver_sql("SELECT atan2(1.0, 1.0), sqrt(2.0), degrees(1.0)").all()
        return
    except DBAPIError:
        conn.rollback()
    raw = conn.connection.driver_connection
    assert raw is not None
    for name, arity, fn in (("sqrt", 1, math.sqrt), ("atan2", 2, math.atan2),
                            ("degrees", 1, math.degrees)):  # fmt: skip
        raw.create_function(name, arity, _null_safe(fn), deterministic=True)


def _null_safe(fn: Callable[..., float]) -> Callable[..., float | None]:
    def call(*args: Any) -> float | None:
        try:
            return None if any(a is None for a in args) else fn(*args)
        except (TypeError, ValueError):
            return None

    return call


__all__ = ["FlagInputs", "flag_inputs"]
