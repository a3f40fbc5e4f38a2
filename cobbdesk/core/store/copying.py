"""Copy a whole study between a file and a server (either direction), and prove the copy equal.

:func:`copy_study` reads every table of the source in one read snapshot and writes them, rows
and ids unchanged — the audit trail and ``meta`` (schema version, audit head, settings)
included — into an *empty* destination in one write transaction: a new file (0600), or a
server database (schema) holding no study.  The copy is a whole *identified* study leaving its
source, so — like an identified export (:mod:`cobbdesk.core.export.writers`) — it is first
recorded in the **source's** audit trail (entity ``copy``: destination, what, identified,
the head before the row; actor: the source's, on a server its database role); the copy then
carries that row too, so both have the same chain head and :func:`digest` proves them equal.
A source that cannot record it (read-only, locked) is refused before anything is copied.

:func:`digest` is, per table, the row count and the SHA-256 of the rows in primary-key order,
each row the canonical JSON of its values in column order (floats by their shortest repr, so
a binary64 value read back from either database gives the same bytes).  Two studies with equal
digests hold the same rows in every table, value for value; with the audit chain verified
(:func:`cobbdesk.core.store.audit.verify`) on both, the copy's history is the source's.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Integer, select

from cobbdesk.core.errors import StoreError, StudyReadOnlyError
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store import dialect, pg_dialect, pg_url
from cobbdesk.core.store.audit import insert_many
from cobbdesk.core.store.schema import metadata
from cobbdesk.core.store.study import Study, StudyLocation

CHUNK = 5_000


@dataclass(frozen=True)
class Digest:
    """Per table: ``(rows, sha256 hex)``; ``head``: the audit head ``seq:hash``."""

    tables: dict[str, tuple[int, str]]
    head: str

    def differences(self, other: Digest) -> list[str]:
        """Tables (and the head) that differ, e.g. ``["audit: 120 rows vs 119"]``."""
        out = []
        for name in sorted(set(self.tables) | set(other.tables)):
            mine, theirs = self.tables.get(name), other.tables.get(name)
            if mine != theirs:
                rows = f"{mine[0] if mine else 0} rows vs {theirs[0] if theirs else 0}"
                out.append(f"{name}: {rows}" if (mine or (0,))[0] != (theirs or (0,))[0]
                           else f"{name}: same row count, different values")  # fmt: skip
        if self.head != other.head:
            out.append(f"audit head {self.head} vs {other.head}")
        return out


def _rows(conn: Connection, table: Any) -> Any:
    """The rows in primary-key order; text keys are sorted here, by code point, since a
    server's collation may order them differently from SQLite's (binary)."""
    order = list(table.primary_key.columns) or list(table.columns)
    rows = conn.execute(select(table).order_by(*order))
    if all(isinstance(c.type, Integer) for c in order):
        return rows
    keys = [list(table.columns).index(c) for c in order]
    return sorted(rows, key=lambda r: tuple((r[k] is not None, r[k]) for k in keys))


def digest(engine: Engine) -> Digest:
    """The :class:`Digest` of the study behind ``engine`` (one read snapshot)."""
    tables: dict[str, tuple[int, str]] = {}
    with engine.connect() as conn, conn.begin():
        names = set(_existing(conn))
        for table in metadata.sorted_tables:
            if table.name not in names:
                continue
            sha, count = hashlib.sha256(), 0
            for row in _rows(conn, table):
                sha.update(json.dumps(list(row), ensure_ascii=False).encode("utf-8") + b"\n")
                count += 1
            tables[table.name] = (count, sha.hexdigest())
        from cobbdesk.core.store import audit

        head = audit.head_text(*audit.head(conn))
    return Digest(tables, head)


def _existing(conn: Connection) -> list[str]:
    from sqlalchemy import inspect

    return list(inspect(conn).get_table_names())


def _empty_server(dest: str) -> tuple[Engine, Path]:
    """An engine on a server schema that holds no study yet."""
    loc = pg_url.parse(dest)
    engine = pg_dialect.engine_for(loc)
    try:
        pg_dialect.reachable_role(engine, loc)  # fails early when unreachable
        with engine.begin() as conn:
            pg_dialect.ensure_schema(conn, loc.schema)
            if pg_dialect.has_schema(conn):
                raise StoreError(loc.path, "the database already holds a study; nothing was "
                                 "copied (copy into an empty database or schema)")  # fmt: skip
    except Exception:
        engine.dispose()
        raise
    return engine, loc.path


def copy_study(source: StudyLocation, dest: StudyLocation) -> Digest:
    """Copy the study at ``source`` into the new or empty ``dest``; returns the proved digest.

    A new file is built beside ``dest`` and published only once its digest equals the
    source's (:func:`cobbdesk.core.store.dialect.publish_new_file`): another program never
    sees an empty or half-copied study under that name, and a failed copy leaves no file.
    Raises StoreError when ``dest`` exists or holds a study, or when the copy's digest differs
    (a server schema is then left for the administrator).  Source faults raise the usual
    store errors; the destination is written in one transaction.
    """
    with Study.open(source) as study:
        if study.read_only:
            raise StudyReadOnlyError(
                study.path, "the study is read-only: the copy could not be recorded in its "
                "audit trail; nothing was copied",
            )  # fmt: skip
        if pg_url.is_url(dest):
            engine, label = _empty_server(str(dest))
            try:
                _record_copy(study, dest)
                return _copy_into(study, engine, label)
            finally:
                engine.dispose()
        return _copy_to_new_file(study, Path(dest))


def _copy_to_new_file(study: Study, target: Path) -> Digest:
    if target.exists():
        raise StoreError(target, dialect.EXISTS)
    _record_copy(study, str(target))
    proved: list[Digest] = []

    def build(tmp: Path) -> None:
        engine = dialect.engine_for(tmp)
        try:
            proved.append(_copy_into(study, engine, target))
        finally:
            engine.dispose()

    dialect.publish_new_file(target, build)
    return proved[0]


def _copy_into(study: Study, engine: Engine, label: Path) -> Digest:
    """Every table of ``study`` into the empty ``engine`` in one transaction, then proved."""
    with study.engine.connect() as reader, reader.begin(), dialect.writing(engine) as out:
        metadata.create_all(out)
        names = set(_existing(reader))
        for table in metadata.sorted_tables:
            if table.name in names:
                _copy_table(reader, out, table)
        if out.dialect.name == "postgresql":
            pg_dialect.reset_sequences(out)
    wanted, got = digest(study.engine), digest(engine)
    if got != wanted:
        problems = "; ".join(wanted.differences(got))
        raise StoreError(label, f"the copy differs from the source ({problems})")
    return got


def destination_label(dest: StudyLocation) -> str:
    """How the audit names a copy's destination: a server's URL without its password, or
    the file's absolute path."""
    if pg_url.is_url(dest):
        return pg_url.parse(dest).url
    return str(Path(dest).absolute())


