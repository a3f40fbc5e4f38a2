"""Correcting a film's region, visit and facing (mixed into :class:`~cobbdesk.core.store.Study`).

The importer guesses a film's region (from Body Part Examined), its visit (from the study
date) and its facing (from Patient Orientation or the pixels); a user corrects them here.
Every correction is one transaction with its audit rows (old value, new value, reason):

* :meth:`FilmEditing.change_film` — any of region, visit, facing; a reason is always required;
* :meth:`FilmEditing.set_facing` — the viewer's facing confirmation: setting an unknown facing
  needs no reason (it is still audited); changing a known facing does.

A visit is named ``admission``, ``month3`` or any other label; the film moves to that visit of
the same patient, which is created (audited) when the patient has none.  For ``admission`` and
``month3`` the first created visit of that kind is used (the one the export uses).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.facing import Facing, FacingSource
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.ordering import by_study_id
from cobbdesk.core.store.records import FilmRecord, Region, Visit, VisitKind, template_region
from cobbdesk.core.store.rows import (
    FILM_COLUMNS,
    VISIT_COLUMNS,
    _film,
    _film_fields,
    _visit,
    film_by_id,
    update_row,
)
from cobbdesk.core.store.schema import calibrations, films, measurements, patients, visits

_LABEL_MAX = 64  # visits.label is String(64)


@dataclass(frozen=True)
class FilmChange:
    """What :meth:`FilmEditing.change_film` / :meth:`FilmEditing.set_facing` did.

    ``changes`` maps each changed films column (``region``, ``visit_id``, ``facing``,
    ``facing_source``) to ``(old, new)``; empty when nothing changed.  ``new_visit`` is the
    visit created for the film, if any; ``old_visit``/``visit`` the visit before and after.
    ``mismatched`` counts the film's measurements whose template does not match its region
    now (e.g. C2–C7 points on a film now marked lumbar): the export leaves them out.
    ``rivals``: after a region or visit change of a measured film, the SOP Instance UIDs of the
    other films of its visit and region that carry a measurement of that region too — only
    one angle per visit and region is exported (``verify``'s region duplicates).
    """

    film: FilmRecord
    old_visit: Visit
    visit: Visit
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    new_visit: Visit | None = None
    mismatched: int = 0
    rivals: tuple[str, ...] = ()


def _reason(reason: str, what: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError(None, f"{what} needs a reason")
    return text


def _enum_value(enum: Any, value: Any, name: str) -> str:
    try:
        return str(enum(value).value)
    except ValueError:
        allowed = ", ".join(str(e.value) for e in enum)
        raise ValidationError(None, f"{name} must be one of {allowed}, got {value!r}") from None


def visit_key(visit: str) -> tuple[VisitKind, str]:
    """``(kind, label)`` for a visit name: ``admission``/``month3``, else an ``other`` label.

    >>> visit_key("month3"), visit_key(" week 6 ")
    ((<VisitKind.MONTH3: 'month3'>, ''), (<VisitKind.OTHER: 'other'>, 'week 6'))
    """
    text = str(visit).strip()
    if text in (VisitKind.ADMISSION.value, VisitKind.MONTH3.value):
        return VisitKind(text), ""
    if not text or text == VisitKind.OTHER.value:
        raise ValidationError(None, "name the visit: admission, month3 or a label such as 'week 6'")
    if len(text) > _LABEL_MAX:
        raise ValidationError(None, f"visit label is longer than {_LABEL_MAX} characters")
    return VisitKind.OTHER, text


def _visit_by_id(conn: Connection, visit_id: int) -> Visit:
    return _visit(conn.execute(select(*VISIT_COLUMNS).where(visits.c.id == visit_id)).one())


def _measured_in_region(conn: Connection, visit_id: int, region: Region) -> dict[int, str]:
    """SOP Instance UID by film id of the visit's live films of ``region`` that carry a live
    measurement whose template belongs to that region."""
    rows = conn.execute(
        select(films.c.id, films.c.sop_instance_uid, measurements.c.template)
        .join(measurements, measurements.c.film_id == films.c.id)
        .where(films.c.visit_id == visit_id, films.c.region == region.value,
               films.c.deleted_utc.is_(None), measurements.c.deleted_utc.is_(None))
    ).all()  # fmt: skip
    return {int(r.id): str(r.sop_instance_uid) for r in rows
            if template_region(r.template) is region}  # fmt: skip


def _mismatched(conn: Connection, film_id: int, region: Region) -> int:
    rows = conn.execute(
        select(measurements.c.template, func.count())
        .where(measurements.c.film_id == film_id, measurements.c.deleted_utc.is_(None))
        .group_by(measurements.c.template)
    ).all()
    return sum(int(n) for template, n in rows if template_region(template) is not region)


@dataclass(frozen=True)
class FilmSummary:
    """One film for ``cobbdesk film --list``: no patient identifiers, the study ID only.

    ``spacing`` is ``(row_mm, col_mm)`` or None; ``spacing_from`` says where it comes from:
    ``"calibration (<kind>)"`` (the user calibration in force), ``"last measurement
    (<source>)"`` (the spacing the newest live measurement was taken with) or ``"none"``
    (nothing recorded in the study: not calibrated, not measured).  ``measurements`` counts
    live measurements, ``mismatched`` those whose template does not match the film's region.
    """

    film_id: int
    sop_instance_uid: str
    study_id: str
    visit: Visit
    region: Region
    facing: str | None
    facing_source: str | None
    spacing: tuple[float, float] | None
    spacing_from: str
    measurements: int
    mismatched: int

    @property
    def visit_name(self) -> str:
        """The visit's label for an "other" visit, else its kind (``admission``/``month3``)."""
        return self.visit.label if self.visit.kind is VisitKind.OTHER else self.visit.kind.value


def _spacing_of(calibration: Any, last: Any) -> tuple[tuple[float, float] | None, str]:
    if calibration is not None:
        spacing = (float(calibration.spacing_row_mm), float(calibration.spacing_col_mm))
        return spacing, f"calibration ({calibration.kind})"
    if last is not None:
        source = str(last.spacing_source)
        if last.spacing_row_mm:
            spacing = (float(last.spacing_row_mm), float(last.spacing_col_mm))
            return spacing, f"last measurement ({source})"
        return None, f"last measurement ({source}: uncalibrated)"
    return None, "none"


def film_summaries(engine: Engine) -> list[FilmSummary]:
    """Every live film, ordered by study ID (natural order, :mod:`.ordering`), visit date,
    visit and film id (a few set queries)."""
    m, c = measurements.c, calibrations.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(*FILM_COLUMNS, patients.c.study_id, *VISIT_COLUMNS)
            .join_from(films, visits, visits.c.id == films.c.visit_id)
            .join(patients, patients.c.id == visits.c.patient_id)
            .where(films.c.deleted_utc.is_(None))
            .order_by(patients.c.study_id, visits.c.visit_date, visits.c.id, films.c.id)
        ).all()
        live = conn.execute(
            select(m.film_id, m.template, m.spacing_row_mm, m.spacing_col_mm, m.spacing_source)
            .where(m.deleted_utc.is_(None))
            .order_by(m.created_utc, m.id)
        ).all()
        calibrated = {
            r.film_id: r
            for r in conn.execute(
                select(c.film_id, c.kind, c.spacing_row_mm, c.spacing_col_mm)
                .where(c.deleted_utc.is_(None))
                .order_by(c.created_utc, c.id)
            ).all()
        }
    by_film: dict[int, list[Any]] = {}
    for done_row in live:
        by_film.setdefault(int(done_row.film_id), []).append(done_row)
    width = len(FILM_COLUMNS)
    out = []
    for row in rows:
        film, study_id, visit = _film(row[:width]), str(row[width]), _visit(row[width + 1 :])
        done = by_film.get(film.id, [])
        spacing, origin = _spacing_of(calibrated.get(film.id), done[-1] if done else None)
        wrong = sum(1 for r in done if template_region(r.template) is not film.region)
        out.append(FilmSummary(
            film.id, film.sop_instance_uid, study_id, visit, film.region, film.facing,
            film.facing_source, spacing, origin, len(done), wrong,
        ))  # fmt: skip
    return by_study_id(out, lambda summary: summary.study_id)  # stable: visits keep their order


