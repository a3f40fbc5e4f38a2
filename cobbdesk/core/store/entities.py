"""Patients, visits and films (mixed into :class:`~cobbdesk.core.store.Study`).

Adding, changing and listing a study's patients, visits and films; every write is one
transaction with its audit rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, select

from cobbdesk.core import redact
from cobbdesk.core.errors import ValidationError
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.ordering import by_study_id
from cobbdesk.core.store.records import FilmRecord, Patient, Region, Visit, VisitKind, iso_date
from cobbdesk.core.store.rows import (
    FILM_COLUMNS,
    VISIT_COLUMNS,
    _film,
    _film_fields,
    _visit,
    update_row,
)
from cobbdesk.core.store.schema import films, patients, visits

_PATIENT_FIELDS = (
    "dicom_patient_id",
    "name",
    "mrn",
    "birth_date",
    "sex",
    "dose_mg_kg_day",
    "duration_months",
)


class EntityRecords:
    """Patients, visits and films; needs ``engine``, ``actor``, ``transaction`` from ``Study``."""

    engine: Engine
    actor: audit_log.Actor

    def transaction(self) -> AbstractContextManager[Connection]:  # provided by Study
        """One write transaction (implemented by :meth:`Study.transaction`)."""
        raise NotImplementedError

    def _update(
        self,
        table: Table,
        entity: str,
        row_id: int,
        values: dict[str, Any],
        reason: str,
        *,
        expected: Mapping[str, Any] | None = None,
    ) -> None:
        """Change one row's fields in one transaction, auditing each field that changed."""
        with self.transaction() as conn:
            update_row(
                conn, self.actor, table, row_id, values, entity=entity, reason=reason,
                expected=expected,
            )  # fmt: skip

    # --- patients ---------------------------------------------------------------------
    @staticmethod
    def _clean_patient(fields: dict[str, Any]) -> dict[str, Any]:
        unknown = set(fields) - set(_PATIENT_FIELDS)
        if unknown:
            raise ValidationError(None, f"unknown patient field(s): {', '.join(sorted(unknown))}")
        clean = dict(fields)
        if "birth_date" in clean:
            clean["birth_date"] = iso_date(clean["birth_date"], "birth date")
        sex = clean.get("sex")
        if sex not in (None, ""):
            clean["sex"] = str(sex).strip().upper()[:1]
            if clean["sex"] not in ("F", "M", "O"):
                raise ValidationError(None, f"sex {sex!r} must be F, M or O")
        for key in ("dose_mg_kg_day", "duration_months"):
            if clean.get(key) is not None and float(clean[key]) < 0:
                raise ValidationError(None, f"{key} {clean[key]} must not be negative")
        return {k: (None if v == "" else v) for k, v in clean.items()}

    def _next_study_id(self, conn: Connection) -> str:
        count = conn.execute(select(func.count()).select_from(patients)).scalar_one()
        return f"P{count + 1:04d}"

    def add_patient(self, study_id: str | None = None, **fields: Any) -> int:
        """Add a patient; return its database id.

        ``study_id`` is the CobbDesk study ID (None or blank: the next free ``P0001``-style number,
        from the count of patients); ``fields`` are among ``dicom_patient_id``, ``name``, ``mrn``,
        ``birth_date`` (ISO ``YYYY-MM-DD``, DICOM ``YYYYMMDD`` or a ``date``), ``sex`` (F, M or O;
        only its first letter counts), ``dose_mg_kg_day`` (mg/kg/day) and ``duration_months``.
        Raises ValidationError for an unknown field, an impossible date or sex, a negative dose or
        duration, and a study ID already used.
        """
        clean = self._clean_patient(fields)
        redact.remember(clean.get(k) for k in redact.PATIENT_FIELDS)
        with self.transaction() as conn:
            sid = (study_id or "").strip() or self._next_study_id(conn)
            taken = conn.execute(select(patients.c.id).where(patients.c.study_id == sid)).first()
            if taken:
                raise ValidationError(None, f"study ID {sid!r} is already used")
            new_id = conn.execute(
                patients.insert().values(study_id=sid, created_utc=audit_log.utc_now(), **clean)
            ).inserted_primary_key[0]  # type: ignore[index]
            created = inserted("patient", {"study_id": sid, **clean})
            audit_log.record(conn, self.actor, "patient", new_id, created)
        return int(new_id)

    def update_patient(
        self,
        patient_id: int,
        reason: str = "",
        *,
        expected: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> None:
        """Change a patient's fields; ``expected`` (what the caller saw) turns a field changed
        by someone else in between into a ConflictError instead of an overwrite."""
        clean = self._clean_patient(fields)
        redact.remember(clean.get(k) for k in redact.PATIENT_FIELDS)
        seen = self._clean_patient(dict(expected)) if expected is not None else None
        self._update(patients, "patient", patient_id, clean, reason, expected=seen)

    def patients(self) -> list[Patient]:
        """Every patient not deleted, in natural study-ID order (:mod:`.ordering`)."""
        columns = [patients.c[name] for name in Patient._fields]  # the record's order
        query = (
            select(*columns).where(patients.c.deleted_utc.is_(None)).order_by(patients.c.study_id)
        )
        with self.engine.connect() as conn:
            found = [Patient._make(row) for row in conn.execute(query)]
        return by_study_id(found, lambda p: str(p.study_id))

    def patient_by_dicom_id(self, dicom_patient_id: str) -> int | None:
        """The database id of the patient with this DICOM Patient ID (None when none).

        A deleted patient is found too.
        """
        query = select(patients.c.id).where(patients.c.dicom_patient_id == dicom_patient_id)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar()

    def patient_by_study_id(self, study_id: str) -> int | None:
        """The database id of the patient with this study ID (None when none; deleted ones too)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(patients.c.id).where(patients.c.study_id == study_id)
            ).scalar()

    # --- visits -----------------------------------------------------------------------
    def add_visit(
        self, patient_id: int, kind: VisitKind | str, *, visit_date: Any = None, label: str = ""
    ) -> int:
        """Add a visit of ``patient_id``; return its database id.

        ``kind`` is a :class:`VisitKind` or its value (``ValueError`` otherwise); ``visit_date`` an
        ISO ``YYYY-MM-DD`` or DICOM ``YYYYMMDD`` date, a ``date`` or None (ValidationError when it
        is not a date).
        """
        kind = VisitKind(kind)
        day = iso_date(visit_date, "visit date")
        with self.transaction() as conn:
            values = {"patient_id": patient_id, "kind": kind.value, "label": label,
                      "visit_date": day}  # fmt: skip
            new_id = conn.execute(
                visits.insert().values(**values, created_utc=audit_log.utc_now())
            ).inserted_primary_key[0]  # type: ignore[index]
            audit_log.record(conn, self.actor, "visit", new_id, inserted("visit", values))
        return int(new_id)

    def update_visit(self, visit_id: int, reason: str = "", **fields: Any) -> None:
        """Change a visit's fields (``kind``, ``label``, ``visit_date``), auditing each change.

        ``reason`` is stored with the audit rows; dates and kinds are checked as in
        :meth:`add_visit`.
        """
        clean = dict(fields)
        if "kind" in clean:
            clean["kind"] = VisitKind(clean["kind"]).value
        if "visit_date" in clean:
            clean["visit_date"] = iso_date(clean["visit_date"], "visit date")
        self._update(visits, "visit", visit_id, clean, reason)

    def visits(self, patient_id: int) -> list[Visit]:
        """The patient's visits not deleted, ordered by visit date, then id."""
        query = (
            select(*VISIT_COLUMNS)
            .where(visits.c.patient_id == patient_id, visits.c.deleted_utc.is_(None))
            .order_by(visits.c.visit_date, visits.c.id)
        )
        with self.engine.connect() as conn:
            return [_visit(r) for r in conn.execute(query)]

    def visit(self, patient_id: int, kind: VisitKind | str, label: str = "") -> Visit | None:
        """The patient's (non-deleted) visit of this ``kind`` and ``label``, or None."""
        query = select(*VISIT_COLUMNS).where(
            visits.c.patient_id == patient_id,
            visits.c.kind == VisitKind(kind).value,
            visits.c.label == label,
            visits.c.deleted_utc.is_(None),
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _visit(row) if row else None

    # --- films ------------------------------------------------------------------------
    def add_film(
        self,
        visit_id: int,
        *,
        sop_instance_uid: str,
        path: str | Path,
        region: Region | str = Region.UNKNOWN,
        **fields: Any,
    ) -> int:
        """Add a film to ``visit_id``; return its database id.

        ``fields`` are among ``view``, ``study_date``, ``pixel_sha256``, ``pixel_rows``,
        ``pixel_columns`` (px), ``facing``, ``facing_source``, ``pixel_aspect_row``/``_col``.
        Raises ValidationError for an unknown field, a region other than cervical, lumbar or
        unknown, an impossible study date or facing; a SOP Instance UID the study already holds
        is refused by the database (``sqlalchemy.exc.IntegrityError``).
        """
        clean = _film_fields({"path": str(path), "region": region, **fields})
        with self.transaction() as conn:
            new_id = conn.execute(
                films.insert().values(
                    visit_id=visit_id,
                    sop_instance_uid=sop_instance_uid,
                    created_utc=audit_log.utc_now(),
                    **clean,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            created = {"visit_id": visit_id, "sop_instance_uid": sop_instance_uid, **clean}
            audit_log.record(conn, self.actor, "film", new_id, inserted("film", created))
        return int(new_id)

    def update_film(self, film_id: int, reason: str = "", **fields: Any) -> None:
        """Change a film's fields (checked as in :meth:`add_film`); audited with ``reason``."""
        clean = _film_fields(fields)
        self._update(films, "film", film_id, clean, reason)

    def films(self, visit_id: int | None = None) -> list[FilmRecord]:
        """The films not deleted (of ``visit_id``, or all), ordered by id."""
        query = select(*FILM_COLUMNS).where(films.c.deleted_utc.is_(None)).order_by(films.c.id)
        if visit_id is not None:
            query = query.where(films.c.visit_id == visit_id)
        with self.engine.connect() as conn:
            return [_film(r) for r in conn.execute(query)]

    def film_by_sop(self, sop_instance_uid: str) -> FilmRecord | None:
        """The film with this SOP Instance UID (a deleted one too), or None."""
        with self.engine.connect() as conn:
            query = select(*FILM_COLUMNS).where(films.c.sop_instance_uid == sop_instance_uid)
            row = conn.execute(query).first()
        return _film(row) if row else None

    def films_by_hash(self, pixel_sha256: str) -> list[FilmRecord]:
        """Every film (deleted ones too) whose decoded pixels have this SHA-256 (64 hex digits)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(*FILM_COLUMNS).where(films.c.pixel_sha256 == pixel_sha256))
            return [_film(r) for r in rows]
