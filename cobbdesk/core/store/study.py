"""A study: one SQLite file holding patients, visits, films, measurements, labs and the audit.

Every public method that writes is one transaction (``BEGIN IMMEDIATE … COMMIT``) including its
audit rows, so a crash leaves either the whole user action or none of it.

>>> import tempfile, pathlib
>>> study = Study.create(pathlib.Path(tempfile.mkdtemp()) / "demo.cobbdesk", actor="nurse")
>>> pid = study.add_patient("P001", sex="F")
>>> vid = study.add_visit(pid, "admission", visit_date="20260105")
>>> study.visits(pid)[0].visit_date
'2026-01-05'
>>> study.verify_audit().ok
True
>>> study.close()
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.pool import Pool

from cobbdesk.core import redact
from cobbdesk.core.errors import StoreError, StudyReadOnlyError
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store import checkpoint, dialect, faults, pg_dialect, pg_url
from cobbdesk.core.store.background_check import BackgroundCheck
from cobbdesk.core.store.calibration import CalibrationRecords
from cobbdesk.core.store.checks import StudyChecks
from cobbdesk.core.store.clinical import ClinicalRecords
from cobbdesk.core.store.entities import _PATIENT_FIELDS, EntityRecords
from cobbdesk.core.store.file_identity import FileGuard
from cobbdesk.core.store.films import FilmEditing
from cobbdesk.core.store.integrity import Integrity, check_integrity
from cobbdesk.core.store.migrations import migrate, stored_version
from cobbdesk.core.store.overview import patient_identifiers, study_overview
from cobbdesk.core.store.records import (
    FilmRecord,
    Patient,
    PatientOverview,
    Region,
    Visit,
    VisitKind,
    iso_date,
)
from cobbdesk.core.store.rows import (  # re-exported: older callers import them from here
    FILM_COLUMNS,
    VISIT_COLUMNS,
    _film,
    _film_fields,
    _visit,
    update_row,
)
from cobbdesk.core.store.schema import SCHEMA_VERSION, meta, metadata

StudyLocation = str | os.PathLike[str]
"""A study file's path, or a PostgreSQL URL (:mod:`~cobbdesk.core.store.pg_url`)."""


def _actor(actor: audit_log.Actor | str | None) -> audit_log.Actor:
    if isinstance(actor, audit_log.Actor):
        return actor
    user = getpass.getuser()
    return audit_log.Actor(user, actor or user)


