"""Everything SQLite-specific: files, pragmas, permissions, checks, backups, triggers.

The rest of the store speaks portable SQLAlchemy Core; studies on a PostgreSQL server have
their counterpart in :mod:`cobbdesk.core.store.pg_dialect` (engine, write lock, triggers, roles).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import DDL, Connection, Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.pool import NullPool, QueuePool

from cobbdesk.core.errors import StoreError, StudyMovedError
from cobbdesk.core.store import checkpoint, faults
from cobbdesk.core.store.file_identity import FileGuard, file_tag
from cobbdesk.core.store.schema import audit
from cobbdesk.core.store.waiting import notice_if_waiting

SUFFIX = ".cobbdesk"
WRITE_OPTION = "cobbdesk_write"
BUSY_TIMEOUT_MS = 10_000
WAL_INFO = "cobbdesk_wal"  # a pooled connection's info: True when it runs in WAL mode
CHANGES_INFO = "cobbdesk_changes"  # … its total_changes when a read transaction began

# The audit table is append-only: the database itself refuses UPDATE and DELETE.
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
)
for _statement in _SQLITE_TRIGGERS:
    event.listen(audit, "after_create", DDL(_statement).execute_if(dialect="sqlite"))  # type: ignore[no-untyped-call]


def _on_connect(dbapi_connection: Any, record: Any) -> None:
    cursor = dbapi_connection.cursor()
    mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()
    record.info[WAL_INFO] = bool(mode) and str(mode[0]).lower() == "wal"
    _read_pragmas(dbapi_connection)


def _read_pragmas(dbapi_connection: Any, _record: Any = None) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def create_file(path: Path) -> None:
    """Create an empty study file readable by its owner only (POSIX 0600).

    SQLite gives the ``-wal`` and ``-shm`` files the database file's permissions.
    """
    if path.exists():
        raise StoreError(path, EXISTS)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


EXISTS = "a file with this name already exists; choose another name"


def publish_new_file(target: Path, build: Callable[[Path], None]) -> None:
    """Create the study file ``target`` complete or not at all.

    ``build(tmp)`` writes the new study into a 0600 file beside ``target`` (and closes every
    connection to it); the file is then left in rollback-journal mode (its WAL checkpointed
    into it, SQLite §"Write-Ahead Logging") and hard-linked to ``target`` — atomic, and
    refused when ``target`` exists (POSIX link(2) EEXIST).  Another program opening
    ``target`` meanwhile finds no file or a complete study, never an empty or half-made one
    (two ``import --create`` started together: one creates, the other opens).  On a file
    system without hard links the name is claimed with O_EXCL and the file moved over it.

    Raises StoreError when ``target`` exists, or when a non-empty ``-wal`` or ``-journal`` is
    at its name (another study's, left by one moved while open: SQLite would apply it to the
    new file, which would then show that study — tested); the temporary files are removed in
    every case.
    """
    if target.exists():
        raise StoreError(target, EXISTS)
    _refuse_leftovers(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}.new")
    create_file(tmp)
    try:
        build(tmp)
        with contextlib.closing(sqlite3.connect(tmp)) as conn:
            conn.execute("PRAGMA journal_mode=DELETE")  # the WAL's pages into the file
        _link(tmp, target)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{tmp}{suffix}")


LEFTOVER = (
    "a {name} file is left at this name (the newest changes of a study moved or renamed while "
    "open); put it back beside its study, or move it away, then try again; nothing was created"
)


def _refuse_leftovers(target: Path) -> None:
    """StoreError when a non-empty ``-wal``/``-journal`` companion is at ``target``'s name."""
    for suffix in ("-wal", "-journal"):
        companion = target.with_name(target.name + suffix)
        with contextlib.suppress(OSError):
            if companion.stat().st_size > 0:
                raise StoreError(target, LEFTOVER.format(name=companion.name))


def _link(tmp: Path, target: Path) -> None:
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise StoreError(target, EXISTS) from None
    except OSError as exc:
        if exc.errno not in {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}:
            raise
        create_file(target)  # no hard links here: claim the name, then move the file over it
        os.replace(tmp, target)


