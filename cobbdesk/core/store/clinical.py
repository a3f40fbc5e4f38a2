"""Measurements, lab values and the study overview (mixed into :class:`Study`).

The viewer's :class:`~cobbdesk.core.measure.measurement.CobbMeasurement` is stored unchanged:
its four points, spacing and source, rater, template, algorithm version and times.
Changing or deleting
a saved angle or a lab value needs a reason; deletions are soft and audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import Connection, Engine, select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.labs import LAB_SPECS, nlr, plausibility_warning, validate_lab
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.schema import films, labs, measurements

_POINTS = [
    f"{line}_{end}_{axis}"
    for line in ("upper", "lower")
    for end in ("anterior", "posterior")
    for axis in ("x", "y")
]


def measurement_row(m: CobbMeasurement) -> dict[str, Any]:
    """The database columns of a measurement (angle cached from the points)."""
    points = [c for line in (m.upper, m.lower) for p in (line.anterior, line.posterior) for c in p]
    row: dict[str, Any] = dict(zip(_POINTS, (float(c) for c in points), strict=True))
    spacing = m.spacing or (None, None)
    row.update(
        id=m.id,
        rater=m.rater,
        template=m.template.value,
        spacing_row_mm=spacing[0],
        spacing_col_mm=spacing[1],
        spacing_source=str(m.spacing_source),
        angle_deg=m.angle,
        algorithm_version=m.algorithm_version,
        created_utc=m.created_utc,
        updated_utc=m.updated_utc,
        upper_snapped=int(m.upper_snapped),
        lower_snapped=int(m.lower_snapped),
        pixel_aspect_row=m.pixel_aspect[0] if m.pixel_aspect else None,
        pixel_aspect_col=m.pixel_aspect[1] if m.pixel_aspect else None,
    )
    return row


def measurement_from_row(row: Any, sop: str, sha: str | None) -> CobbMeasurement:
    p = [row[c] for c in _POINTS]
    spacing = (row["spacing_row_mm"], row["spacing_col_mm"]) if row["spacing_row_mm"] else None
    return CobbMeasurement.from_dict(
        {
            "id": row["id"],
            "sop_instance_uid": sop,
            "pixel_sha256": sha or "",
            "template": row["template"],
            "rater": row["rater"],
            "upper": {"anterior": p[0:2], "posterior": p[2:4]},
            "lower": {"anterior": p[4:6], "posterior": p[6:8]},
            "spacing": spacing,
            "spacing_source": row["spacing_source"],
            "algorithm_version": row["algorithm_version"],
            "created_utc": row["created_utc"],
            "updated_utc": row["updated_utc"],
            "pixel_aspect": (
                (row["pixel_aspect_row"], row["pixel_aspect_col"])
                if row["pixel_aspect_row"]
                else None
            ),
            "upper_snapped": bool(row["upper_snapped"]),
            "lower_snapped": bool(row["lower_snapped"]),
        }
    )


class ClinicalRecords:
    engine: Engine
    actor: audit_log.Actor

    def transaction(self) -> AbstractContextManager[Connection]:  # provided by Study
        raise NotImplementedError

    # --- measurements -----------------------------------------------------------------
    def save_measurement(self, film_id: int, m: CobbMeasurement, reason: str = "") -> None:
        """Insert a new measurement, or update a saved one (which needs a ``reason``)."""
        new = measurement_row(m)
        with self.transaction() as conn:
            old = (
                conn.execute(select(measurements).where(measurements.c.id == m.id))
                .mappings()
                .first()
            )
            if old is None:
                conn.execute(measurements.insert().values(film_id=film_id, **new))
                audit_log.record(
                    conn,
                    self.actor,
                    "measurement",
                    m.id,
                    {"angle_deg": (None, round(m.angle, 4))},
                    reason=reason,
                )
                return
            changes = {k: (old[k], v) for k, v in new.items() if k != "updated_utc" and old[k] != v}
            if not changes:
                return
            if not reason.strip():
                raise ValidationError(None, "changing a saved measurement needs a reason")
            conn.execute(measurements.update().where(measurements.c.id == m.id).values(**new))
            audit_log.record(conn, self.actor, "measurement", m.id, changes, reason=reason)

    def delete_measurement(self, measurement_id: str, reason: str) -> None:
        if not reason.strip():
            raise ValidationError(None, "deleting a saved measurement needs a reason")
        now = audit_log.utc_now()
        with self.transaction() as conn:
            conn.execute(
                measurements.update()
                .where(measurements.c.id == measurement_id)
                .values(deleted_utc=now)
            )
            audit_log.record(
                conn,
                self.actor,
                "measurement",
                measurement_id,
                {"deleted_utc": (None, now)},
                reason=reason,
            )

    def restore_measurement(self, film_id: int, m: CobbMeasurement, reason: str) -> None:
        """Undo the soft deletion of ``m`` (e.g. Redo/Undo in a viewer), storing its points.

        Needs a reason like any change to a saved angle; a measurement never stored is
        inserted.  One audited transaction.
        """
        if not reason.strip():
            raise ValidationError(None, "restoring a deleted measurement needs a reason")
        with self.transaction() as conn:
            found = conn.execute(
                select(measurements.c.deleted_utc).where(measurements.c.id == m.id)
            )
            row = found.first()
            if row is None:
                conn.execute(measurements.insert().values(film_id=film_id, **measurement_row(m)))
                changes: dict[str, tuple[object, object]] = {"angle_deg": (None, round(m.angle, 4))}
            else:
                values = {**measurement_row(m), "deleted_utc": None}
                conn.execute(
                    measurements.update().where(measurements.c.id == m.id).values(**values)
                )
                changes = {"deleted_utc": (row[0], None)}
            audit_log.record(conn, self.actor, "measurement", m.id, changes, reason=reason)

    def measurements(self, film_id: int | None = None) -> list[CobbMeasurement]:
        query = (
            select(measurements, films.c.sop_instance_uid, films.c.pixel_sha256)
            .join(films, films.c.id == measurements.c.film_id)
            .where(measurements.c.deleted_utc.is_(None))
            .order_by(measurements.c.created_utc)
        )
        if film_id is not None:
            query = query.where(measurements.c.film_id == film_id)
        with self.engine.connect() as conn:
            return [
                measurement_from_row(r, r["sop_instance_uid"], r["pixel_sha256"])
                for r in conn.execute(query).mappings()
            ]

    # --- labs -------------------------------------------------------------------------
    def set_labs(self, visit_id: int, values: Mapping[str, Any], reason: str = "") -> list[str]:
        """Validate every value first, then write them in one transaction; returns warnings.

        Changing or clearing a value that was already saved needs a ``reason``.
        """
        clean = {name: validate_lab(name, value) for name, value in values.items()}
        warnings = [w for n, v in clean.items() if (w := plausibility_warning(n, v))]
        with self.transaction() as conn:
            current = self._labs(conn, visit_id)
            changes = {n: (current.get(n), v) for n, v in clean.items() if current.get(n) != v}
            edits = [n for n, (old, _) in changes.items() if old is not None]
            if edits and not reason.strip():
                raise ValidationError(
                    None, f"changing saved lab value(s) {', '.join(edits)} needs a reason"
                )
            for name, (_, value) in changes.items():
                self._write_lab(conn, visit_id, name, value)
            if changes:
                audit_log.record(conn, self.actor, "labs", visit_id, changes, reason=reason)
        return warnings

    @staticmethod
    def _labs(conn: Connection, visit_id: int) -> dict[str, float | str | None]:
        rows = conn.execute(
            select(labs).where(labs.c.visit_id == visit_id, labs.c.deleted_utc.is_(None))
        )
        return {r.name: (r.value_num if r.value_num is not None else r.value_text) for r in rows}

    @staticmethod
    def _write_lab(conn: Connection, visit_id: int, name: str, value: float | str | None) -> None:
        now = audit_log.utc_now()
        number = value if isinstance(value, float) else None
        text = value if isinstance(value, str) else None
        fields = {
            "value_num": number,
            "value_text": text,
            "updated_utc": now,
            "unit": LAB_SPECS[name].unit,
            "deleted_utc": now if value is None else None,
        }
        where = (labs.c.visit_id == visit_id) & (labs.c.name == name)
        if conn.execute(select(labs.c.id).where(where)).first():
            conn.execute(labs.update().where(where).values(**fields))
        else:
            conn.execute(labs.insert().values(visit_id=visit_id, name=name, **fields))

    def labs(self, visit_id: int) -> dict[str, float | str | None]:
        """Saved lab values of a visit plus the derived ``nlr``."""
        with self.engine.connect() as conn:
            values = self._labs(conn, visit_id)
        n, ly = values.get("neutrophil"), values.get("lymphocyte")
        values["nlr"] = nlr(
            n if isinstance(n, float) else None, ly if isinstance(ly, float) else None
        )
        return values


__all__ = ["ClinicalRecords", "measurement_from_row", "measurement_row"]
