"""The audit trail: who changed what, when (UTC), from what to what, and why.

Rows are written in the same transaction as the change they describe.  Each row stores the
SHA-256 of the previous row's hash and its own content (a hash chain), so editing or deleting
any row — which the database triggers already refuse — is detected by :func:`verify`.

Deleting the *last* rows leaves a valid chain, so every write also stores the chain's head
(row count and last hash) in ``meta.audit_head`` in the same transaction: rows deleted (or
the table emptied) by anything but CobbDesk leave the head pointing past the end, which
:mod:`cobbdesk.core.store.integrity` reports.  Someone who can write the file can rewrite both
consistently; a copy of the head kept elsewhere (``cobbdesk verify --head``) closes that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from json.encoder import encode_basestring as _encode_string
from json.encoder import encode_basestring_ascii as _encode_ascii
from typing import Any

from sqlalchemy import Connection, Table, select

from cobbdesk import __version__
from cobbdesk.core.store import pg_copy
from cobbdesk.core.store.schema import audit, meta

HEAD_KEY = "audit_head"

GENESIS = "0" * 64
_FIELDS = (
    "seq",
    "utc",
    "actor",
    "rater",
    "entity",
    "entity_id",
    "field",
    "old_value",
    "new_value",
    "reason",
    "app_version",
    "prev_hash",
)


def utc_now() -> str:
    """The current UTC time as ISO 8601 to the microsecond with a ``Z`` suffix."""
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


# ``json.dumps(value, sort_keys=True, default=str)`` builds an encoder per call; one is kept.
_JSON = json.JSONEncoder(sort_keys=True, default=str).encode


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    return value if isinstance(value, str) else _JSON(value)


def _scalar_text(value: Any) -> str:
    """``_JSON(value)`` for one scalar, without the encoder's per-call setup for the common
    kinds (finite float, str, None)."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is float and value - value == 0:  # finite: json writes float.__repr__
        return float.__repr__(value)
    if kind is str:
        return _encode_ascii(value)
    return _JSON(value)


_TEMPLATES: dict[tuple[str, ...], tuple[str, tuple[int, ...]]] = {}
_float_repr = float.__repr__


def object_text(names: tuple[str, ...], values: Sequence[Any]) -> str:
    """``_text(dict(zip(names, values)))`` (sorted keys, default separators, ASCII) built from
    a format template kept per ``names`` (distinct ``str`` keys); tests compare both."""
    known = _TEMPLATES.get(names)
    if known is None:
        order = tuple(sorted(range(len(names)), key=names.__getitem__))
        keys = [_encode_ascii(names[i]).replace("{", "{{").replace("}", "}}") for i in order]
        known = _TEMPLATES[names] = ("{{" + ", ".join(f"{k}: {{}}" for k in keys) + "}}", order)
    template, order = known
    ordered = [values[i] for i in order]
    return template.format(*[_float_repr(v) if type(v) is float and v - v == 0 else _scalar_text(v)
                             for v in ordered])  # fmt: skip