def _record_copy(study: Study, dest: StudyLocation) -> None:
    """Record the copy in the source's audit trail (as an identified export is recorded:
    one row per field, the head before them, the source's actor).  Raises the store's
    write errors (StudyLockedError, StudyReadOnlyError) — then nothing is copied."""
    changes: dict[str, tuple[object, object]] = {
        "destination": (None, destination_label(dest)),
        "what": (None, "whole study (every table, audit trail included)"),
        "identified": (None, True),
    }
    with study.transaction() as conn:
        changes["audit_head"] = (None, audit_log.head_text(*audit_log.head(conn)))
        audit_log.record(conn, study.actor, "copy", uuid.uuid4().hex, changes,
                         reason="identified copy of the whole study (names, MRNs, dates)")


def _copy_table(reader: Connection, out: Connection, table: Any) -> None:
    """Rows in chunks: SQLite through the driver's executemany; a server through SQLAlchemy's
    multi-row ``INSERT … VALUES`` batches (pg8000's executemany is one round trip a row)."""
    names = [c.name for c in table.columns]
    write = insert_many if out.dialect.name == "sqlite" else _insert_values
    batch: list[dict[str, Any]] = []
    for row in _rows(reader, table):
        batch.append(dict(zip(names, row, strict=True)))
        if len(batch) >= CHUNK:
            write(out, table, batch)
            batch = []
    if batch:
        write(out, table, batch)


def _insert_values(out: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    out.execute(table.insert(), rows)


def study_digest(location: StudyLocation) -> Digest:
    """The digest of the study at ``location`` (opened normally, then closed)."""
    with Study.open(location) as study:
        return digest(study.engine)
