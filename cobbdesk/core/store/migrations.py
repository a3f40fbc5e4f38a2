"""Schema versions: ordered migrations, each run after a backup of the file.

The version lives in the ``meta`` table (portable, unlike SQLite's ``user_version``).
Version 1 was the first study format; version 2 added each film's pixel dimensions and an
index on the pixel hash (used to relink moved films); version 3 added each film's facing (with
its source) and pixel aspect ratio, each measurement's snapping flags and pixel aspect ratio, and
the ``calibrations`` table of user calibrations; version 4 added a ``version`` to every editable
row (optimistic concurrency, :mod:`~cobbdesk.core.store.conflicts`), the audit head in ``meta``
and, in the audit trail, a snapshot of every existing row so that
:mod:`~cobbdesk.core.store.integrity` can replay the trail to the current data; version 5 added
the reading-plan tables (plans, worklist items, opened rounds, readings, skips) of
:mod:`cobbdesk.core.reading` (new tables only: nothing existing changes).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, select, text

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import audit, dialect
from cobbdesk.core.store.integrity import snapshot_entries
from cobbdesk.core.store.schema import (
    SCHEMA_VERSION,
    V4_VERSIONED,
    V5_TABLES,
    calibrations,
    meta,
)


def _to_v2(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE films ADD COLUMN pixel_rows INTEGER"))
    conn.execute(text("ALTER TABLE films ADD COLUMN pixel_columns INTEGER"))
    conn.execute(text("CREATE INDEX ix_films_pixel_sha256 ON films (pixel_sha256)"))


def _to_v3(conn: Connection) -> None:
    for column in ("facing VARCHAR(8)", "facing_source VARCHAR(16)",
                   "pixel_aspect_row FLOAT", "pixel_aspect_col FLOAT"):  # fmt: skip
        conn.execute(text(f"ALTER TABLE films ADD COLUMN {column}"))
    for column in ("upper_snapped INTEGER NOT NULL DEFAULT 0",
                   "lower_snapped INTEGER NOT NULL DEFAULT 0",
                   "pixel_aspect_row FLOAT", "pixel_aspect_col FLOAT"):  # fmt: skip
        conn.execute(text(f"ALTER TABLE measurements ADD COLUMN {column}"))
    calibrations.create(conn)


def _to_v4(conn: Connection) -> None:
    for table in V4_VERSIONED:
        conn.execute(
            text(f"ALTER TABLE {table.name} ADD COLUMN version INTEGER NOT NULL DEFAULT 1")
        )


def _to_v5(conn: Connection) -> None:
    for table in V5_TABLES:
        table.create(conn)


V4_SNAPSHOT = "state at migration to schema 4"
"""How the migration to schema 4 begins the reason of each row's snapshot."""

MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    2: _to_v2, 3: _to_v3, 4: _to_v4, 5: _to_v5,
}  # fmt: skip


def stored_version(conn: Connection, path: Path) -> int:
    """The file's schema version (1..SCHEMA_VERSION); StoreError for anything else.

    Refuses a SQLite file without the ``meta`` table or without a readable version, and a
    study written by a newer CobbDesk — before anything (backup, migration) touches it.
    """
    if not inspect(conn).has_table("meta"):
        raise StoreError(path, "this is not a CobbDesk study (no 'meta' table); it was not changed")
    value = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
    if value is None:
        raise StoreError(
            path,
            "the study has no schema version (meta table, key 'schema_version'); it was not "
            "changed. Open its newest backup, or ask for help repairing it",
        )
    try:
        version = int(value)
    except ValueError:
        raise StoreError(path, f"the study's schema version {value!r} is unreadable") from None
    if version < 1:
        raise StoreError(path, f"the study's schema version {version} is impossible")
    if version > SCHEMA_VERSION:
        raise StoreError(
            path,
            f"this study was written by a newer CobbDesk (schema {version}; this version "
            f"reads up to {SCHEMA_VERSION}); update CobbDesk to open it",
        )
    return version


def migrate(
    engine: Engine, path: Path, actor: audit.Actor, *, server_backup: str | None = None
) -> Path | None:
    """Bring the file to ``SCHEMA_VERSION``; returns the backup made first (None if current).

    On a server there is no file to copy: ``server_backup`` names the administrator's backup
    (``pg_dump``) the caller vouched for, recorded in the audit reason instead.
    """
    with engine.connect() as conn:
        version = stored_version(conn, path)
    if version == SCHEMA_VERSION:
        return None
    saved = None if server_backup else dialect.backup(path, f"v{version}")
    backup_name = server_backup or (saved.name if saved else "")
    with dialect.writing(engine) as conn:
        for target in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[target](conn)
        if version < 4:  # the trail before v4 did not record every field of every insert
            why = f"{V4_SNAPSHOT}; backup {backup_name}"  # store.film_aspect reads it
            audit.record_many(conn, actor, snapshot_entries(conn, why))
        audit.record(
            conn,
            actor,
            "study",
            path.name,
            {"schema_version": (version, SCHEMA_VERSION)},
            reason=f"automatic migration; backup {backup_name}",
        )
        conn.execute(
            meta.update().where(meta.c.key == "schema_version").values(value=str(SCHEMA_VERSION))
        )
    return saved
