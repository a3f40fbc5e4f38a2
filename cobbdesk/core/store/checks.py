"""Consistency checks of saved measurements (mixed into :class:`~cobbdesk.core.store.Study`).

``measurements.angle_deg`` is only a cache: the four stored points are the truth and the angle
is recomputed from them with :func:`cobbdesk.core.measure.geometry.cobb_angle` (spacing: the
stored mm spacing, else the stored pixel aspect ratio, else square pixels — as
:attr:`CobbMeasurement.angle_spacing`).  A measurement is **stale** when

* ``angle``: its stored angle differs from the recomputation by more than
  :data:`ANGLE_TOLERANCE_DEG` (a cache edited or written by other code);
* ``algorithm``: it was stored by another angle algorithm than
  :data:`~cobbdesk.core.measure.measurement.ALGORITHM_VERSION`;
* ``spacing``: the film has a user calibration (latest non-deleted ``calibrations`` row) and
  the measurement's stored mm spacing is not that calibration (or it has none).

A measurement's template must match its film's region (C2–C7 on cervical films, L1–S1 on
lumbar films, see :func:`~cobbdesk.core.store.records.template_region`); other measurements
are **region mismatches** and are never exported as the film region's angle.

Reports name the patient by the pseudonymous study ID only, the film by SOP Instance UID and
the measurement by its id: never a name, MRN or birth date.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine, Select, select

from cobbdesk.core.errors import GeometryError
from cobbdesk.core.measure.geometry import cobb_angle
from cobbdesk.core.measure.measurement import ALGORITHM_VERSION
from cobbdesk.core.store.ordering import by_study_id
from cobbdesk.core.store.records import template_region
from cobbdesk.core.store.schema import calibrations, films, measurements, patients, visits

FloatArray = npt.NDArray[np.float64]
ANGLE_TOLERANCE_DEG = 1e-6
"""Largest difference between a stored angle and its recomputation that is not reported."""
SPACING_RELATIVE_TOLERANCE = 1e-9
POINT_COLUMNS = tuple(
    f"{line}_{end}_{axis}"
    for line in ("upper", "lower")
    for end in ("anterior", "posterior")
    for axis in ("x", "y")
)
"""The stored point columns in the order ``upper anterior, upper posterior, lower …`` (x, y)."""


def as_float(value: Any) -> float:
    """``value`` as a float; NaN for NULL or anything that is not a number (a cell edited to
    text outside CobbDesk must be reported as stale, never crash a check or an export)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _number(value: Any) -> float | None:
    """A positive finite float, else None (SQL NULL, NaN and 0 all mean 'not stored')."""
    number = as_float(value)
    return number if math.isfinite(number) and number > 0 else None


def angle_spacing(
    spacing_row: Any, spacing_col: Any, aspect_row: Any = None, aspect_col: Any = None
) -> tuple[float, float] | None:
    """The ``(row, col)`` scale the angle is computed with: mm spacing, else pixel aspect."""
    row, col = _number(spacing_row), _number(spacing_col)
    if row is not None and col is not None:
        return (row, col)
    row, col = _number(aspect_row), _number(aspect_col)
    if row is not None and col is not None and row != col:
        return (row, col)
    return None


def recompute_angle(points: Sequence[float], scale: tuple[float, float] | None) -> float:
    """Signed Cobb angle (degrees) from the 8 stored coordinates (:data:`POINT_COLUMNS` order).

    NaN when the points no longer define two lines (zero length, non-finite).
    """
    p = [as_float(v) for v in points]
    try:
        return cobb_angle(((p[0], p[1]), (p[2], p[3])), ((p[4], p[5]), (p[6], p[7])), scale)
    except GeometryError:
        return math.nan


