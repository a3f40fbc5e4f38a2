"""Everything database-specific: SQLite files, pragmas, permissions, checks, backups, triggers.

The rest of the store speaks portable SQLAlchemy Core; a PostgreSQL server for shared
multi-rater studies would need its own engine factory and trigger DDL here, nothing else.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DDL, Connection, Engine, create_engine, event, text

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store.schema import audit

SUFFIX = ".cobbdesk"
WRITE_OPTION = "cobbdesk_write"
BUSY_TIMEOUT_MS = 10_000

# The audit table is append-only: the database itself refuses UPDATE and DELETE.
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
)
for _statement in _SQLITE_TRIGGERS:
    event.listen(audit, "after_create", DDL(_statement).execute_if(dialect="sqlite"))  # type: ignore[no-untyped-call]


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def create_file(path: Path) -> None:
    """Create an empty study file readable by its owner only (POSIX 0600).

    SQLite gives the ``-wal`` and ``-shm`` files the database file's permissions.
    """
    if path.exists():
        raise StoreError(path, "a file with this name already exists; choose another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def engine_for(path: Path) -> Engine:
    """A SQLAlchemy engine on the study file with WAL, synchronous=FULL and foreign keys."""
    engine = create_engine(f"sqlite:///{path}", future=True)
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "connect", _autocommit_driver)
    event.listen(engine, "begin", _begin)
    return engine


def _begin(conn: Connection) -> None:
    """Writes take the write lock up front (no deadlock upgrading a read); reads never do.

    A read transaction (WAL) sees a consistent snapshot and never blocks a writer, so a long
    export from the command line cannot stall the viewer's autosave, nor the reverse.
    """
    write = conn.get_execution_options().get(WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE … COMMIT``, rolled back on error)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN itself


def quick_check(engine: Engine, path: Path) -> None:
    """Refuse a damaged file, naming the newest backup when there is one."""
    try:
        with engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
    except Exception as exc:  # sqlite3.DatabaseError: file is not a database, etc.
        rows = [str(getattr(exc, "orig", exc)).splitlines()[0]]
    if rows != ["ok"]:
        backup = newest_backup(path)
        offer = f" The newest backup is {backup.name}." if backup else " No backup was found."
        raise StoreError(
            path, f"the study file is damaged ({'; '.join(rows[:3])}); it was not changed.{offer}"
        )


def backup_path(path: Path, label: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return path.with_name(f"{path.stem}.{label}.{stamp}.bak{SUFFIX}")


def backup(path: Path, label: str) -> Path:
    """A consistent copy through SQLite's backup API (never a raw file copy), mode 0600."""
    target = backup_path(path, label)
    create_file(target)
    source = sqlite3.connect(path)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    return target


def newest_backup(path: Path) -> Path | None:
    candidates = sorted(
        path.parent.glob(f"{path.stem}.*.bak{SUFFIX}"), key=lambda p: p.stat().st_mtime
    )
    return candidates[-1] if candidates else None


def pragma(engine: Engine, name: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(f"PRAGMA {name}")).scalar()
