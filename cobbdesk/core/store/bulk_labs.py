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

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, select

from cobbdesk.core.labs import LAB_SPECS
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.conflicts import ConflictError, FieldConflict, conflict
from cobbdesk.core.store.integrity import LAB_VALUES, inserted
from cobbdesk.core.store.records import VisitKind
from cobbdesk.core.store.schema import labs, patients, visits
from cobbdesk.core.store.study import Study

_IN = 500  # ids per IN (...) query
LabValue = float | str | None


class LabWrite(NamedTuple):
    """One row: the patient's visit of ``kind`` (label ``""``) and ``{lab: (old, new)}``.

    A named tuple (built once per CSV row: a frozen dataclass costs several times more).
    """

    row: int
    patient_id: int
    kind: VisitKind
    changes: Mapping[str, tuple[LabValue, LabValue]]


@dataclass
class LabsWritten:
    """What a bulk labs write did: rows written, lab values written, the visits it created
    (patient id, kind), and the rows refused by a conflict (row, :class:`ConflictError`).
    """

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


def lab_values(
    study: Study, by_key: dict[tuple[int, str], int] | None = None
) -> dict[tuple[int, str], dict[str, LabValue]]:
    """``(patient id, kind) → {lab: value}`` of the live values of every unlabelled visit
    (``by_key``: the :func:`visit_ids` a caller already read)."""
    with study.engine.connect() as conn:
        by_key = visit_ids(conn) if by_key is None else by_key
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
        row_keys = [(w.patient_id, w.kind.value) for w in writes]
        for key in row_keys:
            if key not in keys:
                keys[key] = _new_visit(conn, key, entries, reason)
                done.visits_created.append(key)
        visit_of = [keys[key] for key in row_keys]
        batch = _Batch(_lab_rows(conn, set(visit_of)), audit_log.utc_now())
        texts: list[audit_log.Text] = []
        nulls: dict[tuple[str, ...], str] = {}  # ``{lab: null, …}`` of new values, per names
        for w, visit_id in zip(writes, visit_of, strict=True):
            clashes = batch.clashes(visit_id, w.changes)
            if clashes:
                done.conflicts.append((w.row, conflict("labs of visit", visit_id, clashes)))
                continue
            batch.queue(visit_id, w.changes)
            names, pairs = tuple(w.changes), list(w.changes.values())
            olds = [old for old, _ in pairs]
            before = (
                audit_log.object_text(names, olds) if any(o is not None for o in olds)
                else nulls.get(names) or nulls.setdefault(names, audit_log.object_text(names, olds))
            )  # fmt: skip
            after = audit_log.object_text(names, [new for _, new in pairs])
            texts.append(("labs", str(visit_id), LAB_VALUES, before, after, reason))
            done.rows += 1
            done.values += len(pairs)
        with _large_cache(conn):
            batch.execute(conn)
            audit_log.record_texts(conn, study.actor, [*audit_log.entry_texts(entries), *texts])
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


_CACHE_KIB = 65_536  # SQLite page cache while a chunk is written (default: 2,000 KiB)


