"""Row ↔ record helpers shared by the store modules (study, films, overview, bulk, checks).

Kept apart from :mod:`cobbdesk.core.store.study` so that modules ``Study`` itself uses (the
overview, the film editing mixin) can import them without an import cycle.

Rows that come in bulk are built by position from fixed column tuples: name look-ups on result
rows cost ~10 µs a film, a third of a second for a 40,000-film study.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Table, select

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.conflicts import conflict, field_conflicts, versioned_update
from cobbdesk.core.store.records import FilmRecord, Region, Visit, VisitKind, iso_date
from cobbdesk.core.store.schema import films, visits

FILM_FIELDS = (
    "path",
    "region",
    "view",
    "study_date",
    "pixel_sha256",
    "pixel_rows",
    "pixel_columns",
    "visit_id",
    "facing",
    "facing_source",
    "pixel_aspect_row",
    "pixel_aspect_col",
)
"""Film columns a caller may set (``sop_instance_uid`` is fixed at creation)."""
FACINGS = ("left", "right")
"""Stored values of ``films.facing`` (:class:`cobbdesk.core.measure.facing.Facing`)."""
FACING_SOURCES = ("user", "dicom", "estimate")
"""Stored values of ``films.facing_source`` (:class:`~cobbdesk.core.measure.facing.FacingSource`
values)."""

_KINDS = {kind.value: kind for kind in VisitKind}  # dict look-ups: Enum() is slow in bulk
_REGIONS = {region.value: region for region in Region}

VISIT_COLUMNS = (
    visits.c.id,
    visits.c.patient_id,
    visits.c.kind,
    visits.c.label,
    visits.c.visit_date,
)


def _visit(row: Any) -> Visit:
    """A Visit from a row selected with ``VISIT_COLUMNS`` (by position: name look-ups are slow)."""
    r = tuple(row)
    return Visit(r[0], r[1], _KINDS[r[2]], r[3], r[4])


#: The film columns in FilmRecord's order: rows are then built by position.
FILM_COLUMNS = (
    films.c.id, films.c.visit_id, films.c.sop_instance_uid, films.c.pixel_sha256, films.c.path,
    films.c.region, films.c.view, films.c.study_date, films.c.pixel_rows, films.c.pixel_columns,
    films.c.facing, films.c.facing_source, films.c.pixel_aspect_row, films.c.pixel_aspect_col,
)  # fmt: skip


def _film(row: Any) -> FilmRecord:
    """A FilmRecord from a row selected with ``FILM_COLUMNS``."""
    r = tuple(row)
    return FilmRecord(
        r[0], r[1], r[2], r[3], r[4], _REGIONS[r[5]], r[6], r[7], r[8], r[9], r[10], r[11],
        r[12], r[13],
    )


def _film_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` checked and normalised for the films table; raises :class:`ValidationError`."""
    unknown = set(fields) - set(FILM_FIELDS)
    if unknown:
        raise ValidationError(None, f"unknown film field(s): {', '.join(sorted(unknown))}")
    clean = dict(fields)
    if "region" in clean:
        try:
            clean["region"] = Region(clean["region"]).value
        except ValueError:
            raise ValidationError(
                None, f"region must be cervical, lumbar or unknown, got {clean['region']!r}"
            ) from None
    if "study_date" in clean:
        clean["study_date"] = iso_date(clean["study_date"], "study date")
    if "path" in clean:  # absolute: a relative path would depend on the working folder
        clean["path"] = os.path.abspath(clean["path"])
    for key in ("facing", "facing_source"):
        if clean.get(key) is not None:
            clean[key] = str(clean[key])
    if clean.get("facing") not in (None, *FACINGS):
        raise ValidationError(None, f"facing must be 'left' or 'right', got {clean['facing']!r}")
    if clean.get("facing_source") not in (None, *FACING_SOURCES):
        raise ValidationError(
            None, f"facing source must be user, dicom or estimate, got {clean['facing_source']!r}"
        )
    return clean


def film_by_id(conn: Connection, film_id: int) -> FilmRecord:
    """The (non-deleted) film ``film_id``; raises :class:`ValidationError` when there is none."""
    row = conn.execute(
        select(*FILM_COLUMNS).where(films.c.id == film_id, films.c.deleted_utc.is_(None))
    ).first()
    if row is None:
        raise ValidationError(None, f"there is no film with id {film_id}")
    return _film(row)


def update_row(
    conn: Connection,
    actor: audit_log.Actor,
    table: Table,
    row_id: int,
    values: dict[str, Any],
    *,
    entity: str,
    reason: str,
    expected: Mapping[str, Any] | None = None,
) -> dict[str, tuple[Any, Any]]:
    """Change one row's fields inside ``conn``'s transaction, auditing each field that changed.

    Only the fields whose value differs are written, with ``WHERE id = ? AND version = ?`` and
    the version bumped.  ``expected`` is what the caller saw: a field stored differently now
    (and not already what the caller wants) raises
    :class:`~cobbdesk.core.store.conflicts.ConflictError`.  Returns ``{field: (old, new)}`` of
    the fields that actually changed (empty: nothing written).
    """
    row = conn.execute(select(table).where(table.c.id == row_id)).mappings().one()
    clashes = field_conflicts(expected or {}, dict(row), values)
    if clashes:
        raise conflict(entity, row_id, clashes)
    changes = {k: (row[k], v) for k, v in values.items() if row[k] != v}
    if changes:
        written = {k: new for k, (_, new) in changes.items()}
        versioned_update(
            conn, table, table.c.id == row_id, int(row["version"]), written,
            entity=entity, entity_id=row_id,
        )  # fmt: skip
        audit_log.record(conn, actor, entity, row_id, changes, reason=reason)
    return changes


__all__ = [
    "FACINGS",
    "FACING_SOURCES",
    "FILM_COLUMNS",
    "FILM_FIELDS",
    "VISIT_COLUMNS",
    "film_by_id",
    "update_row",
]
