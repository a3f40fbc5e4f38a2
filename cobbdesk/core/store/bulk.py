"""Adding many films at once: patients, visits and films in ONE transaction, fully audited.

:meth:`Study.add_film` commits (and, with ``synchronous=FULL``, syncs the disk) once per film,
which makes a 1,000-film import take seconds on a laptop disk; :func:`add_films_bulk` writes the
same rows and the same audit rows (through :func:`cobbdesk.core.store.audit.record`) in a
single transaction: all of the import or none of it.

Per item, in order: the patient is found by DICOM Patient ID or created (study ID pseudonym
``P0001``…, the next free one; the header's identifiers are stored only for a new patient);
the visit is found by ``(patient, kind, label)`` or created, and an existing *undated* visit
of that kind gets the item's date (audited, with the reason); then the film is inserted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.records import FilmRecord, Visit, VisitKind
from cobbdesk.core.store.rows import update_row
from cobbdesk.core.store.schema import films, patients, visits
from cobbdesk.core.store.study import FILM_COLUMNS, Study, _film, _film_fields

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


def add_films_bulk(
    study: Study, items: Sequence[FilmItem], *, reason: str = "DICOM import"
) -> BulkResult:
    """Write every item (see the module rules) in one transaction; returns what was made."""
    result = BulkResult()
    patient_ids: dict[str, int] = {}
    visit_ids: dict[tuple[int, str, str], int] = {}
    with study.transaction() as conn:
        for item in items:
            pid = patient_ids.get(item.dicom_patient_id)
            if pid is None:
                pid = _patient(conn, study, item, result)
                patient_ids[item.dicom_patient_id] = pid
            key = (pid, item.kind.value, item.label)
            if key not in visit_ids:
                visit_ids[key] = _visit(conn, study, pid, item, result=result, reason=reason)
            result.film_ids.append(_insert_film(conn, study, visit_ids[key], item.film, reason))
            result.patient_ids.append(pid)
    return result


def _patient(conn: Connection, study: Study, item: FilmItem, result: BulkResult) -> int:
    row = conn.execute(
        select(patients.c.id, patients.c.study_id).where(
            patients.c.dicom_patient_id == item.dicom_patient_id
        )
    ).first()
    if row is not None:
        result.study_ids[int(row[0])] = str(row[1])
        return int(row[0])
    clean = Study._clean_patient({**item.identifiers, "dicom_patient_id": item.dicom_patient_id})
    sid = _free_study_id(conn)
    new_id = conn.execute(
        patients.insert().values(study_id=sid, created_utc=audit_log.utc_now(), **clean)
    ).inserted_primary_key[0]  # type: ignore[index]
    audit_log.record(
        conn, study.actor, "patient", new_id, inserted("patient", {"study_id": sid, **clean})
    )
    result.study_ids[int(new_id)] = sid
    result.new_patients.append(int(new_id))
    return int(new_id)


def _free_study_id(conn: Connection) -> str:
    """``P{n+1:04d}`` for n patients, or the next number not taken."""
    number = conn.execute(select(func.count()).select_from(patients)).scalar_one() + 1
    while conn.execute(
        select(patients.c.id).where(patients.c.study_id == f"P{number:04d}")
    ).first():
        number += 1
    return f"P{number:04d}"


def _taken(conn: Connection, study_id: str) -> bool:
    return (
        conn.execute(select(patients.c.id).where(patients.c.study_id == study_id)).first()
        is not None
    )


def _visit(
    conn: Connection, study: Study, pid: int, item: FilmItem, *, result: BulkResult, reason: str
) -> int:
    row = (
        conn.execute(
            select(visits).where(
                visits.c.patient_id == pid,
                visits.c.kind == item.kind.value,
                visits.c.label == item.label,
                visits.c.deleted_utc.is_(None),
            )
        )
        .mappings()
        .first()
    )
    if row is not None:
        if row["visit_date"] is None and item.visit_date is not None:
            _date_visit(conn, study, int(row["id"]), item.visit_date, reason)
            result.dated_visits.append(
                Visit(row["id"], pid, item.kind, item.label, item.visit_date)
            )
        return int(row["id"])
    values = {"patient_id": pid, "kind": item.kind.value, "label": item.label,
              "visit_date": item.visit_date}  # fmt: skip
    new_id = conn.execute(
        visits.insert().values(**values, created_utc=audit_log.utc_now())
    ).inserted_primary_key[0]  # type: ignore[index]
    audit_log.record(conn, study.actor, "visit", new_id, inserted("visit", values), reason=reason)
    result.new_visits.append(Visit(int(new_id), pid, item.kind, item.label, item.visit_date))
    return int(new_id)


def _date_visit(conn: Connection, study: Study, visit_id: int, day: str, reason: str) -> None:
    update_row(conn, study.actor, visits, visit_id, {"visit_date": day}, entity="visit",
               reason=reason)  # fmt: skip


def _insert_film(
    conn: Connection, study: Study, visit_id: int, fields: Mapping[str, Any], reason: str
) -> int:
    values = dict(fields)
    sop = str(values.pop("sop_instance_uid"))
    clean = _film_fields(values)
    new_id = conn.execute(
        films.insert().values(
            visit_id=visit_id, sop_instance_uid=sop, created_utc=audit_log.utc_now(), **clean
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    created = inserted("film", {"visit_id": visit_id, "sop_instance_uid": sop, **clean})
    audit_log.record(conn, study.actor, "film", new_id, created, reason=reason)
    return int(new_id)


__all__ = ["BulkResult", "FilmItem", "add_films_bulk", "films_by_sop"]