@contextmanager
def _large_cache(conn: Connection) -> Iterator[None]:
    """A larger SQLite page cache for the chunk's inserts (three b-trees per lab row, one per
    audit row): with the default, dirty pages spill to the WAL mid-transaction and are written
    again.  The connection's own size is restored; other databases are left alone."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or -2000)
    conn.exec_driver_sql(f"PRAGMA cache_size=-{_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={before}")


_UNITS = {name: spec.unit for name, spec in LAB_SPECS.items()}
#: The inserted columns, in the table's order (``version`` takes its default).
_INSERTED = ("visit_id", "name", "value_num", "value_text", "unit", "updated_utc", "deleted_utc")
_ABSENT = (None, -1, 0)


class _Batch:
    """The rows one chunk inserts (tuples for a driver ``executemany``) and updates.

    ``stored`` (``(visit, lab) → (value, row id, version)``, from :func:`_lab_rows`) follows the
    queued writes; row id -1 marks a row inserted by this chunk.  The stored columns are those
    of :meth:`ClinicalRecords.lab_fields`.
    """

    def __init__(self, stored: dict[tuple[int, str], tuple[Any, int, int]], now: str) -> None:
        self.stored, self.now = stored, now
        self.inserts: list[tuple[Any, ...]] = []
        self.inserted_at: dict[tuple[int, str], int] = {}
        self.updates: list[dict[str, Any]] = []
        self.visits = {visit_id for visit_id, _ in stored}  # with a stored or queued row
        # visits first queued by one write (all inserts): (first insert, its changes); their
        # ``stored``/``inserted_at`` entries are filled only if another write touches them
        self.fresh: dict[int, tuple[int, Mapping[str, tuple[LabValue, LabValue]]]] = {}

    def _expand(self, visit_id: int) -> None:
        first, changes = self.fresh.pop(visit_id)
        for at, (name, (_, value)) in enumerate(changes.items(), start=first):
            self.inserted_at[(visit_id, name)] = at
            self.stored[(visit_id, name)] = (value, -1, 0)

    def clashes(
        self, visit_id: int, changes: Mapping[str, tuple[LabValue, LabValue]]
    ) -> list[FieldConflict]:
        """The fields whose stored value is no longer the ``old`` value the write carries."""
        if visit_id not in self.visits:  # nothing stored: every field reads None
            return [FieldConflict(n, old, None, new)
                    for n, (old, new) in changes.items() if old is not None]  # fmt: skip
        if visit_id in self.fresh:
            self._expand(visit_id)
        stored = self.stored
        return [
            FieldConflict(n, old, got, new)
            for n, (old, new) in changes.items()
            if (got := stored.get((visit_id, n), _ABSENT)[0]) != old
        ]

    def queue(self, visit_id: int, changes: Mapping[str, tuple[LabValue, LabValue]]) -> None:
        """Queue the writes of ``changes`` (lab → (old, new)) of ``visit_id``: inserts, or
        versioned updates of the rows already stored; a ``None`` value is written as deleted.
        """
        now, stored = self.now, self.stored
        if visit_id not in self.visits:  # a visit without lab rows: inserts only
            self.visits.add(visit_id)
            self.fresh[visit_id] = (len(self.inserts), changes)
            self.inserts += [
                (visit_id, name, value if isinstance(value, float) else None,
                 value if isinstance(value, str) else None, _UNITS[name], now,
                 now if value is None else None)
                for name, (_, value) in changes.items()
            ]  # fmt: skip
            return
        if visit_id in self.fresh:
            self._expand(visit_id)
        for name, (_, value) in changes.items():
            key = (visit_id, name)
            columns = (
                value if isinstance(value, float) else None,
                value if isinstance(value, str) else None,
                _UNITS[name], now, now if value is None else None,
            )  # fmt: skip
            row = stored.get(key)
            if row is None:
                self.inserted_at[key] = len(self.inserts)
                self.inserts.append((visit_id, name, *columns))
                stored[key] = (value, -1, 0)
            elif row[1] == -1:  # inserted earlier in this chunk: change the queued insert
                self.inserts[self.inserted_at[key]] = (visit_id, name, *columns)
                stored[key] = (value, -1, 0)
            else:
                names = ("value_num", "value_text", "unit", "updated_utc", "deleted_utc")
                self.updates.append(
                    {"b_id": row[1], "b_version": row[2], "b_new": row[2] + 1,
                     **dict(zip(names, columns, strict=True))}
                )  # fmt: skip
                stored[key] = (value, row[1], row[2] + 1)

    def execute(self, conn: Connection) -> None:
        """Run the queued inserts (one ``executemany``) and the versioned updates in ``conn``.

        Raises :class:`ConflictError` when a stored row changed since it was read.
        """
        audit_log.insert_rows(conn, labs, _INSERTED, self.inserts)
        if not self.updates:
            return
        columns = ("value_num", "value_text", "updated_utc", "unit", "deleted_utc")
        statement = (
            labs.update()
            .where(labs.c.id == bindparam("b_id"), labs.c.version == bindparam("b_version"))
            .values(version=bindparam("b_new"), **{c: bindparam(c) for c in columns})
        )
        result = conn.execute(statement, self.updates)
        if result.rowcount not in (-1, len(self.updates)):
            raise conflict("labs", "(bulk import)", [])


__all__ = ["LabWrite", "LabsWritten", "lab_values", "patient_ids", "visit_ids", "write_labs"]
