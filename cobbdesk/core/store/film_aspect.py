"""Films imported before CobbDesk recorded Pixel Aspect Ratio: the aspect is taken from the file.

Schema 3 added ``films.pixel_aspect_row/col`` (migration ``_to_v3`` adds them empty), and the
import filled them from Pixel Aspect Ratio (0028,0034) only later, before schema 4.  So an
empty aspect means two things: for a film imported since, "the file had none", i.e. square
pixels (PS3.3 C.7.6.3.1.7), which the identity rule of
:mod:`cobbdesk.core.importing.relink` holds the file to; for a film imported before, "never
read".  The study can tell them apart without a schema change: the migration to schema 4
recorded the state of every film then in the study in the audit trail (reason
:data:`~cobbdesk.core.store.migrations.V4_SNAPSHOT`), and a study created at schema 4 or
later says so in its first audit row.

A film whose aspect was never read gets it from its file — once the file is established to
be the film by its pixel hash — when nothing stored depends on the pixel shape
(:func:`aspect_unrecorded`): no measurement or reading in pixels (their angle was computed
with a pixel shape: square, by the code of that time) and no user calibration, nor any
measurement computed with one (a calibration line gives a spacing through the pixel shape).
Measurements in mm from the header do not depend on it (their spacing's ratio is the shape,
and their spacing is compared with the file's on its own).  A film of that era measured in
pixels keeps its refusal: its saved angles were computed with square pixels, and making them
agree with a non-square file would change saved degrees — re-measure it.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, exists, or_, select

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.store.integrity import SNAPSHOT
from cobbdesk.core.store.migrations import V4_SNAPSHOT
from cobbdesk.core.store.rows import update_row
from cobbdesk.core.store.schema import audit, calibrations, films, measurements, readings

if TYPE_CHECKING:
    from cobbdesk.core.store.study import Study

FIRST_RECORDING_VERSION = 4
"""Every film of a study created at this schema or later had its aspect read at import."""
REASON = (
    "Pixel Aspect Ratio (0028,0034) {row:g}:{col:g} recorded from the film's file at its first "
    "verified opening (imported before CobbDesk recorded it)"
)
_PIXEL_SHAPED = (SpacingSource.NONE.value, SpacingSource.USER.value)
"""Spacing sources of angles computed through the pixel shape: in pixels ("none") and a user
calibration ("user calibration"), made with the film's shape."""

_EARLY: weakref.WeakKeyDictionary[object, frozenset[int]] = weakref.WeakKeyDictionary()


def early_films(conn: Connection) -> frozenset[int]:
    """The ids of the films the study held when it was migrated to schema 4 (none for a study
    created at schema 4 or later: one indexed read; else one pass over the audit trail)."""
    first = conn.execute(select(audit.c.field, audit.c.new_value).where(audit.c.seq == 1)).first()
    if (
        first is not None
        and first.field == "created"
        and _version(first.new_value) >= (FIRST_RECORDING_VERSION)
    ):
        return frozenset()
    rows = conn.execute(
        select(audit.c.entity_id).where(
            audit.c.entity == "film",
            audit.c.field == SNAPSHOT,
            audit.c.reason.startswith(V4_SNAPSHOT, autoescape=True),
        )
    )
    return frozenset(int(r.entity_id) for r in rows)


def _version(text: object) -> int:
    """``"v5"`` → 5; 0 for anything else."""
    value = str(text or "")
    return int(value[1:]) if value[:1] == "v" and value[1:].isdigit() else 0


def aspect_unrecorded(study: Study, conn: Connection, film_id: int) -> bool:
    """True when film ``film_id``'s Pixel Aspect Ratio was never read (an empty aspect on a
    film imported before schema 4) and nothing stored depends on the pixel shape (module
    rules): its file's aspect may then be recorded.  Reads inside ``conn``'s transaction; the
    early films are read once per study."""
    aspect = conn.execute(
        select(films.c.pixel_aspect_row, films.c.pixel_aspect_col).where(films.c.id == film_id)
    ).first()
    if aspect is None or aspect[0] is not None or aspect[1] is not None:
        return False
    if film_id not in _early(study, conn):
        return False
    shaped = [
        exists().where(
            table.c.film_id == film_id,
            table.c.deleted_utc.is_(None),
            table.c.spacing_source.in_(_PIXEL_SHAPED),
        )
        for table in (measurements, readings)
    ]
    calibrated = exists().where(
        and_(calibrations.c.film_id == film_id, calibrations.c.deleted_utc.is_(None))
    )
    return not conn.execute(select(or_(*shaped, calibrated))).scalar()


def _early(study: Study, conn: Connection) -> frozenset[int]:
    found = _EARLY.get(study)
    if found is None:
        found = _EARLY[study] = early_films(conn)
    return found


def record_file_aspect(study: Study, film_id: int, aspect: tuple[float, float] | None) -> bool:
    """Record ``aspect`` (row, column; None: square, nothing to record) on film ``film_id``
    when :func:`aspect_unrecorded` still holds, in one audited transaction (reason
    :data:`REASON`).  Returns True when it was recorded.  Raises the store's errors."""
    if aspect is None:
        return False
    row, col = (float(aspect[0]), float(aspect[1]))
    if not (row > 0 and col > 0):
        return False
    with study.transaction() as conn:
        if not aspect_unrecorded(study, conn, film_id):
            return False
        update_row(
            conn, study.actor, films, film_id,
            {"pixel_aspect_row": row, "pixel_aspect_col": col},
            entity="film", reason=REASON.format(row=row, col=col),
        )  # fmt: skip
    return True


__all__ = [
    "FIRST_RECORDING_VERSION",
    "REASON",
    "aspect_unrecorded",
    "early_films",
    "record_file_aspect",
]