def recompute_angles(points: FloatArray, scales: FloatArray) -> FloatArray:
    """:func:`recompute_angle` for many measurements at once (numpy; the export's path).

    ``points`` is ``(n, 8)`` in :data:`POINT_COLUMNS` order; ``scales`` is ``(n, 2)``
    ``(row, col)`` from :func:`angle_spacing` with NaN for square pixels.  The same
    construction as :func:`cobbdesk.core.measure.geometry.cobb_angle`, step by step (mm
    vectors, unit directions, the lower-side normal, the convergence sign, atan2 of |cross| and
    dot); NaN where a line has zero length or a non-finite coordinate.  Agrees with
    ``cobb_angle`` to ~1e-12° (tested on random pairs).
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 4, 2)
    scale = np.asarray(scales, dtype=np.float64).reshape(-1, 2)
    scale = np.where(np.isnan(scale), 1.0, scale)
    mm = pts * scale[:, None, ::-1]  # x·col_mm, y·row_mm
    u_vec, v_vec = mm[:, 1] - mm[:, 0], mm[:, 3] - mm[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        u = u_vec / np.hypot(u_vec[:, 0], u_vec[:, 1])[:, None]
        v = v_vec / np.hypot(v_vec[:, 0], v_vec[:, 1])[:, None]
        mean = u + v
        opposite = np.hypot(mean[:, 0], mean[:, 1]) < 1e-9
        mean[opposite] = (u - v)[opposite]
        d = mean / np.hypot(mean[:, 0], mean[:, 1])[:, None]
    normal = np.stack([-d[:, 1], d[:, 0]], axis=1)
    offset = np.einsum("ij,ij->i", normal, (mm[:, 2] + mm[:, 3]) / 2 - (mm[:, 0] + mm[:, 1]) / 2)
    normal[offset < 0] *= -1
    closing = np.einsum("ij,ij->i", normal, u - v)
    sign = np.where(np.abs(closing) < 1e-12, 0.0, np.sign(closing))
    cross = u_vec[:, 0] * v_vec[:, 1] - u_vec[:, 1] * v_vec[:, 0]
    dot = np.einsum("ij,ij->i", u_vec, v_vec)
    angle = np.where(sign == 0, 0.0, sign * np.degrees(np.arctan2(np.abs(cross), dot)))
    finite = np.isfinite(pts).all(axis=(1, 2))
    zero = (pts[:, 0] == pts[:, 1]).all(axis=1) | (pts[:, 2] == pts[:, 3]).all(axis=1)
    return np.where(finite & ~zero, angle, np.nan)


def _same_spacing(stored: tuple[float, float] | None, calibration: tuple[float, float]) -> bool:
    if stored is None:
        return False
    return all(
        math.isclose(a, b, rel_tol=SPACING_RELATIVE_TOLERANCE)
        for a, b in zip(stored, calibration, strict=True)
    )


def stale_reasons(
    stored_deg: float,
    recomputed_deg: float,
    algorithm_version: str,
    spacing: tuple[float, float] | None,
    calibration: tuple[float, float] | None,
) -> tuple[str, ...]:
    """The codes (``angle``, ``algorithm``, ``spacing``) that make a measurement stale."""
    reasons = []
    if not abs(as_float(stored_deg) - recomputed_deg) <= ANGLE_TOLERANCE_DEG:  # NaN too
        reasons.append("angle")
    if algorithm_version != ALGORITHM_VERSION:
        reasons.append("algorithm")
    if calibration is not None and not _same_spacing(spacing, calibration):
        reasons.append("spacing")
    return tuple(reasons)


def current_calibrations(conn: Connection) -> dict[int, tuple[float, float]]:
    """Film id → ``(row_mm, col_mm)`` of its latest non-deleted user calibration."""
    c = calibrations.c
    query = (
        select(c.film_id, c.spacing_row_mm, c.spacing_col_mm)
        .where(c.deleted_utc.is_(None))
        .order_by(c.created_utc, c.id)
    )
    return {int(f): (float(r), float(col)) for f, r, col in conn.execute(query).all()}


@dataclass(frozen=True)
class AngleDiscrepancy:
    """A saved measurement whose stored angle cannot be trusted as is (see module rules)."""

    study_id: str
    sop_instance_uid: str
    measurement_id: str
    film_id: int
    template: str
    stored_deg: float
    recomputed_deg: float
    algorithm_version: str
    spacing: tuple[float, float] | None
    calibration: tuple[float, float] | None
    problems: tuple[str, ...]

    def describe(self) -> str:
        """One line without patient identifiers."""
        parts = []
        if "angle" in self.problems:
            parts.append(
                f"stored angle {self.stored_deg:+.4f}° but its points give "
                f"{self.recomputed_deg:+.4f}°"
            )
        if "algorithm" in self.problems:
            parts.append(f"algorithm {self.algorithm_version} (current {ALGORITHM_VERSION})")
        if "spacing" in self.problems:
            stored = "none" if self.spacing is None else "×".join(f"{v:g}" for v in self.spacing)
            calibrated = "×".join(f"{v:g}" for v in self.calibration or ())
            parts.append(f"spacing {stored} mm but the film is calibrated to {calibrated} mm")
        return (
            f"{self.study_id} film {self.sop_instance_uid} measurement {self.measurement_id} "
            f"({self.template}): {'; '.join(parts)}"
        )


@dataclass(frozen=True)
class RegionMismatch:
    """A measurement whose template does not match its film's region."""

    study_id: str
    sop_instance_uid: str
    measurement_id: str
    film_id: int
    template: str
    film_region: str
    rater: str

    def describe(self) -> str:
        """One line without patient identifiers."""
        return (
            f"{self.study_id} film {self.sop_instance_uid} measurement {self.measurement_id}: "
            f"{self.template} measurement on a film whose region is {self.film_region}; "
            "not exported as a region angle (change the film's region or re-measure)"
        )