def row_hash(row: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the row's fields (including ``prev_hash``)."""
    canonical = json.dumps({k: row[k] for k in _FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _quoted(value: str | None) -> str:
    return "null" if value is None else _encode_string(value)


# The canonical JSON of :func:`row_hash` spelled out (keys sorted, default separators): the
# same bytes, ~8x faster for bulk writes; tests compare both on random rows.
_CANONICAL = (
    '{{"actor": {}, "app_version": {}, "entity": {}, "entity_id": {}, "field": {}, '
    '"new_value": {}, "old_value": {}, "prev_hash": {}, "rater": {}, "reason": {}, '
    '"seq": {}, "utc": {}}}'
)


def fast_row_hash(row: dict[str, Any]) -> str:
    """:func:`row_hash` for rows whose text fields are ``str`` (or None) and ``seq`` an int."""
    canonical = _CANONICAL.format(
        _quoted(row["actor"]), _quoted(row["app_version"]), _quoted(row["entity"]),
        _quoted(row["entity_id"]), _quoted(row["field"]), _quoted(row["new_value"]),
        _quoted(row["old_value"]), _quoted(row["prev_hash"]), _quoted(row["rater"]),
        _quoted(row["reason"]), int(row["seq"]), _quoted(row["utc"]),
    )  # fmt: skip
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who acts: the OS user and the rater chosen in the app."""

    user: str
    rater: str = ""


Change = tuple[str, object, Mapping[str, tuple[Any, Any]], str]
"""One audited change: ``(entity, entity_id, {field: (old, new)}, reason)``."""


def record(
    conn: Connection,
    actor: Actor,
    entity: str,
    entity_id: object,
    changes: Mapping[str, tuple[Any, Any]],
    *,
    reason: str = "",
) -> None:
    """Append one audit row per changed field, chained to the previous row."""
    record_many(conn, actor, [(entity, entity_id, changes, reason)])


def record_many(conn: Connection, actor: Actor, entries: Iterable[Change]) -> int:
    """Append the rows of many changes at once: chained in memory, one ``executemany``.

    Same rows as calling :func:`record` for each entry (one row per field, in order), for bulk
    imports; also moves ``meta.audit_head``.  Returns the number of rows written.
    """
    return record_texts(conn, actor, entry_texts(entries))


Text = tuple[str, str, str, str | None, str | None, str]
"""One audit row's own content: ``(entity, entity id, field, old text, new text, reason)``."""


def entry_texts(entries: Iterable[Change]) -> Iterator[Text]:
    """The :data:`Text` rows of ``entries``: one per field, values as stored (JSON or text)."""
    for entity, entity_id, changes, reason in entries:
        key = str(entity_id)
        for name, (old, new) in changes.items():
            yield entity, key, name, _text(old), _text(new), reason


def record_texts(conn: Connection, actor: Actor, texts: Iterable[Text]) -> int:
    """:func:`record_many` for rows already in their stored text form (a bulk writer encodes
    its values its own way, the same text :func:`_text` gives).  Returns the rows written.

    The hash of each row is :func:`fast_row_hash`'s, its canonical JSON built from a template
    per (entity, field, reason) with every field the rows share already quoted in it.
    """
    seq, prev = head(conn)
    now = utc_now()
    shared = {"actor": actor.user, "rater": actor.rater, "utc": now, "app_version": __version__}
    templates: dict[tuple[str, str, str], str] = {}
    rows: list[tuple[Any, ...]] = []
    sha256 = hashlib.sha256
    for entity, entity_id, field, old_text, new_text, reason in texts:
        seq += 1
        template = templates.get((entity, field, reason))
        if template is None:
            fixed = {**shared, "entity": entity, "field": field, "reason": reason}
            template = templates[entity, field, reason] = _template(fixed)
        canonical = template.format(
            _quoted(entity_id), _quoted(new_text), _quoted(old_text), _quoted(prev), seq
        )
        row_hash_ = sha256(canonical.encode("utf-8")).hexdigest()
        rows.append((seq, now, actor.user, actor.rater, entity, entity_id, field,
                     old_text, new_text, reason, __version__, prev, row_hash_))  # fmt: skip
        prev = row_hash_
    if rows:
        insert_rows(conn, audit, _AUDIT_COLUMNS, rows)
        _store_head(conn, seq, prev)
    return len(rows)


def _template(fixed: Mapping[str, str]) -> str:
    """:data:`_CANONICAL` with the ``fixed`` fields quoted in (braces doubled); the rest —
    entity_id, new_value, old_value, prev_hash, seq — left as ``{}`` in that order."""

    def quoted(name: str) -> str:
        return _quoted(fixed[name]).replace("{", "{{").replace("}", "}}")

    inner = _CANONICAL.format(
        quoted("actor"), quoted("app_version"), quoted("entity"), "{}", quoted("field"), "{}",
        "{}", "{}", quoted("rater"), quoted("reason"), "{}", quoted("utc"),
    )[1:-1]  # fmt: skip
    return "{{" + inner + "}}"  # the object's own braces, kept literal


_AUDIT_COLUMNS = (*_FIELDS, "hash")


def insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """``INSERT`` ``rows`` (same keys each) with one driver-level ``executemany``."""
    if rows:
        names = tuple(rows[0])
        insert_rows(conn, table, names, [tuple(r[n] for n in names) for r in rows])


def insert_rows(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``INSERT`` ``rows`` (tuples in the order of ``names``) with one driver-level
    ``executemany``; columns not in ``names`` get their scalar default (or NULL).

    SQLAlchemy's per-row parameter processing costs ~10 µs a row, most of a bulk import; the
    statement is still compiled by SQLAlchemy for the connection's dialect, and only plain
    ``str``/``int``/``float``/None values are passed.
    """
    if not rows:
        return
    defaults = {
        c.name: c.default.arg  # type: ignore[attr-defined]
        for c in table.columns
        if c.default is not None and getattr(c.default, "is_scalar", False)
    }
    filled = {n: defaults[n] for n in defaults if n not in names}
    compiled = table.insert().values(dict.fromkeys([*names, *filled])).compile(dialect=conn.dialect)
    order = compiled.positiontup
    if order is None:  # a named paramstyle: let SQLAlchemy bind by name
        conn.execute(table.insert(), [{**filled, **dict(zip(names, r, strict=True))} for r in rows])
        return
    source = [*names, *filled]
    extra = tuple(filled.values())
    if list(order) == source:
        rows = [r + extra for r in rows] if extra else rows
    else:  # another column order: reordered per row
        picks = [source.index(n) for n in order]
        rows = [tuple((r + extra)[i] for i in picks) for r in rows]
    sql = str(compiled)
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(sql, rows)
    elif not (conn.dialect.driver == "pg8000" and pg_copy.copy_rows(conn, _target(sql), rows)):
        _insert_multirow(conn, sql, rows)


def _target(sql: str) -> str:
    """``table (columns…)`` of an ``INSERT INTO table (columns…) VALUES …`` statement."""
    return sql.partition("INSERT INTO ")[2].partition(" VALUES ")[0]


#: Bind parameters per statement of :func:`_insert_multirow` (PostgreSQL's protocol: < 32768).
_MAX_PARAMETERS = 32_000


def _insert_multirow(conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]]) -> None:
    """``rows`` as multi-row ``INSERT … VALUES (…), (…)`` statements (pg8000's ``executemany``
    is one round trip per row; this is one per :data:`_MAX_PARAMETERS` values)."""
    head_sql, _, group = sql.rpartition(" VALUES ")
    group = group.partition(" RETURNING ")[0]  # a table whose ids the server assigns
    per = max(1, _MAX_PARAMETERS // max(1, len(rows[0])))
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        statement = f"{head_sql} VALUES {', '.join([group] * len(chunk))}"
        conn.exec_driver_sql(statement, tuple(v for r in chunk for v in r))


def head(conn: Connection) -> tuple[int, str]:
    """``(seq, hash)`` of the last audit row; ``(0, GENESIS)`` for an empty trail."""
    last = conn.execute(
        select(audit.c.seq, audit.c.hash).order_by(audit.c.seq.desc()).limit(1)
    ).first()
    return (int(last[0]), str(last[1])) if last else (0, GENESIS)


def head_text(seq: int, hash_: str) -> str:
    """The head as kept in ``meta`` and printed by ``cobbdesk verify --head``: ``seq:hash``."""
    return f"{seq}:{hash_}"


def stored_head(conn: Connection) -> tuple[int, str] | None:
    """The head recorded in ``meta`` (None when absent); raises ValueError when unreadable."""
    value = conn.execute(select(meta.c.value).where(meta.c.key == HEAD_KEY)).scalar()
    if value is None:
        return None
    seq, _, hash_ = str(value).partition(":")
    return int(seq), hash_


def _store_head(conn: Connection, seq: int, hash_: str) -> None:
    value = head_text(seq, hash_)
    done = conn.execute(meta.update().where(meta.c.key == HEAD_KEY).values(value=value))
    if done.rowcount == 0:
        conn.execute(meta.insert().values(key=HEAD_KEY, value=value))


@dataclass(frozen=True)
class Verification:
    """The audit chain check: ``ok``, the rows read, and the first bad row's ``seq`` and
    what is wrong with it (missing or altered) when not ok.  ``cancelled``: the check was
    stopped by its caller after ``rows`` rows (``ok`` False, nothing was found wrong).
    """

    ok: bool
    rows: int
    first_bad_seq: int | None = None
    problem: str = ""
    cancelled: bool = False


VERIFY_CHUNK = 5_000
"""Audit rows read per statement by :func:`verify` (a cancel request is seen between them)."""


def verify(conn: Connection, cancel: Callable[[], bool] | None = None, *,
           chunk: int | None = None) -> Verification:  # fmt: skip
    """Recompute the chain; report the first row whose content or link does not match.

    Rows are read ``chunk`` (default :data:`VERIFY_CHUNK`) at a time in ``seq`` order
    (keyset: ``seq > last``), one short statement per chunk.  ``cancel`` (a flag readable
    from any thread, e.g. ``threading.Event.is_set``) is asked before each chunk; when it
    is true the check stops and returns ``cancelled=True``.  The chain is SHA-256 over the
    canonical row (:func:`row_hash`).  Raises the store's errors.
    """
    prev, expected_seq, count = GENESIS, 1, 0
    columns = [audit.c[name] for name in _AUDIT_COLUMNS]
    chunk = chunk or VERIFY_CHUNK
    last: int | None = None
    while True:
        if cancel is not None and cancel():
            return Verification(False, count, None, "cancelled", cancelled=True)
        query = select(*columns).order_by(audit.c.seq).limit(chunk)
        if last is not None:
            query = query.where(audit.c.seq > last)
        rows = conn.execute(query).all()
        for values in rows:
            row = dict(zip(_AUDIT_COLUMNS, values, strict=True))
            count += 1
            if row["seq"] != expected_seq:
                return Verification(False, count, row["seq"], f"row {expected_seq} is missing")
            if row["prev_hash"] != prev or _row_hash_of_stored(row) != row["hash"]:
                return Verification(False, count, row["seq"], f"row {row['seq']} was altered")
            prev, expected_seq = row["hash"], expected_seq + 1
        if len(rows) < chunk:
            return Verification(True, count)
        last = int(rows[-1][0])


def _row_hash_of_stored(row: dict[str, Any]) -> str:
    """:func:`row_hash` of a stored row: :func:`fast_row_hash` (the same bytes for text fields
    and an int ``seq``), the canonical JSON when a field is of another kind or it differs."""
    try:
        fast = fast_row_hash(row)
    except (TypeError, ValueError):
        return row_hash(row)
    return fast if fast == row["hash"] else row_hash(row)