def engine_for(path: Path, *, read_only: bool = False, guard: FileGuard | None = None) -> Engine:
    """A SQLAlchemy engine on the study file with WAL, synchronous=FULL and foreign keys.

    ``read_only`` opens the file through a read-only URI (:func:`read_uri`) and never sets
    the journal mode, so nothing is written.  Driver faults become :mod:`faults` errors
    (locked, read-only, disk full) whose messages carry no SQL parameters; the engine hides
    parameters from its own messages too (``hide_parameters``).  A writable engine checks
    ``guard`` (the file's identity recorded at open; a new one when None) before every write
    transaction and at every commit: StudyMovedError once the file was moved, renamed or
    replaced (:mod:`~cobbdesk.core.store.file_identity`), nothing written.
    """
    if read_only:
        uri = read_uri(path, probe=False)
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
            poolclass=NullPool,
            hide_parameters=True,
        )
        event.listen(engine, "connect", _read_pragmas)
    else:  # mode=rw: a connection never creates the file (a study moved or deleted while
        # open is reported, not replaced by an empty database at its old name)
        uri = f"file:{quote(str(path.resolve()))}?mode=rw"
        guard = guard or FileGuard(path)
        engine = create_engine(
            "sqlite://", creator=_connector(uri, guard), poolclass=QueuePool, hide_parameters=True
        )
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "commit", _committer(guard))
        checkpoint.attach(engine, guard)  # every commit into the file soon (checkpoint)
    event.listen(engine, "connect", _autocommit_driver)
    event.listen(engine, "begin", _beginner(path, None if read_only else guard))
    event.listen(engine, "handle_error", _translator(path, None if read_only else guard))
    return engine


def _connector(uri: str, guard: FileGuard) -> Callable[[], sqlite3.Connection]:
    """The pool's way to a new connection: never to a file other than the one opened.

    A new connection to a *replacing* file would read another study into this one, and
    SQLite would pair it with the ``-wal`` this study left at the name — checkpointing this
    study's pages into the other file at close (tested; https://www.sqlite.org/howtocorrupt.html
    "mispairing database files and hot journals").  One stat per new connection.
    """

    def connect() -> sqlite3.Connection:
        guard.check()
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    return connect


def _translator(path: Path, guard: FileGuard | None = None) -> Any:
    def handle_error(context: ExceptionContext) -> None:
        """Re-raise a driver or OS fault as the user-facing error (:func:`faults.translate`);
        any fault once the file moved (a new connection cannot open it) as that move."""
        problem = guard.problem() if guard is not None else None  # one header read
        if guard is not None and problem is not None:
            raise StudyMovedError(guard.path, problem) from None
        error = faults.translate(context.original_exception, path)
        if error is not None:
            raise error from None

    return handle_error


def read_uri(path: Path, *, probe: bool) -> str:
    """A SQLite URI that reads ``path`` without writing a byte (https://sqlite.org/uri.html).

    ``immutable=1`` creates no ``-wal``/``-shm`` files, but ignores other writers: used for a
    probe (a moment's read of a file with no ``-wal``, i.e. no writer active), in an
    unwritable folder, and for a file whose mode lets nobody write it (e.g. 0400), where no
    writer can work (a ``-shm`` made by reading it would be read-only too, and block the
    writes once the study is made writable again).  A file only *this* user may not write
    is read ``mode=ro``: another account may be writing it.  Otherwise ``mode=ro``, which
    sees other writers' commits (and creates the ``-shm`` index WAL readers need).
    """
    wal = path.with_name(path.name + "-wal")
    try:
        nobody_writes = not path.stat().st_mode & 0o222
    except OSError:
        nobody_writes = False
    unwritable = not os.access(path.parent, os.W_OK) or nobody_writes
    quiet = not wal.exists() and (probe or unwritable)
    return f"file:{quote(str(path.resolve()))}?{'immutable=1' if quiet else 'mode=ro'}"


def probe(path: Path, *, check: bool = True) -> Engine:
    """Check, without changing the file, that ``path`` is an undamaged SQLite database.

    Returns a read-only engine on it (the caller disposes of it).  Raises StoreError for an
    empty file, a file that is not SQLite, or a damaged one (naming the newest backup).
    ``check=False`` leaves out ``PRAGMA quick_check`` (the study open runs it in the
    background: :mod:`~cobbdesk.core.store.background_check`).
    """
    try:  # never open() + close(): that would drop this process's SQLite locks on the
        # file (another study of it may be open here; file_identity.file_tag)
        size = path.stat().st_size
        if not os.access(path, os.R_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    except OSError as exc:
        raise faults.os_error(exc, path) from None
    if not size:
        raise StoreError(path, "the file is empty, not a CobbDesk study; it was not changed")
    if file_tag(path) is None:  # no SQLite header (read through SQLite, immutable)
        raise StoreError(
            path, "this is not a CobbDesk study (not a SQLite database); it was not changed"
        )
    uri = read_uri(path, probe=True)
    engine = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(uri, uri=True), poolclass=NullPool,
        hide_parameters=True,
    )  # fmt: skip
    try:
        if check:
            quick_check(engine, path)
    except Exception:
        engine.dispose()
        raise
    return engine


