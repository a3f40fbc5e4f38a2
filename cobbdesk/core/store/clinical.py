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
from cobbdesk.core.store.conflicts import (
    FieldConflict,
    conflict,
    field_conflicts,
    versioned_update,
)
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.measurement_rows import COMPARED as _COMPARED
from cobbdesk.core.store.measurement_rows import (
    Baseline,
    measurement_from_row,
    measurement_row,
    shown_state,
)
from cobbdesk.core.store.measurement_rows import row_state as _state
from cobbdesk.core.store.schema import films, labs, measurements


class ClinicalRecords:
    """Measurements and labs; ``_seen_measurements`` keeps each measurement as this study object
    last read or wrote it (the baseline of the conflict check when a caller gives none).

    A window passes its own baseline table (``seen``: measurement id → the stored columns it
    showed, :func:`shown_state`) so that two windows of one app on one study check their
    writes against what *each* showed, not against the last write of the other (#15)."""

    engine: Engine
    actor: audit_log.Actor
    _seen_measurements: dict[str, dict[str, Any]]
    _rater_role_bound: bool | None = None  # on a server: is the role a cobbdesk_rater member

    def transaction(self) -> AbstractContextManager[Connection]:  # provided by Study
        """One write transaction (implemented by :meth:`Study.transaction`)."""
        raise NotImplementedError

    # --- measurements -----------------------------------------------------------------
    def rater_role_bound(self) -> bool:
        """True on a server when the role is a member of ``cobbdesk_rater`` (it then saves
        only as itself, :meth:`check_rater`); one query, remembered (call it off the UI
        thread first).  False on a file."""
        if getattr(self, "server", None) is None:
            return False
        if self._rater_role_bound is None:
            from cobbdesk.core.store import pg_dialect

            with self.engine.connect() as conn:
                self._rater_role_bound = pg_dialect.is_rater_role(conn)
        return self._rater_role_bound

    def check_rater(self, rater: str) -> None:
        """On a server, a rater role (a member of ``cobbdesk_rater``) saves measurements,
        readings and skips only as itself: ValidationError (one line, naming the role and the
        rater given) before anything is written; the server's trigger enforces the same
        (:func:`cobbdesk.core.store.pg_dialect.create_rater_role`).  The administrator, and
        every user of a file, may enter any rater's name."""
        if getattr(self, "server", None) is None or rater == self.actor.user:
            return
        if self.rater_role_bound():
            raise ValidationError(None, f"database role {self.actor.user} may save only its "
                                  f"own readings, not rater {rater!r}")  # fmt: skip

    def _table(self, seen: Baseline | None) -> Baseline:
        """The baseline table of a write: the caller's (a window's) or this study object's."""
        return self._seen_measurements if seen is None else seen

    def _baseline(
        self, m_id: str, expected: CobbMeasurement | None, seen: Baseline | None = None
    ) -> dict[str, Any] | None:
        if expected is not None:
            return {**_state(measurement_row(expected)), "deleted_utc": None}
        found = self._table(seen).get(m_id)
        return dict(found) if found is not None else None

    def _check_measurement(
        self,
        old: Mapping[str, Any],
        wanted: Mapping[str, Any],
        baseline: dict[str, Any] | None,
        seen: Baseline | None = None,
    ) -> None:
        """ConflictError when someone else changed the stored measurement since ``baseline``
        (a column the baseline does not hold, e.g. the cached angle of :func:`shown_state`,
        is not compared)."""
        if baseline is None:
            return
        stored = _state(old)
        theirs = [k for k in _COMPARED if k in baseline and stored[k] != baseline[k]]
        if not theirs:
            return
        if all(stored[k] == v for k, v in wanted.items() if k in _COMPARED):
            self._table(seen)[str(old["id"])] = stored  # they made the very same change
            return
        mine = {k: wanted.get(k, baseline.get(k)) for k in theirs}
        raise conflict(
            "measurement", old["id"],
            [FieldConflict(k, baseline.get(k), stored[k], mine[k]) for k in theirs],
        )  # fmt: skip

    def _write_measurement(
        self,
        conn: Connection,
        old: Mapping[str, Any],
        values: dict[str, Any],
        reason: str,
        seen: Baseline | None = None,
    ) -> None:
        changes = {k: (old[k], v) for k, v in values.items() if k != "updated_utc" and old[k] != v}
        if not changes:
            return
        self.check_rater(str(old["rater"]))  # another rater's measurement stays theirs
        written = {k: v for k, v in values.items() if old[k] != v}
        versioned_update(
            conn, measurements, measurements.c.id == old["id"], int(old["version"]), written,
            entity="measurement", entity_id=old["id"],
        )  # fmt: skip
        audit_log.record(conn, self.actor, "measurement", old["id"], changes, reason=reason)
        self._table(seen)[str(old["id"])] = _state({**old, **values})

    def _insert_measurement(
        self,
        conn: Connection,
        film_id: int,
        m: CobbMeasurement,
        reason: str,
        seen: Baseline | None = None,
    ) -> None:
        row = {**measurement_row(m), "film_id": film_id}
        conn.execute(measurements.insert().values(**row))
        audit_log.record(conn, self.actor, "measurement", m.id, inserted("measurement", row),
                         reason=reason)  # fmt: skip
        self._table(seen)[m.id] = _state(row)

    @staticmethod
    def _stored(conn: Connection, m_id: str) -> Mapping[str, Any] | None:
        query = select(measurements).where(measurements.c.id == m_id)
        row = conn.execute(query).mappings().first()
        return dict(row) if row is not None else None

    def save_measurement(
        self,
        film_id: int,
        m: CobbMeasurement,
        reason: str = "",
        *,
        expected: CobbMeasurement | None = None,
        seen: Baseline | None = None,
    ) -> None:
        """Insert a new measurement, or update a saved one (which needs a ``reason``).

        ``expected`` is the measurement as the caller last saw it; by default the entry of
        ``seen`` (a window's baseline table, moved by this write), else the one this study
        object last read (:meth:`measurements`) or wrote.  When someone else changed the
        stored one since, :class:`ConflictError` names the fields (nothing is written).
        ValidationError when ``m``'s id is a measurement of another film: a measurement never
        moves (a CSV row or an SR naming film 1 with film 5's measurement id rewrote film 5's
        angle with film 1's points).
        """
        new = measurement_row(m)
        self.check_rater(m.rater)
        with self.transaction() as conn:
            old = self._stored(conn, m.id)
            if old is None:
                self._insert_measurement(conn, film_id, m, reason, seen)
                return
            if old["film_id"] != film_id:  # an id never moves a measurement to another film
                raise ValidationError(None, f"measurement {m.id} is film #{old['film_id']}'s, "
                                      f"not film #{film_id}'s; nothing was changed (give a new "
                                      "id, or none, to add a measurement)")  # fmt: skip
            self._check_measurement(old, new, self._baseline(m.id, expected, seen), seen)
            if all(old[k] == v for k, v in new.items() if k != "updated_utc"):
                self._table(seen)[m.id] = _state(old)
                return
            if not reason.strip():
                raise ValidationError(None, "changing a saved measurement needs a reason")
            self._write_measurement(conn, old, new, reason, seen)

    def delete_measurement(
        self,
        measurement_id: str,
        reason: str,
        *,
        expected: CobbMeasurement | None = None,
        seen: Baseline | None = None,
    ) -> None:
        """Soft-delete a measurement (a reason is needed); ConflictError as :meth:`save_measurement`
        when someone else changed it since; deleting an already deleted one does nothing."""
        if not reason.strip():
            raise ValidationError(None, "deleting a saved measurement needs a reason")
        with self.transaction() as conn:
            old = self._stored(conn, measurement_id)
            if old is None or old["deleted_utc"] is not None:
                return
            now = audit_log.utc_now()
            self._check_measurement(
                old, {"deleted_utc": now}, self._baseline(measurement_id, expected, seen), seen
            )
            self._write_measurement(conn, old, {"deleted_utc": now}, reason, seen)

    def restore_measurement(
        self,
        film_id: int,
        m: CobbMeasurement,
        reason: str,
        *,
        expected: CobbMeasurement | None = None,
        seen: Baseline | None = None,
    ) -> None:
        """Undo the soft deletion of ``m`` (e.g. Redo/Undo in a viewer), storing its points.

        Needs a reason like any change to a saved angle; a measurement never stored is
        inserted.  One audited transaction; ConflictError when someone else changed the
        stored measurement since this study object (or ``expected``) saw it.
        """
        if not reason.strip():
            raise ValidationError(None, "restoring a deleted measurement needs a reason")
        with self.transaction() as conn:
            old = self._stored(conn, m.id)
            if old is None:
                self._insert_measurement(conn, film_id, m, reason, seen)
                return
            values = {**measurement_row(m), "deleted_utc": None}
            baseline = self._baseline(m.id, expected, seen)
            if expected is not None and baseline is not None:  # it was deleted to be restored
                baseline["deleted_utc"] = old["deleted_utc"]
            self._check_measurement(old, values, baseline, seen)
            self._write_measurement(conn, old, values, reason, seen)

    def reread_measurement(
        self, measurement_id: str, *, seen: Baseline | None = None
    ) -> CobbMeasurement | None:
        """The stored measurement (None when deleted or unknown); what is read becomes the
        baseline of the next write of it through ``seen`` (default: this study object's
        table; see :meth:`save_measurement`)."""
        query = (
            select(measurements, films.c.sop_instance_uid, films.c.pixel_sha256)
            .join(films, films.c.id == measurements.c.film_id)
            .where(measurements.c.id == measurement_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        self._table(seen)[measurement_id] = _state(dict(row))
        if row["deleted_utc"] is not None:
            return None
        return measurement_from_row(row, row["sop_instance_uid"], row["pixel_sha256"])

    def measurements(
        self, film_id: int | None = None, *, seen: Baseline | None = None
    ) -> list[CobbMeasurement]:
        """The measurements not deleted (of ``film_id``, or all), oldest first.

        What is read becomes the baseline of the conflict check (:meth:`save_measurement`)
        in ``seen`` (default: this study object's table).  Raises :class:`ValidationError`
        for an impossible stored row.
        """
        query = (
            select(measurements, films.c.sop_instance_uid, films.c.pixel_sha256)
            .join(films, films.c.id == measurements.c.film_id)
            .where(measurements.c.deleted_utc.is_(None))
            .order_by(measurements.c.created_utc)
        )
        if film_id is not None:
            query = query.where(measurements.c.film_id == film_id)
        with self.engine.connect() as conn:
            rows = list(conn.execute(query).mappings())
        self._table(seen).update((str(r["id"]), _state(dict(r))) for r in rows)
        return [measurement_from_row(r, r["sop_instance_uid"], r["pixel_sha256"]) for r in rows]

    # --- labs -------------------------------------------------------------------------
    def set_labs(
        self,
        visit_id: int,
        values: Mapping[str, Any],
        reason: str = "",
        *,
        expected: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Validate every value first, then write the changed ones in one transaction.

        Returns the plausibility warnings.  Only values that differ from the stored ones are
        written.  Changing or clearing a value that was already saved needs a ``reason``.
        ``expected`` maps lab names to the values the caller saw (e.g. when its form opened):
        a lab stored differently now — changed by someone else — raises
        :class:`~cobbdesk.core.store.conflicts.ConflictError` with one
        :class:`~cobbdesk.core.store.conflicts.FieldConflict` per such lab (``seen``,
        ``theirs``, ``mine``) and nothing is written.  Raises ValidationError otherwise.
        """
        clean = {name: validate_lab(name, value) for name, value in values.items()}
        seen = {n: validate_lab(n, v) for n, v in (expected or {}).items() if n in clean}
        warnings = [w for n, v in clean.items() if (w := plausibility_warning(n, v))]
        with self.transaction() as conn:
            rows = self._lab_rows(conn, visit_id)
            current = {n: value for n, (value, _, _) in rows.items() if value is not None}
            clashes = field_conflicts(seen, current, clean)
            if clashes:
                raise conflict("labs of visit", visit_id, clashes)
            changes = {n: (current.get(n), v) for n, v in clean.items() if current.get(n) != v}
            edits = [n for n, (old, _) in changes.items() if old is not None]
            if edits and not reason.strip():
                raise ValidationError(
                    None, f"changing saved lab value(s) {', '.join(edits)} needs a reason"
                )
            for name, (_, value) in changes.items():
                self._write_lab(conn, visit_id, name, value, rows.get(name))
            if changes:
                audit_log.record(conn, self.actor, "labs", visit_id, changes, reason=reason)
        return warnings

    @staticmethod
    def _lab_rows(
        conn: Connection, visit_id: int
    ) -> dict[str, tuple[float | str | None, int, int]]:
        """Lab name → (value or None when deleted, row id, version) of every row of a visit."""
        rows = conn.execute(
            select(labs.c.name, labs.c.value_num, labs.c.value_text, labs.c.deleted_utc,
                   labs.c.id, labs.c.version).where(labs.c.visit_id == visit_id)
        )  # fmt: skip
        return {
            name: (None if deleted else (num if num is not None else text), int(i), int(v))
            for name, num, text, deleted, i, v in rows
        }

    @staticmethod
    def _labs(conn: Connection, visit_id: int) -> dict[str, float | str | None]:
        rows = conn.execute(
            select(labs).where(labs.c.visit_id == visit_id, labs.c.deleted_utc.is_(None))
        )
        return {r.name: (r.value_num if r.value_num is not None else r.value_text) for r in rows}

    @staticmethod
    def lab_fields(name: str, value: float | str | None, now: str = "") -> dict[str, Any]:
        """The labs columns storing ``value`` (None: a deletion) for lab ``name`` at ``now``."""
        now = now or audit_log.utc_now()
        return {
            "value_num": value if isinstance(value, float) else None,
            "value_text": value if isinstance(value, str) else None,
            "updated_utc": now,
            "unit": LAB_SPECS[name].unit,
            "deleted_utc": now if value is None else None,
        }

    @classmethod
    def _write_lab(
        cls,
        conn: Connection,
        visit_id: int,
        name: str,
        value: float | str | None,
        row: tuple[Any, int, int] | None,
    ) -> None:
        fields = cls.lab_fields(name, value)
        if row is None:
            conn.execute(labs.insert().values(visit_id=visit_id, name=name, **fields))
        else:
            versioned_update(
                conn, labs, labs.c.id == row[1], row[2], fields,
                entity="labs of visit", entity_id=visit_id,
            )  # fmt: skip

    def labs(self, visit_id: int) -> dict[str, float | str | None]:
        """Saved lab values of a visit plus the derived ``nlr``."""
        with self.engine.connect() as conn:
            values = self._labs(conn, visit_id)
        n, ly = values.get("neutrophil"), values.get("lymphocyte")
        values["nlr"] = nlr(
            n if isinstance(n, float) else None, ly if isinstance(ly, float) else None
        )
        return values


__all__ = ["Baseline", "ClinicalRecords", "measurement_from_row", "measurement_row", "shown_state"]