class Study(CalibrationRecords, FilmEditing, StudyChecks, ClinicalRecords, EntityRecords):
    """One study: a SQLite file (or a schema on a PostgreSQL server) and the audit's actor.

    Build it with :meth:`create` or :meth:`open`, use it as a context manager (or call
    :meth:`close`).  Every writing method is one audited transaction (:meth:`transaction`):
    StudyReadOnlyError when the study opened read-only, StudyLockedError, DiskFullError or
    StoreError for the database's faults (nothing saved), ValidationError for impossible values.
    Patients, visits and films come from :class:`EntityRecords`, measurements and labs from
    :class:`ClinicalRecords`, film edits from :class:`FilmEditing`, calibrations from
    :class:`CalibrationRecords`, checks from :class:`StudyChecks`.
    """

    #: The file's quick_check, running after the open (None: a new file or a server).
    file_check: BackgroundCheck | None = None
    #: The file's identity recorded at open; writes check it (None: read-only or a server).
    file_guard: FileGuard | None = None
    #: Set by :meth:`close`.
    closed: bool = False
    _closed_pools: tuple[Pool, ...] | list[Pool] = ()

    def __init__(
        self,
        path: Path | pg_url.ServerLocation,
        actor: audit_log.Actor | str | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        """A study at ``path``: a file, or a server (``server``; ``path`` is then its label and
        ``location`` its URL without password).  On a server the audit's actor is the
        database role (``current_user``); ServerUnavailableError when it cannot be reached."""
        self.server = path if isinstance(path, pg_url.ServerLocation) else None
        self.path = path if isinstance(path, Path) else path.path
        self.location: Path | str = self.path if self.server is None else self.server.url
        self.actor = _actor(actor)
        self.read_only = read_only
        self.backup_made: Path | None = None
        self._seen_measurements: dict[str, dict[str, Any]] = {}
        if self.server is None:  # writes refused once the file moved (file_identity)
            self.file_guard = None if read_only else FileGuard(self.path)
            self.engine = dialect.engine_for(self.path, read_only=read_only, guard=self.file_guard)
            return
        self.engine = pg_dialect.engine_for(self.server, read_only=read_only)
        try:
            role = pg_dialect.reachable_role(self.engine, self.server)
        except Exception:
            self.engine.dispose()
            raise
        rater = actor.rater if isinstance(actor, audit_log.Actor) else actor
        self.actor = audit_log.Actor(role, rater or role)

    @classmethod
    def create(cls, path: StudyLocation, actor: audit_log.Actor | str | None = None) -> Study:
        """A new, empty study: a 0600 file, or the schema in an empty server database
        (StoreError when the database already holds a study)."""
        if pg_url.is_url(path):
            loc = pg_url.parse(path)
            study = cls(loc, actor)
            with study.engine.begin() as conn:
                pg_dialect.ensure_schema(conn, loc.schema)
                taken = pg_dialect.has_schema(conn)
            if taken:
                study.close()
                raise StoreError(
                    study.path, "the database already holds a study; it was not changed"
                )
            study._write_schema(study.path.name)
            return study
        target = Path(path)

        def build(tmp: Path) -> None:
            with cls(tmp, actor) as new:
                new._write_schema(target.name)

        dialect.publish_new_file(target, build)
        return cls(target, actor)

    def _write_schema(self, name: str) -> None:
        """The tables, the schema version and the audit's first entry (``name``: the study)."""
        with self.transaction() as conn:
            metadata.create_all(conn)
            conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
            created = {"created": (None, f"v{SCHEMA_VERSION}")}
            audit_log.record(conn, self.actor, "study", name, created)

    @classmethod
    def open(
        cls,
        path: StudyLocation,
        actor: audit_log.Actor | str | None = None,
        *,
        read_only: bool = False,
        i_have_a_backup: bool = False,
        defer_check: bool = False,
    ) -> Study:
        """Open a study; refuse, without changing a byte, anything that is not a sound one.

        The file is first read through a read-only URI (:func:`dialect.probe`): an empty,
        foreign (not SQLite, or SQLite without CobbDesk's ``meta``), version-less or newer
        file raises StoreError before any backup, migration or journal-mode switch.  SQLite's
        ``quick_check`` then runs in the background (:attr:`file_check`): a damaged file is
        refused before any write — the first write, and a migration, wait for the result —
        and a with-block that only read raises the damage when it ends
        (:mod:`~cobbdesk.core.store.background_check`); ``defer_check``: the caller starts
        it (``file_check.start()``, the GUI after its first paint), the first write at the
        latest.  A
        study whose file or folder cannot be written (or ``read_only``) opens read-only:
        reading works, every write raises StudyReadOnlyError.  An older schema is migrated
        after a backup; that needs write access (StudyReadOnlyError otherwise).

        ``path`` may be a PostgreSQL URL (:meth:`_open_server`; ``i_have_a_backup`` allows a
        migration there).
        """
        if pg_url.is_url(path):
            return cls._open_server(pg_url.parse(path), actor, read_only, i_have_a_backup)
        target = Path(path)
        if not target.is_file():
            raise StoreError(target, "a folder, not a study file" if target.is_dir()
                             else "no such study file")  # fmt: skip
        probe = dialect.probe(target, check=False)
        try:
            with probe.connect() as conn:
                version = stored_version(conn, target)
        except StoreError:
            raise
        except Exception:  # the meta table cannot be read: the full check says why
            dialect.quick_check(probe, target)
            raise
        finally:
            probe.dispose()
        read_only = read_only or not faults.writable(target)
        if read_only and version < SCHEMA_VERSION:
            raise StudyReadOnlyError(
                target,
                f"the study needs upgrading from schema {version} to {SCHEMA_VERSION}, which "
                f"needs write access ({faults.read_only_reason(target)}); it was not changed",
            )
        study = cls(target, actor, read_only=read_only)
        try:
            study.file_check = BackgroundCheck(target, start=not defer_check)
            if not read_only and version < SCHEMA_VERSION:  # a backup and writes: checked first
                study.file_check.raise_if_damaged()
                study.backup_made = migrate(study.engine, target, study.actor)
            redact.remember_later(*patient_identifiers(study))  # deleted too; built on use
        except Exception:
            study.close()
            raise
        return study

    @classmethod
    def _open_server(
        cls,
        loc: pg_url.ServerLocation,
        actor: audit_log.Actor | str | None,
        read_only: bool,
        i_have_a_backup: bool,
    ) -> Study:
        """Open a server study; an older schema is migrated only with ``i_have_a_backup``
        (the administrator's ``pg_dump``: CobbDesk cannot copy a server database itself)."""
        study = cls(loc, actor, read_only=read_only)
        try:
            with study.engine.connect() as conn:
                if not pg_dialect.has_schema(conn):
                    raise StoreError(study.path, "the database holds no CobbDesk study; create "
                                     "one with: cobbdesk server init URL")  # fmt: skip
                version = stored_version(conn, study.path)
            if version < SCHEMA_VERSION and (read_only or not i_have_a_backup):
                raise StoreError(
                    study.path,
                    f"the study needs upgrading from schema {version} to {SCHEMA_VERSION}; "
                    "back the database up (pg_dump), then run: cobbdesk server migrate URL "
                    "--i-have-a-backup; it was not changed",
                )
            if version < SCHEMA_VERSION:
                migrate(study.engine, study.path, study.actor,
                        server_backup="the administrator's (--i-have-a-backup)")  # fmt: skip
            redact.remember_later(*patient_identifiers(study))  # deleted too; built on use
        except Exception:
            study.close()
            raise
        return study

    def close(self) -> None:
        """Release the database connections (the file is not checked; see ``__exit__``)."""
        self.closed = True
        after = checkpoint.of(self.engine)
        if after is not None:  # the -wal emptied into the file, without waiting
            after.close()
        # a connection checked out now returns to this pool later (close may run twice)
        self._closed_pools = [*self._closed_pools, self.engine.pool]
        self.engine.dispose()

    def release_if_closed(self) -> None:
        """Close the connections a worker thread used while the study was being closed.

        A background read (browser checks, the Raters panel, the audit-head poll) may still
        hold a pooled connection when the window closes the study; SQLAlchemy's dispose
        closes only idle connections, so the one checked out returns to the old pool later
        (or a new one is opened) and nobody would close it.  Workers call this when they are
        done with the study.
        """
        if self.closed:
            for pool in self._closed_pools:
                pool.dispose()
            self.engine.dispose()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        if exc[0] is None and self.file_check is not None:
            self.file_check.raise_if_damaged()  # what only read learns of damage at the end

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction; StudyReadOnlyError at once when the study opened read-only.

        Faults become StudyLockedError, StudyReadOnlyError or DiskFullError (nothing saved).
        """
        if self.read_only:
            raise faults.read_only(self.path)
        if self.file_check is not None:
            self.file_check.raise_if_damaged()  # a damaged file is never written
        with dialect.writing(self.engine) as conn:
            yield conn

    def set_rater(self, rater: str) -> None:
        """Record later changes under ``rater`` (blank: the login user's name) in the audit."""
        self.actor = audit_log.Actor(self.actor.user, rater.strip() or self.actor.user)

    def overview(self) -> list[PatientOverview]:
        """Every patient with visits, films and counts, for the study browser."""
        return study_overview(self)

    def verify_audit(self, cancel: Callable[[], bool] | None = None) -> audit_log.Verification:
        """Recompute the audit's hash chain: the first missing or altered row, if any;
        ``cancel`` is asked between chunks of rows (true: ``cancelled``, see
        :func:`~cobbdesk.core.store.audit.verify`)."""
        with self.engine.connect() as conn:
            return audit_log.verify(conn, cancel)

    def verify_integrity(self, expect_head: str | None = None) -> Integrity:
        """The audit chain, its recorded head, its guards and the data replayed from it
        (:func:`~cobbdesk.core.store.integrity.check_integrity`); one read snapshot.  Waits
        for the file's quick_check first (StoreError when the file is damaged)."""
        if self.file_check is not None:
            self.file_check.raise_if_damaged()
        with self.engine.connect() as conn, conn.begin():
            return check_integrity(conn, expect_head)


__all__ = [  # the names moved to entities.py stay importable from here
    "FILM_COLUMNS",
    "VISIT_COLUMNS",
    "_PATIENT_FIELDS",
    "FilmRecord",
    "Patient",
    "PatientOverview",
    "Region",
    "Study",
    "StudyLocation",
    "Visit",
    "VisitKind",
    "_film",
    "_film_fields",
    "_visit",
    "iso_date",
    "update_row",
]
