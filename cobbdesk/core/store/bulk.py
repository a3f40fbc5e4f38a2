"""Adding many films at once: patients, visits and films in ONE transaction, fully audited.

:meth:`Study.add_film` commits (and, with ``synchronous=FULL``, syncs the disk) once per film,
which makes a 1,000-film import take seconds on a laptop disk; :func:`add_films_bulk` writes the
same rows and the same audit rows in a single transaction: all of the import or none of it.

Per item, in order: the patient is found by DICOM Patient ID or created (study ID pseudonym
``P0001``…, the next free one; the header's identifiers are stored only for a new patient);
the visit is found by ``(patient, kind, label)`` or created, and an existing *undated* visit
of that kind gets the item's date (audited, with the reason); then the film is inserted.

How (10,000 films: the writes used to be 69 % of the import, one statement and one audit
round trip per row): existing patients and visits are read with one ``IN (…)`` query per 500
keys; new patients, visits and films are inserted with one ``executemany`` per table
(:func:`~cobbdesk.core.store.audit.insert_many`), their ids read back by their unique keys
(study ID; patient, kind and label; SOP Instance UID), so no id is guessed and any database's
own id allocation is kept; the audit rows are chained in memory and written at once
(:func:`~cobbdesk.core.store.audit.record_many`, as the labs import does), in the order of the
items (patient, visit, film), with ``created_utc`` one timestamp for the whole import.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, func, select

from cobbdesk.core import redact
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.records import FilmRecord, Visit, VisitKind
from cobbdesk.core.store.rows import update_row
from cobbdesk.core.store.schema import films, patients, visits
from cobbdesk.core.store.study import (
    FILM_COLUMNS,
    VISIT_COLUMNS,
    Study,
    _film,
    _film_fields,
    _visit,
)

_CHUNK = 500  # SQL variables per IN (...) query


@dataclass(frozen=True)
class FilmItem:
    """One film to add, with where it belongs."""

    dicom_patient_id: str
    kind: VisitKind
    label: str
    visit_date: str | None
    film: Mapping[str, Any]  # sop_instance_uid, path, region, view, study_date, pixel_rows/_columns
    identifiers: Mapping[str, Any] = field(default_factory=dict)  # name, birth_date, sex


@dataclass
class BulkResult:
    """What a bulk add wrote: the film and patient ids (in the order of the items), each new
    patient's study ID, the new patients and visits, and the stored visits that got a date.
    """

    film_ids: list[int] = field(default_factory=list)  # in the order of the items
    patient_ids: list[int] = field(default_factory=list)  # in the order of the items
    study_ids: dict[int, str] = field(default_factory=dict)  # patient id → study ID
    new_patients: list[int] = field(default_factory=list)
    new_visits: list[Visit] = field(default_factory=list)
    dated_visits: list[Visit] = field(default_factory=list)


def films_by_sop(study: Study, sop_instance_uids: Iterable[str]) -> dict[str, FilmRecord]:
    """Films already in the study (deleted ones included) for these SOP Instance UIDs."""
    wanted = sorted(set(sop_instance_uids))
    found: dict[str, FilmRecord] = {}
    with study.engine.connect() as conn:
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            query = select(*FILM_COLUMNS).where(films.c.sop_instance_uid.in_(chunk))
            found.update({film.sop_instance_uid: film for film in map(_film, conn.execute(query))})
    return found


def patients_with_visits(
    study: Study, dicom_patient_ids: Iterable[str]
) -> dict[str, tuple[int, list[Visit]]]:
    """The study's patient of each DICOM Patient ID (the first made, as
    :meth:`Study.patient_by_dicom_id`) with its live visits ordered as :meth:`Study.visits`;
    IDs without a patient are absent.  Two queries per 500 IDs, not two per patient."""
    c = patients.c
    with study.engine.connect() as conn:
        query = select(c.dicom_patient_id, c.id).order_by(c.id)
        pids: dict[str, int] = {}
        for dicom_id, pid in _in_chunks(conn, query, c.dicom_patient_id, dicom_patient_ids):
            pids.setdefault(str(dicom_id), int(pid))
        query = (
            select(*VISIT_COLUMNS)
            .where(visits.c.deleted_utc.is_(None))
            .order_by(visits.c.visit_date, visits.c.id)
        )
        rows = _in_chunks(conn, query, visits.c.patient_id, pids.values())
    by_patient: dict[int, list[Visit]] = {pid: [] for pid in pids.values()}
    for visit in map(_visit, rows):  # each patient's visits come from one query, in order
        by_patient[visit.patient_id].append(visit)
    return {dicom_id: (pid, by_patient[pid]) for dicom_id, pid in pids.items()}


def add_films_bulk(
    study: Study, items: Sequence[FilmItem], *, reason: str = "DICOM import"
) -> BulkResult:
    """Write every item (see the module rules) in one transaction; returns what was made."""
    result = BulkResult()
    with study.transaction() as conn:
        now = audit_log.utc_now()
        pids, created = _patients(conn, items, result, now)
        keys = [(pids[i.dicom_patient_id], i.kind.value, i.label) for i in items]
        vids, made = _visits(conn, study, items, keys, result, reason=reason, now=now)
        rows = [_film_row(vids[key], item.film, now) for key, item in zip(keys, items, strict=True)]
        fids = _insert_read_back(conn, films, rows, ("sop_instance_uid",))
        entries: list[audit_log.Change] = []
        for key, row in zip(keys, rows, strict=True):
            if key[0] in created:
                entries.append(("patient", key[0], inserted("patient", created.pop(key[0])), ""))
            if key in made:
                entries.append(("visit", vids[key], inserted("visit", made.pop(key)), reason))
            film_id = fids[(row["sop_instance_uid"],)]
            fields = {k: v for k, v in row.items() if k != "created_utc"}
            entries.append(("film", film_id, inserted("film", fields), reason))
            result.film_ids.append(film_id)
            result.patient_ids.append(key[0])
        audit_log.record_many(conn, study.actor, entries)
    return result


def _in_chunks(conn: Connection, query: Any, column: Any, keys: Iterable[Any]) -> list[Any]:
    """The rows of ``query`` filtered by ``column IN keys``, one query per 500 keys."""
    wanted = list(dict.fromkeys(keys))
    rows: list[Any] = []
    for start in range(0, len(wanted), _CHUNK):
        rows += conn.execute(query.where(column.in_(wanted[start : start + _CHUNK]))).all()
    return rows


def _insert_read_back(
    conn: Connection, table: Table, rows: list[dict[str, Any]], key: tuple[str, ...]
) -> dict[tuple[Any, ...], int]:
    """Insert ``rows`` (one ``executemany``); ``{key values: new id}`` read back by ``key``
    (unique in ``table``; rows marked deleted are left out when the table has that column)."""
    if not rows:
        return {}
    defaults = {c.name: getattr(c.default, "arg", None) for c in table.columns
                if c.default is not None and getattr(c.default, "is_scalar", False)}  # fmt: skip
    names = list(dict.fromkeys([*(n for r in rows for n in r), *defaults]))  # every row alike
    audit_log.insert_many(
        conn, table, [{n: r.get(n, defaults.get(n)) for n in names} for r in rows]
    )
    columns = [table.c[k] for k in key]
    query = select(table.c.id, *columns)
    if "deleted_utc" in table.c:
        query = query.where(table.c.deleted_utc.is_(None))
    found = _in_chunks(conn, query, columns[0], (r[key[0]] for r in rows))
    return {tuple(r[1:]): int(r[0]) for r in found}


def _patients(
    conn: Connection, items: Sequence[FilmItem], result: BulkResult, now: str
) -> tuple[dict[str, int], dict[int, dict[str, Any]]]:
    """``(DICOM Patient ID → patient id, {new patient id: its inserted values})``."""
    c = patients.c
    query = select(c.dicom_patient_id, c.id, c.study_id).order_by(c.id)
    pids: dict[str, int] = {}
    for dicom_id, pid, sid in _in_chunks(conn, query, c.dicom_patient_id,
                                         (i.dicom_patient_id for i in items)):  # fmt: skip
        if dicom_id not in pids:  # the first patient of that DICOM Patient ID
            pids[dicom_id] = int(pid)
            result.study_ids[int(pid)] = str(sid)
    new: dict[str, dict[str, Any]] = {}
    free = _FreeStudyIds(conn)
    for item in items:
        if item.dicom_patient_id not in pids and item.dicom_patient_id not in new:
            ident = {**item.identifiers, "dicom_patient_id": item.dicom_patient_id}
            new[item.dicom_patient_id] = {"study_id": free.take(), **Study._clean_patient(ident)}
    _remember(new.values())  # before the write, so no later output line shows them
    rows = [{**values, "created_utc": now} for values in new.values()]
    ids = _insert_read_back(conn, patients, rows, ("study_id",))
    created: dict[int, dict[str, Any]] = {}
    for dicom_id, values in new.items():
        pid = ids[(values["study_id"],)]
        pids[dicom_id], created[pid] = pid, values
        result.study_ids[pid] = values["study_id"]
        result.new_patients.append(pid)
    return pids, created


def _remember(new: Iterable[Mapping[str, Any]]) -> None:
    """Hand the identifiers of the patients about to be written to redaction, pending
    (:func:`cobbdesk.core.redact.remember_patients` with ``later=True``: names, then MRNs,
    birth dates and DICOM Patient IDs, as :meth:`Study.open` hands over the stored ones; the
    keys are built by the next ``redact()``, before it matches, where ``add_patient`` builds
    its one patient's at once), so that every line the command prints afterwards (a skipped
    file named after its patient) is redacted."""
    rows = list(new)
    redact.remember_patients(
        (str(r["name"]) for r in rows if r.get("name")),
        (str(r[f]) for r in rows for f in redact.PATIENT_FIELDS[1:] if r.get(f)),
        later=True,
    )


class _FreeStudyIds:
    """``P{n+1:04d}`` for n patients, or the next number not taken (as one at a time would)."""

    def __init__(self, conn: Connection) -> None:
        self.count = int(conn.execute(select(func.count()).select_from(patients)).scalar_one())
        taken = select(patients.c.study_id).where(patients.c.study_id.like("P%"))
        self.taken = {str(sid) for (sid,) in conn.execute(taken)}

    def take(self) -> str:
        """The next free study ID (``P0001`` style), marked as taken."""
        number = self.count + 1
        while f"P{number:04d}" in self.taken:
            number += 1
        self.count += 1
        self.taken.add(f"P{number:04d}")
        return f"P{number:04d}"


VisitKey = tuple[int, str, str]  # (patient id, kind, label)


def _visits(
    conn: Connection,
    study: Study,
    items: Sequence[FilmItem],
    keys: list[VisitKey],
    result: BulkResult,
    *,
    reason: str,
    now: str,
) -> tuple[dict[VisitKey, int], dict[VisitKey, dict[str, Any]]]:
    """``(visit key → visit id, {new visit key: its inserted values})``; an existing undated
    visit gets the first item's date (audited now, before the inserts)."""
    c = visits.c
    query = select(c.patient_id, c.kind, c.label, c.id, c.visit_date).where(c.deleted_utc.is_(None))
    stored = {(int(p), str(k), str(lb)): (int(i), d)
              for p, k, lb, i, d in _in_chunks(conn, query, c.patient_id,
                                               (k[0] for k in keys))}  # fmt: skip
    vids: dict[VisitKey, int] = {}
    new: dict[VisitKey, dict[str, Any]] = {}
    for key, item in zip(keys, items, strict=True):
        if key in vids or key in new:
            continue
        if key in stored:
            vid, day = stored[key]
            vids[key] = vid
            if day is None and item.visit_date is not None:
                update_row(conn, study.actor, visits, vid, {"visit_date": item.visit_date},
                           entity="visit", reason=reason)  # fmt: skip
                result.dated_visits.append(
                    Visit(vid, key[0], item.kind, item.label, item.visit_date)
                )
            continue
        new[key] = {"patient_id": key[0], "kind": key[1], "label": key[2],
                    "visit_date": item.visit_date}  # fmt: skip
    rows = [{**values, "created_utc": now} for values in new.values()]
    found = _insert_read_back(conn, visits, rows, ("patient_id", "kind", "label"))
    for key, values in new.items():
        vids[key] = found[key]
        result.new_visits.append(
            Visit(found[key], key[0], VisitKind(key[1]), key[2], values["visit_date"])
        )
    return vids, new


def _film_row(visit_id: int, fields: Mapping[str, Any], now: str) -> dict[str, Any]:
    values = dict(fields)
    sop = str(values.pop("sop_instance_uid"))
    return {"visit_id": visit_id, "sop_instance_uid": sop, "created_utc": now,
            **_film_fields(values)}  # fmt: skip


__all__ = ["BulkResult", "FilmItem", "add_films_bulk", "films_by_sop", "patients_with_visits"]
