"""Writing many lab values at once (the CSV import): one transaction per chunk, fully audited.

:meth:`Study.set_labs` is one transaction (and one disk sync) per visit: 100,000 rows took
minutes.  :func:`write_labs` writes a whole chunk of already validated rows in one
transaction: missing visits created (undated, audited), lab rows inserted or updated with
``executemany`` (updates keep the ``WHERE id AND version`` rule), and the audit rows chained
in memory (:func:`cobbdesk.core.store.audit.record_many`).  Each row is audited as ONE audit
row (entity ``labs``, the visit id, field :data:`~cobbdesk.core.store.integrity.LAB_VALUES`,
old and new values as JSON objects ``{lab: value}``) rather than one per lab: a 100,000-row
file with 7 labs would otherwise add 700,000 audit rows.  The integrity replay reads both.

Each write carries the values it read (``old``); a value stored differently by now (another
rater) refuses that row with a :class:`~cobbdesk.core.store.conflicts.ConflictError`, the rest
of the chunk is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, select

from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.clinical import ClinicalRecords
from cobbdesk.core.store.conflicts import ConflictError, FieldConflict, conflict
from cobbdesk.core.store.integrity import LAB_VALUES, inserted
from cobbdesk.core.store.records import VisitKind
from cobbdesk.core.store.schema import labs, patients, visits
from cobbdesk.core.store.study import Study

_IN = 500  # ids per IN (...) query
LabValue = float | str | None


@dataclass(frozen=True)
class LabWrite:
    """One row: the patient's visit of ``kind`` (label ``""``) and ``{lab: (old, new)}``."""

    row: int
    patient_id: int
    kind: VisitKind
    changes: Mapping[str, tuple[LabValue, LabValue]]


@dataclass
class LabsWritten:
    rows: int = 0
    values: int = 0
    visits_created: list[tuple[int, str]] = field(default_factory=list)  # (patient id, kind)
    conflicts: list[tuple[int, ConflictError]] = field(default_factory=list)  # (row, error)


def patient_ids(study: Study) -> tuple[dict[str, int], dict[str, int], dict[int, str]]:
    """``(by study ID, by DICOM Patient ID, study ID by id)`` of the live patients."""
    query = select(patients.c.id, patients.c.study_id, patients.c.dicom_patient_id).where(
        patients.c.deleted_utc.is_(None)
    )
    with study.engine.connect() as conn:
        rows = conn.execute(query).all()
    by_study = {str(sid): int(pid) for pid, sid, _ in rows}
    by_dicom = {str(did): int(pid) for pid, _, did in rows if did}
    return by_study, by_dicom, {pid: sid for sid, pid in by_study.items()}


def visit_ids(conn: Connection) -> dict[tuple[int, str], int]:
    """``(patient id, kind) → id`` of the first live unlabelled visit of each kind."""
    query = (
        select(visits.c.patient_id, visits.c.kind, visits.c.id)
        .where(visits.c.label == "", visits.c.deleted_utc.is_(None))
        .order_by(visits.c.id.desc())
    )
    return {(int(p), str(k)): int(i) for p, k, i in conn.execute(query)}


def _lab_rows(conn: Connection, ids: Iterable[int]) -> dict[tuple[int, str], tuple[Any, int, int]]:
    """``(visit, lab) → (value or None, row id, version)`` for the labs of ``ids``."""
    wanted, found = sorted(set(ids)), {}
    c = labs.c
    for start in range(0, len(wanted), _IN):
        query = select(c.visit_id, c.name, c.value_num, c.value_text, c.deleted_utc, c.id,
                       c.version).where(c.visit_id.in_(wanted[start : start + _IN]))  # fmt: skip
        for visit_id, name, num, text, deleted, row_id, version in conn.execute(query):
            value = None if deleted else (num if num is not None else text)
            found[(int(visit_id), str(name))] = (value, int(row_id), int(version))
    return found


def lab_values(study: Study) -> dict[tuple[int, str], dict[str, LabValue]]:
    """``(patient id, kind) → {lab: value}`` of the live values of every unlabelled visit."""
    with study.engine.connect() as conn:
        by_key = visit_ids(conn)
        stored = _lab_rows(conn, by_key.values())
    key_of = {visit_id: key for key, visit_id in by_key.items()}
    values: dict[tuple[int, str], dict[str, LabValue]] = {}
    for (visit_id, name), (value, _, _) in stored.items():
        if value is not None and visit_id in key_of:
            values.setdefault(key_of[visit_id], {})[name] = value
    return values