def _beginner(path: Path, guard: FileGuard | None = None) -> Callable[[Connection], None]:
    """The engine's ``begin`` listener for the study ``path``.

    Writes take the write lock up front (no deadlock upgrading a read); reads never do.  A
    read transaction (WAL) sees a consistent snapshot and never blocks a writer, so a long
    export from the command line cannot stall the viewer's autosave, nor the reverse.  A
    write first checks that the path still names the file opened (``guard``: one stat;
    StudyMovedError before any lock or byte).
    """

    def begin(conn: Connection) -> None:
        if not conn.get_execution_options().get(WRITE_OPTION, False):
            conn.info[CHANGES_INFO] = _changes(conn)  # did it write after all? (commit)
            conn.exec_driver_sql("BEGIN")
            return
        if guard is not None:
            guard.check()
        with notice_if_waiting(path):  # busy wait: say so
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        if guard is not None:
            try:
                _claim(conn, guard)
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise

    return begin


def _claim(conn: Connection, guard: FileGuard) -> None:
    """Under the write lock: the file still holds this study (its tag, read from the disk;
    StudyMovedError otherwise), and a file without the study's tag gets one in this
    transaction (the header's user version; :mod:`~cobbdesk.core.store.file_identity`)."""
    guard.check()
    if guard.tagged:
        return
    stored = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
    tag = guard.claim(stored)
    if tag != stored:
        conn.exec_driver_sql(f"PRAGMA user_version={int(tag)}")


def _committer(guard: FileGuard) -> Callable[[Connection], None]:
    """The engine's ``commit`` listener: the last check before a transaction's changes reach
    the file — whatever path began it (a transaction begun as a read is checked only when it
    changed rows).  Raising here leaves the commit undone; the transaction is rolled back
    (nothing written).  A write in WAL mode also needs its ``-wal`` at its name (it exists
    while the transaction is open; deleted, its commits would be seen by no later
    connection)."""

    def commit(conn: Connection) -> None:
        write = bool(conn.get_execution_options().get(WRITE_OPTION, False))
        if write or conn.info.get(CHANGES_INFO) != _changes(conn):  # a read is never checked
            guard.check(wal=write and bool(conn.info.get(WAL_INFO, False)))

    return commit


def _changes(conn: Connection) -> int:
    """Rows the driver connection has changed since it opened (sqlite3 ``total_changes``)."""
    return int(getattr(conn.connection.dbapi_connection, "total_changes", 0))


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE … COMMIT``, rolled back on error).

    Driver faults (locked, read-only, disk full) arrive as :mod:`faults` errors through the
    engine's ``handle_error`` listener (:func:`engine_for`).  Once committed, a study file's
    ``-wal`` is checkpointed into it on this connection (:mod:`checkpoint`; PostgreSQL: none).
    """
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn
        after = checkpoint.of(engine)
        if after is not None:
            after.after_write(conn.connection.driver_connection)


def _autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN itself


def quick_check(engine: Engine, path: Path) -> None:
    """Refuse a damaged file, naming the newest backup when there is one."""
    try:
        with engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
    except Exception as exc:  # sqlite3.DatabaseError: file is not a database, etc.
        fault = faults.translate(exc, path)
        if fault is not None and not _damage(exc):
            raise fault from None
        rows = [str(getattr(exc, "orig", exc)).splitlines()[0]]
    if rows != ["ok"]:
        backup = newest_backup(path)
        offer = f" The newest backup is {backup.name}." if backup else " No backup was found."
        found = [x.strip() for r in rows for x in r.splitlines() if x.strip() and "***" not in x]
        raise StoreError(
            path, f"the study file is damaged ({'; '.join(found[:3])}); it was not changed.{offer}"
        )


def _damage(exc: BaseException) -> bool:
    """True for SQLite's "damaged file" result codes (CORRUPT, NOTADB)."""
    code = int(getattr(getattr(exc, "orig", exc), "sqlite_errorcode", 0) or 0) & 0xFF
    return code in (faults.SQLITE_CORRUPT, faults.SQLITE_NOTADB)


def backup_path(path: Path, label: str) -> Path:
    """A new backup's path beside ``path``: ``<stem>.<label>.<UTC stamp>.bak.cobbdesk``."""
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
    """The most recently modified backup of ``path`` in its folder (None when none)."""
    candidates = sorted(
        path.parent.glob(f"{path.stem}.*.bak{SUFFIX}"), key=lambda p: p.stat().st_mtime
    )
    return candidates[-1] if candidates else None


def trigger_names(conn: Connection) -> set[str]:
    """The names of the study file's triggers (the audit guards among them)."""
    return {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'"))}


def pragma(engine: Engine, name: str) -> Any:
    """The first value ``PRAGMA <name>`` returns (``name`` is SQL text: never user input)."""
    with engine.connect() as conn:
        return conn.execute(text(f"PRAGMA {name}")).scalar()