def live_measurement_query(*columns: Any) -> Select[Any]:
    """``SELECT columns`` over every live measurement of a live film (neither soft-deleted),
    joined to its film, visit and patient so that their columns may be chosen; the caller
    adds its order.  The one definition of the measurements the study checks look at
    (:class:`StudyChecks` and :mod:`~cobbdesk.core.store.geometry_checks`)."""
    m, f = measurements.c, films.c
    return (
        select(*columns)
        .join_from(measurements, films, f.id == m.film_id)
        .join(visits, visits.c.id == f.visit_id)
        .join(patients, patients.c.id == visits.c.patient_id)
        .where(m.deleted_utc.is_(None), f.deleted_utc.is_(None))
    )


def _live_measurements(conn: Connection) -> list[Mapping[str, Any]]:
    m, f = measurements.c, films.c
    query = live_measurement_query(
        measurements,
        f.sop_instance_uid,
        f.region,
        patients.c.study_id,
        visits.c.kind.label("visit_kind"),
        visits.c.label.label("visit_label"),
    ).order_by(patients.c.study_id, f.sop_instance_uid, m.created_utc, m.id)
    found = [dict(row) for row in conn.execute(query).mappings()]
    return by_study_id(found, lambda row: str(row["study_id"]))  # natural study-ID order


def _discrepancy(
    row: Mapping[str, Any], calibration: tuple[float, float] | None
) -> AngleDiscrepancy | None:
    spacing = angle_spacing(row["spacing_row_mm"], row["spacing_col_mm"])
    scale = angle_spacing(
        row["spacing_row_mm"], row["spacing_col_mm"], row["pixel_aspect_row"],
        row["pixel_aspect_col"],
    )  # fmt: skip
    recomputed = recompute_angle([row[c] for c in POINT_COLUMNS], scale)
    problems = stale_reasons(
        row["angle_deg"], recomputed, row["algorithm_version"], spacing, calibration
    )
    if not problems:
        return None
    return AngleDiscrepancy(
        str(row["study_id"]), str(row["sop_instance_uid"]), str(row["id"]), int(row["film_id"]),
        str(row["template"]), as_float(row["angle_deg"]), recomputed,
        str(row["algorithm_version"]), spacing, calibration, problems,
    )  # fmt: skip


def _mismatch(r: Mapping[str, Any]) -> RegionMismatch:
    return RegionMismatch(
        str(r["study_id"]), str(r["sop_instance_uid"]), str(r["id"]), int(r["film_id"]),
        str(r["template"]), str(r["region"]), str(r["rater"]),
    )  # fmt: skip


@dataclass(frozen=True)
class RegionDuplicate:
    """A visit with more than one measured film of one region: only one angle is exported."""

    study_id: str
    visit: str
    region: str
    sop_instance_uids: tuple[str, ...]

    def describe(self) -> str:
        """One line without patient identifiers."""
        return (
            f"{self.study_id} {self.visit}: {len(self.sop_instance_uids)} measured "
            f"{self.region} films ({', '.join(self.sop_instance_uids)}); the export keeps each "
            "rater's most recent measurement of them: move or delete the extra film"
        )


def _duplicates(rows: list[Mapping[str, Any]]) -> list[RegionDuplicate]:
    measured: dict[tuple[str, str, str], dict[str, None]] = {}
    for r in rows:
        region = template_region(r["template"]).value
        if region == r["region"] and region in ("cervical", "lumbar"):
            visit = " ".join(str(v) for v in (r["visit_kind"], r["visit_label"]) if v)
            key = (str(r["study_id"]), visit, region)
            measured.setdefault(key, {})[str(r["sop_instance_uid"])] = None
    return [
        RegionDuplicate(*key, tuple(films))
        for key, films in sorted(measured.items())
        if len(films) > 1
    ]


class StudyChecks:
    """Measurement checks; needs ``engine`` from ``Study``."""

    engine: Engine

    def angle_discrepancies(self) -> list[AngleDiscrepancy]:
        """Every live measurement whose stored angle is stale (see the module rules).

        Ordered by study ID, SOP Instance UID and creation time.
        """
        with self.engine.connect() as conn:
            rows = _live_measurements(conn)
            calibrated = current_calibrations(conn)
        found = (_discrepancy(row, calibrated.get(int(row["film_id"]))) for row in rows)
        return [d for d in found if d is not None]

    def region_duplicates(self) -> list[RegionDuplicate]:
        """Visits with two or more films of one region that both carry a matching measurement."""
        with self.engine.connect() as conn:
            return _duplicates(_live_measurements(conn))

    def region_mismatches(self) -> list[RegionMismatch]:
        """Every live measurement whose template does not match its film's region."""
        with self.engine.connect() as conn:
            rows = _live_measurements(conn)
        return [_mismatch(r) for r in rows if template_region(r["template"]).value != r["region"]]


__all__ = [
    "ANGLE_TOLERANCE_DEG",
    "POINT_COLUMNS",
    "AngleDiscrepancy",
    "RegionDuplicate",
    "RegionMismatch",
    "StudyChecks",
    "angle_spacing",
    "current_calibrations",
    "live_measurement_query",
    "recompute_angle",
    "recompute_angles",
    "stale_reasons",
]