def write_labs(
    study: Study,
    writes: Sequence[LabWrite],
    *,
    reason: str,
    visit_keys: dict[tuple[int, str], int] | None = None,
) -> LabsWritten:
    """Write ``writes`` in one transaction (module rules); returns what was written.

    ``visit_keys`` (from :func:`visit_ids`, kept by a caller writing many chunks) saves
    reading every visit again per chunk; visits created here are added to it.
    """
    done = LabsWritten()
    entries: list[audit_log.Change] = []
    with study.transaction() as conn:
        keys = visit_keys if visit_keys is not None else visit_ids(conn)
        for w in writes:
            key = (w.patient_id, w.kind.value)
            if key not in keys:
                keys[key] = _new_visit(conn, key, entries, reason)
                done.visits_created.append(key)
        stored = _lab_rows(conn, {keys[(w.patient_id, w.kind.value)] for w in writes})
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        now = audit_log.utc_now()
        for w in writes:
            visit_id = keys[(w.patient_id, w.kind.value)]
            clashes = [
                FieldConflict(n, old, stored.get((visit_id, n), (None,))[0], new)
                for n, (old, new) in w.changes.items()
                if stored.get((visit_id, n), (None,))[0] != old
            ]
            if clashes:
                done.conflicts.append((w.row, conflict("labs of visit", visit_id, clashes)))
                continue
            for name, (_, new) in w.changes.items():
                _queue(visit_id, name, new, now, stored=stored, inserts=inserts, updates=updates)
            before = {n: o for n, (o, _) in w.changes.items()}
            after = {n: v for n, (_, v) in w.changes.items()}
            entries.append(("labs", visit_id, {LAB_VALUES: (before, after)}, reason))
            done.rows += 1
            done.values += len(w.changes)
        _execute(conn, inserts, updates)
        audit_log.record_many(conn, study.actor, entries)
    return done


def _new_visit(
    conn: Connection, key: tuple[int, str], entries: list[audit_log.Change], reason: str
) -> int:
    values = {"patient_id": key[0], "kind": key[1], "label": "", "visit_date": None}
    new_id = int(
        conn.execute(
            visits.insert().values(**values, created_utc=audit_log.utc_now())
        ).inserted_primary_key[0]  # type: ignore[index]
    )
    entries.append(("visit", new_id, inserted("visit", values), reason))
    return new_id


def _queue(
    visit_id: int,
    name: str,
    value: LabValue,
    now: str,
    *,
    stored: dict[tuple[int, str], tuple[Any, int, int]],
    inserts: list[dict[str, Any]],
    updates: list[dict[str, Any]],
) -> None:
    fields = ClinicalRecords.lab_fields(name, value, now)
    key = (visit_id, name)
    row = stored.get(key)
    if row is None:
        inserts.append({"visit_id": visit_id, "name": name, **fields})
        stored[key] = (value, -1, 0)
    elif row[1] == -1:  # inserted earlier in this chunk: change the queued insert
        queued = next(i for i in reversed(inserts) if (i["visit_id"], i["name"]) == key)
        queued.update(fields)
        stored[key] = (value, -1, 0)
    else:
        updates.append({"b_id": row[1], "b_version": row[2], "b_new": row[2] + 1, **fields})
        stored[key] = (value, row[1], row[2] + 1)


def _execute(
    conn: Connection, inserts: list[dict[str, Any]], updates: list[dict[str, Any]]
) -> None:
    audit_log.insert_many(conn, labs, inserts)
    if updates:
        columns = ("value_num", "value_text", "updated_utc", "unit", "deleted_utc")
        statement = (
            labs.update()
            .where(labs.c.id == bindparam("b_id"), labs.c.version == bindparam("b_version"))
            .values(version=bindparam("b_new"), **{c: bindparam(c) for c in columns})
        )
        result = conn.execute(statement, updates)
        if result.rowcount not in (-1, len(updates)):
            raise conflict("labs", "(bulk import)", [])


__all__ = ["LabWrite", "LabsWritten", "lab_values", "patient_ids", "visit_ids", "write_labs"]
