"""User calibration of a film: a line over an object of known length (mixed into :class:`Study`).

A film without a usable spacing (a photo or scan of a film, an uncalibrated secondary capture)
— or one whose spacing is only the detector's — is calibrated by drawing a line over an object
of known size in the patient plane (a ruler, the diameter of a calibration ball) and typing its
length in mm.  The spacing is then

    k = length_mm / sqrt((dx · h)² + (dy · v)²),   spacing = (k · v, k · h)   [mm per pixel]

where ``(dx, dy)`` is the drawn line in pixels and ``(v, h)`` the pixel shape (vertical,
horizontal: Pixel Aspect Ratio (0028,0034), or the ratio of the film's own spacing; ``(1, 1)``
for square pixels).  With square pixels this is ``length_mm / length_px`` on both axes — the
fiducial calibration of PS3.3 C.7.6.3.1.7 (Pixel Spacing Calibration Type ``FIDUCIAL``).

Rules:

* One calibration per film is in force; recalibrating soft-deletes the previous one.
* Calibrating stores the provenance (kind, both points, length, resulting spacing, rater,
  time) and updates the spacing of the film's saved measurements to the new one (source
  ``"user calibration"``), so stored angles and lengths never go stale.  Everything is one
  audited transaction; replacing a calibration, or changing saved measurements whose spacing
  was another, needs a ``reason``.
* Impossible input is refused with :class:`ValidationError`: a length that is not a positive
  finite number, a line shorter than :data:`MIN_LINE_PX`, points outside the film, or a
  spacing outside :data:`~cobbdesk.core.dicom.spacing.PLAUSIBLE_MM`.
"""

from __future__ import annotations

import math
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection, Engine, select

from cobbdesk.core.dicom.film import Film, SpacingSource
from cobbdesk.core.dicom.spacing import PLAUSIBLE_MM, plausible
from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.geometry import Point
from cobbdesk.core.measure.measurement import CobbMeasurement, utc_now
from cobbdesk.core.pixel_shape import REL_TOL
from cobbdesk.core.pixel_shape import PixelFields as PixelFields  # noqa: PLC0414
from cobbdesk.core.pixel_shape import film_shape as film_shape  # noqa: PLC0414 (the rule)
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.clinical import measurement_from_row, measurement_row
from cobbdesk.core.store.schema import calibrations, films, measurements

#: Shortest calibration line accepted, in pixels: a click is about ±1 px, so a 20 px line is
#: already good to 10 %; shorter lines are almost certainly a slip.
MIN_LINE_PX = 20.0
KINDS = ("ruler", "ball", "marker", "other")

#: Relative tolerance under which two spacings are the same: the one every comparison uses
#: (:data:`cobbdesk.core.pixel_shape.REL_TOL`).
SAME_SPACING_REL_TOL = REL_TOL