class FilmEditing:
    """Film corrections; needs ``engine``, ``actor`` and ``transaction`` from ``Study``."""

    engine: Engine
    actor: audit_log.Actor

    def transaction(self) -> AbstractContextManager[Connection]:  # provided by Study
        """One write transaction (implemented by :meth:`Study.transaction`)."""
        raise NotImplementedError

    def film_summaries(self) -> list[FilmSummary]:
        """Every live film with its patient's study ID, visit, spacing and measurement counts."""
        return film_summaries(self.engine)

    def film(self, film_id: int) -> FilmRecord:
        """The film ``film_id``; raises :class:`ValidationError` when there is none (or deleted)."""
        with self.engine.connect() as conn:
            return film_by_id(conn, film_id)

    def change_film(
        self,
        film_id: int,
        *,
        reason: str,
        region: Region | str | None = None,
        visit: str | None = None,
        facing: Facing | str | None = None,
        facing_source: FacingSource | str = FacingSource.USER,
    ) -> FilmChange:
        """Set any of the film's region, visit (by name, see :func:`visit_key`) and facing.

        Arguments left None are not changed; ``facing_source`` is stored with ``facing``.  One
        transaction, audited with ``reason`` (required even when nothing changes).  Raises
        :class:`ValidationError` for an empty reason, an unknown film, region, facing, facing
        source or an empty visit name.
        """
        why = _reason(reason, "changing a film")
        values: dict[str, Any] = {}
        if region is not None:
            values["region"] = _enum_value(Region, region, "region")
        if facing is not None:
            values["facing"] = _enum_value(Facing, facing, "facing")
            values["facing_source"] = _enum_value(FacingSource, facing_source, "facing source")
        wanted = visit_key(visit) if visit is not None else None
        with self.transaction() as conn:
            before = film_by_id(conn, film_id)
            old_visit = _visit_by_id(conn, before.visit_id)
            new_visit = None
            if wanted is not None:
                visit_id, new_visit = self._find_or_create_visit(conn, old_visit, wanted, why)
                values["visit_id"] = visit_id
            clean = _film_fields(values)
            changes = update_row(conn, self.actor, films, film_id, clean, entity="film", reason=why)
            return self._result(conn, film_id, old_visit, changes, new_visit)

    def set_facing(
        self,
        film_id: int,
        facing: Facing | str | None,
        source: FacingSource | str,
        reason: str = "",
    ) -> FilmChange:
        """Record which way the patient faces on the film, and where that came from.

        Setting the facing of a film whose facing is unknown (or confirming the stored facing,
        e.g. an estimate confirmed by the user) needs no reason; changing or clearing a known
        facing does.  Audited either way.  Raises :class:`ValidationError` for an unknown film,
        facing or source, or a missing reason.
        """
        value = None if facing is None else _enum_value(Facing, facing, "facing")
        origin = _enum_value(FacingSource, source, "facing source") if value else None
        with self.transaction() as conn:
            before = film_by_id(conn, film_id)
            if before.facing is not None and before.facing != value:
                _reason(reason, f"changing the film's facing from {before.facing}")
            elif before.facing_source == FacingSource.USER.value and origin != before.facing_source:
                _reason(reason, "replacing the user's facing confirmation")
            values = _film_fields({"facing": value, "facing_source": origin})
            changes = update_row(
                conn, self.actor, films, film_id, values, entity="film", reason=reason.strip()
            )
            old_visit = _visit_by_id(conn, before.visit_id)
            return self._result(conn, film_id, old_visit, changes, None)

    def _result(
        self,
        conn: Connection,
        film_id: int,
        old_visit: Visit,
        changes: dict[str, tuple[Any, Any]],
        new_visit: Visit | None,
    ) -> FilmChange:
        after = film_by_id(conn, film_id)
        visit = _visit_by_id(conn, after.visit_id)
        mismatched = _mismatched(conn, film_id, after.region)
        rivals: tuple[str, ...] = ()
        if {"region", "visit_id"} & changes.keys():
            measured = _measured_in_region(conn, after.visit_id, after.region)
            if film_id in measured:
                rivals = tuple(uid for fid, uid in sorted(measured.items()) if fid != film_id)
        return FilmChange(after, old_visit, visit, changes, new_visit, mismatched, rivals)

    def _find_or_create_visit(
        self, conn: Connection, current: Visit, wanted: tuple[VisitKind, str], reason: str
    ) -> tuple[int, Visit | None]:
        """The patient's visit ``wanted`` (first created for admission/month3), or a new one."""
        kind, label = wanted
        query = select(visits.c.id).where(
            visits.c.patient_id == current.patient_id,
            visits.c.kind == kind.value,
            visits.c.deleted_utc.is_(None),
        )
        if kind is VisitKind.OTHER:
            query = query.where(visits.c.label == label)
        found = conn.execute(query.order_by(visits.c.id).limit(1)).scalar()
        if found is not None:
            return int(found), None
        values = {"patient_id": current.patient_id, "kind": kind.value, "label": label}
        new_id = conn.execute(
            visits.insert().values(**values, created_utc=audit_log.utc_now())
        ).inserted_primary_key[0]  # type: ignore[index]
        audit_log.record(
            conn, self.actor, "visit", new_id, inserted("visit", values), reason=reason
        )
        return int(new_id), Visit(int(new_id), current.patient_id, kind, label, None)


__all__ = ["FilmChange", "FilmEditing", "FilmSummary", "film_summaries", "visit_key"]