def same_spacing(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool:
    """True when both ``(row_mm, col_mm)`` spacings are given and equal within
    :data:`SAME_SPACING_REL_TOL` on each axis."""
    if a is None or b is None:
        return False
    return all(math.isclose(x, y, rel_tol=SAME_SPACING_REL_TOL) for x, y in zip(a, b, strict=True))


def line_text(p1: Point, p2: Point, pixel_shape: tuple[float, float] | None = None) -> str:
    """How long the line ``p1``–``p2`` is, in words: ``"447.2 px"`` on square pixels; on
    non-square ones (``pixel_shape`` = (vertical, horizontal), or a ``(row_mm, col_mm)``
    spacing: the same ratio) a pixel count along a diagonal means nothing, so the line is
    given as the columns and rows it spans and the pixels' shape:
    ``"200.0 columns × 400.0 rows, pixels 1:2 high:wide"``.

    >>> line_text((0, 0), (200, 400), (0.2, 0.4))
    '200.0 columns × 400.0 rows, pixels 1:2 high:wide'
    """
    v, h = pixel_shape or (1.0, 1.0)
    if math.isclose(v, h, rel_tol=SAME_SPACING_REL_TOL):
        return f"{math.dist(p1, p2):.1f} px"
    small = min(v, h)
    return (
        f"{abs(p2[0] - p1[0]):.1f} columns × {abs(p2[1] - p1[1]):.1f} rows, "
        f"pixels {v / small:.4g}:{h / small:.4g} high:wide"
    )


@dataclass(frozen=True)
class Calibration:
    """A film's calibration in force: the drawn line, the known length and the spacing."""

    id: int
    film_id: int
    kind: str
    p1: Point
    p2: Point
    length_mm: float
    spacing_mm: tuple[float, float]
    """``(row_mm, col_mm)`` per pixel, DICOM Pixel Spacing order."""
    rater: str
    created_utc: str

    @property
    def source(self) -> SpacingSource:
        """Always :attr:`SpacingSource.USER`: the spacing comes from the user's line."""
        return SpacingSource.USER

    @property
    def length_px(self) -> float:
        """Euclidean length of the drawn line ``p1``–``p2`` in image pixels."""
        return math.dist(self.p1, self.p2)

    @property
    def description(self) -> str:
        """E.g. ``"ruler 100 mm over 714.3 px (ab, 2026-01-05)"``; on non-square pixels the
        line's columns, rows and the pixels' shape instead of a diagonal pixel count
        (:func:`line_text`: ``"… over 200.0 columns × 400.0 rows, pixels 1:2 high:wide …"``)."""
        who = ", ".join(p for p in (self.rater, self.created_utc[:10]) if p)
        line = line_text(self.p1, self.p2, self.spacing_mm)
        return f"{self.kind} {self.length_mm:g} mm over {line} ({who})"


def calibration_spacing(
    p1: Point, p2: Point, length_mm: float, pixel_shape: tuple[float, float] | None = None
) -> tuple[float, float]:
    """``(row_mm, col_mm)`` from a line ``p1``–``p2`` (px) of ``length_mm`` (module formula).

    >>> calibration_spacing((0, 0), (300, 400), 50.0)
    (0.1, 0.1)
    >>> calibration_spacing((0, 0), (0, 100), 20.0, pixel_shape=(2, 1))  # tall pixels
    (0.2, 0.1)

    Raises :class:`ValidationError` for a non-positive length or a line shorter than
    :data:`MIN_LINE_PX`, or a result outside ``PLAUSIBLE_MM``.
    """
    length = float(length_mm)
    if not (math.isfinite(length) and length > 0):
        raise ValidationError(
            None, f"calibration length must be a positive number of mm: {length_mm}"
        )
    length_px = math.dist(p1, p2)
    if not length_px >= MIN_LINE_PX:
        raise ValidationError(
            None,
            f"calibration line is {length_px:.1f} px long; draw it over at least "
            f"{MIN_LINE_PX:g} px of the object",
        )
    v, h = pixel_shape or (1.0, 1.0)
    if not (v > 0 and h > 0 and math.isfinite(v) and math.isfinite(h)):
        raise ValidationError(None, f"pixel shape must be two positive numbers: {pixel_shape}")
    scale = max(v, h)  # keep the shape's larger side at 1: pure ratio
    v, h = v / scale, h / scale
    k = length / math.hypot((p2[0] - p1[0]) * h, (p2[1] - p1[1]) * v)
    spacing = (round(k * v, 12), round(k * h, 12))
    if not plausible(spacing):
        low, high = PLAUSIBLE_MM
        raise ValidationError(
            None,
            f"{length:g} mm over {line_text(p1, p2, (v, h))} gives {spacing[0]:.4g} × "
            f"{spacing[1]:.4g} mm "
            f"per pixel, outside the physical range {low:g}–{high:g} mm: check the length",
        )
    return spacing


def apply_calibration(film: Film, calibration: Calibration) -> None:
    """Make ``film`` (in memory) use ``calibration``'s spacing, source ``"user calibration"``."""
    film.spacing_mm = calibration.spacing_mm
    film.spacing_source = SpacingSource.USER
    film.pixel_aspect = None
    film.spacing_calibration = calibration.description
    note = f"calibrated by the user: {calibration.description}"
    if note not in film.notices:
        film.notices.append(note)


class CalibrationRecords:
    """The store side of user calibration (see the module rules)."""

    engine: Engine
    actor: audit_log.Actor

    def transaction(self) -> AbstractContextManager[Connection]:  # provided by Study
        """One write transaction (implemented by :meth:`Study.transaction`)."""
        raise NotImplementedError

    def film_calibration(self, film_id: int) -> Calibration | None:
        """The calibration in force for ``film_id``, or None."""
        with self.engine.connect() as conn:
            row = _current(conn, film_id)
        return _calibration(row) if row is not None else None

    def calibrations(self) -> dict[int, Calibration]:
        """Every calibration in force, by film id."""
        query = select(calibrations).where(calibrations.c.deleted_utc.is_(None))
        with self.engine.connect() as conn:
            return {r["film_id"]: _calibration(r) for r in conn.execute(query).mappings()}

    def calibrate_film(
        self,
        film_id: int,
        p1: Point,
        p2: Point,
        length_mm: float,
        *,
        kind: str = "ruler",
        reason: str = "",
        pixel_shape: tuple[float, float] | None = None,
    ) -> tuple[float, float]:
        """Calibrate a film (module rules); returns its new ``(row_mm, col_mm)``.

        ``pixel_shape`` is ``(vertical, horizontal)`` (see :func:`film_shape`); by default the
        film row's stored Pixel Aspect Ratio, else square.  Raises :class:`ValidationError`.

        A line giving the spacing of the calibration in force (:func:`same_spacing`), on a
        film whose saved measurements all use it already, changes nothing: nothing is
        written (no reason asked, no audit row "0.2 × 0.4 mm → 0.2 × 0.4 mm") and the
        calibration in force stays, with its line; its spacing is returned.
        """
        if kind not in KINDS:
            raise ValidationError(
                None, f"calibration kind {kind!r} must be one of {', '.join(KINDS)}"
            )
        p1, p2 = _point(p1), _point(p2)
        with self.transaction() as conn:
            film = _film_row(conn, film_id)
            _check_inside(film, (p1, p2))
            shape = pixel_shape or _stored_shape(film)
            spacing = calibration_spacing(p1, p2, length_mm, shape)
            old = _current(conn, film_id)
            saved = _film_measurements(conn, film_id, film)
            if _unchanged(old, spacing, saved):
                return (old["spacing_row_mm"], old["spacing_col_mm"])
            stale = [
                m for m in saved if (m.spacing, m.spacing_source) != (spacing, SpacingSource.USER)
            ]
            changed_angle = [m for m in stale if m.spacing_source is not SpacingSource.NONE]
            if (old is not None or changed_angle) and not reason.strip():
                what = (
                    "replacing a calibration" if old is not None else "changing saved measurements"
                )
                raise ValidationError(None, f"{what} needs a reason")
            why = reason.strip() or "film calibrated"
            self._retire(conn, old, why)
            self._insert(
                conn, film_id, kind, points=(p1, p2), length_mm=float(length_mm),
                spacing=spacing, reason=why,
            )  # fmt: skip
            for m in stale:
                self._respace(conn, m, spacing, why)
        return spacing

    def _retire(self, conn: Connection, old: Any, reason: str) -> None:
        if old is None:
            return
        now = audit_log.utc_now()
        conn.execute(
            calibrations.update().where(calibrations.c.id == old["id"]).values(deleted_utc=now)
        )
        audit_log.record(
            conn, self.actor, "calibration", old["id"], {"deleted_utc": (None, now)}, reason=reason
        )

    def _insert(
        self,
        conn: Connection,
        film_id: int,
        kind: str,
        *,
        points: tuple[Point, Point],
        length_mm: float,
        spacing: tuple[float, float],
        reason: str,
    ) -> None:
        (x1, y1), (x2, y2) = points
        values = {
            "film_id": film_id, "kind": kind, "x1": x1, "y1": y1, "x2": x2, "y2": y2,
            "length_mm": length_mm, "spacing_row_mm": spacing[0], "spacing_col_mm": spacing[1],
            "rater": self.actor.rater, "created_utc": audit_log.utc_now(),
        }  # fmt: skip
        new_id = conn.execute(calibrations.insert().values(**values)).inserted_primary_key[0]  # type: ignore[index]
        shown = {k: (None, v) for k, v in values.items() if k not in ("rater", "created_utc")}
        audit_log.record(conn, self.actor, "calibration", new_id, shown, reason=reason)

    def _respace(
        self, conn: Connection, m: CobbMeasurement, spacing: tuple[float, float], reason: str
    ) -> None:
        """Give a saved measurement the new spacing (audited like any change to it)."""
        new = replace(
            m, spacing=spacing, spacing_source=SpacingSource.USER, pixel_aspect=None,
            updated_utc=utc_now(),
        )  # fmt: skip
        old_row, new_row = measurement_row(m), measurement_row(new)
        changes = {
            k: (old_row[k], v) for k, v in new_row.items() if k != "updated_utc" and old_row[k] != v
        }
        conn.execute(
            measurements.update()
            .where(measurements.c.id == m.id)
            .values(**new_row, version=measurements.c.version + 1)
        )
        audit_log.record(conn, self.actor, "measurement", m.id, changes, reason=reason)
        seen = getattr(self, "_seen_measurements", None)
        if seen is not None and m.id in seen:  # this study object's own change: no conflict
            seen[m.id] = {**seen[m.id], **{k: v for k, v in new_row.items() if k in seen[m.id]}}


def _unchanged(old: Any, spacing: tuple[float, float], saved: list[CobbMeasurement]) -> bool:
    """True when the calibration in force (``old`` row) already gives ``spacing`` and every
    saved measurement uses that user calibration's spacing."""
    if old is None or not same_spacing((old["spacing_row_mm"], old["spacing_col_mm"]), spacing):
        return False
    return all(
        m.spacing_source is SpacingSource.USER and same_spacing(m.spacing, spacing) for m in saved
    )


def _point(value: Any) -> Point:
    try:
        x, y = float(value[0]), float(value[1])
    except (TypeError, ValueError, IndexError) as exc:
        raise ValidationError(None, f"calibration point must be (x, y), got {value!r}") from exc
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValidationError(None, f"calibration point must be finite, got {value!r}")
    return (x, y)


def _film_row(conn: Connection, film_id: int) -> Any:
    row = conn.execute(select(films).where(films.c.id == film_id)).mappings().first()
    if row is None or row["deleted_utc"] is not None:
        raise ValidationError(None, f"no film {film_id} in this study")
    return row


def _stored_shape(film: Any) -> tuple[float, float] | None:
    row, col = film["pixel_aspect_row"], film["pixel_aspect_col"]
    return (float(row), float(col)) if row and col else None


def _check_inside(film: Any, points: tuple[Point, Point]) -> None:
    rows, columns = film["pixel_rows"], film["pixel_columns"]
    if not rows or not columns:
        return  # size unknown until the film is first opened
    for x, y in points:
        if not (-0.5 <= x <= columns - 0.5 and -0.5 <= y <= rows - 0.5):
            raise ValidationError(
                None,
                f"calibration point ({x:g}, {y:g}) is outside the film ({columns} × {rows} px)",
            )


def _current(conn: Connection, film_id: int) -> Any:
    query = select(calibrations).where(
        calibrations.c.film_id == film_id, calibrations.c.deleted_utc.is_(None)
    )
    return conn.execute(query.order_by(calibrations.c.id.desc())).mappings().first()


def _film_measurements(conn: Connection, film_id: int, film: Any) -> list[CobbMeasurement]:
    query = select(measurements).where(
        measurements.c.film_id == film_id, measurements.c.deleted_utc.is_(None)
    )
    rows = conn.execute(query).mappings()
    return [measurement_from_row(r, film["sop_instance_uid"], film["pixel_sha256"]) for r in rows]


def _calibration(row: Any) -> Calibration:
    return Calibration(
        id=int(row["id"]),
        film_id=int(row["film_id"]),
        kind=row["kind"],
        p1=(row["x1"], row["y1"]),
        p2=(row["x2"], row["y2"]),
        length_mm=row["length_mm"],
        spacing_mm=(row["spacing_row_mm"], row["spacing_col_mm"]),
        rater=row["rater"],
        created_utc=row["created_utc"],
    )
