"""Columns of an export query as numpy arrays, straight from the DB-API cursor (no pandas).

The fast export path (:mod:`~cobbdesk.core.export.arrays`) promises the same bytes as the
pandas path; it can only do so for data whose types are what the schema says.  A number
column holding text (edited outside CobbDesk), a text column holding a number or a blob, or
any other surprise raises :class:`Unsupported` and the caller falls back to the pandas path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, case, literal, literal_column, or_

Kind = Literal["f", "i", "t", "T"]
"""``f``: float64 with NaN for NULL; ``i``: int64 (never NULL); ``t``: object array of str
or None (one str object per distinct value); ``T``: as ``t``, never NULL."""
_CHUNK_ROWS = 50_000
"""Rows fetched at a time (the driver's tuples of one chunk are alive at once, not all)."""
_NUMBERS = {float, int, Decimal, type(None)}
"""Python types of a number cell (PostgreSQL's ``numeric``, e.g. ``CASE … THEN 1.0``, is a
Decimal: converted by ``float()`` as pandas' ``astype(float)`` does)."""
_TEXTS = {str, type(None)}


class Unsupported(Exception):  # noqa: N818 - a signal to fall back, not an error
    """The study holds data the fast path does not reproduce exactly; use the pandas path."""


def fetch(conn: Connection, query: Any, kinds: Mapping[str, Kind]) -> dict[str, npt.NDArray[Any]]:
    """Run ``query`` and return its columns (labels as keys) converted as ``kinds`` says.

    The query holds only constants, so it is compiled with literal values (as the pandas
    path does).  Raises :class:`Unsupported` when a value does not have its column's type.
    """
    sql = _sql(conn, query)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    parts: dict[str, list[npt.NDArray[Any]]] = {}
    try:
        cursor.execute(sql)
        names = [d[0] for d in cursor.description]
        parts = {name: [] for name in names}
        shared: dict[str, dict[str, str]] = {name: {} for name in names}
        while rows := cursor.fetchmany(_CHUNK_ROWS):
            for name, values in zip(names, zip(*rows, strict=True), strict=True):
                parts[name].append(_convert(values, kinds[name], shared[name]))
            del rows
    finally:
        cursor.close()
    return {name: _joined(chunks, kinds[name]) for name, chunks in parts.items()}


def fetch_numbers(
    conn: Connection, query: Any, ids: Sequence[str] = ()
) -> dict[str, npt.NDArray[Any]]:
    """Run ``query``, whose every column holds numbers or NULL, and return its columns as
    float64 (NaN for NULL) — the ``ids`` columns as int64 (never NULL, whole, below 2**53).

    The rows go into one 2-D array per chunk (``np.array`` of the driver's tuples: no Python
    list per column).  The caller has checked the stored types (:func:`text_or_blob`
    in the same query, or computed columns); a value numpy cannot read as a number, or a
    NULL or fraction in an id column, raises :class:`Unsupported` all the same.
    """
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    chunks: list[npt.NDArray[np.float64]] = []
    try:
        cursor.execute(_sql(conn, query))
        names = [d[0] for d in cursor.description]
        while rows := cursor.fetchmany(_CHUNK_ROWS):
            try:
                block = np.array(rows, dtype=np.float64)
            except (TypeError, ValueError):
                raise Unsupported("a number column holds text or a blob") from None
            chunks.append(block.reshape(len(rows), len(names)))
            del rows
    finally:
        cursor.close()
    table = np.concatenate(chunks) if chunks else np.empty((0, len(names)))
    columns = {name: table[:, k] for k, name in enumerate(names)}
    for name in ids:
        values = columns[name]
        if not np.all((np.abs(values) < 2.0**53) & (values == np.round(values))):
            raise Unsupported("an id column holds NULL, a fraction or a huge number")
        columns[name] = values.astype(np.int64)
    return columns


def text_or_blob(conn: Connection, columns: Sequence[Any]) -> Any:
    """SQL, for a select list: 1 when one of the number ``columns`` holds text or a blob in
    the row, else 0 or NULL (SQLite keeps any type in any column; a number or NULL sorts
    before any text, a blob after: ``x >= ''`` is true for text and blobs only — SQLite's
    "Datatypes In SQLite" §4.1, comparison with a text literal that has no numeric form);
    the constant 0 on a server, whose columns hold their declared types only."""
    if conn.dialect.name != "sqlite":
        return literal(0)
    return case((or_(*(c >= literal_column("''") for c in columns)), 1), else_=0)


REFUSED = "text or a blob in a number cell"
"""What :func:`number_or_refused` reads instead of such a cell: a text numpy cannot read as
a number, so :func:`fetch_numbers` refuses the row (Unsupported)."""


def number_or_refused(conn: Connection, column: Any) -> Any:
    """SQL: the number ``column``, or :data:`REFUSED` where it holds text or a blob (SQLite
    only; comparison with ``''`` as in :func:`text_or_blob`).  Costs less than a separate
    misfit column when the cell goes through an aggregate filtered to few rows."""
    if conn.dialect.name != "sqlite":
        return column
    return case((column >= literal_column("''"), literal(REFUSED)), else_=column)


def _sql(conn: Connection, query: Any) -> str:
    """``query`` compiled for ``conn``'s database with literal values (constants only)."""
    return str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


def _convert(values: tuple[Any, ...], kind: Kind, shared: dict[str, str]) -> npt.NDArray[Any]:
    types = set(map(type, values))
    if kind in ("t", "T"):
        if not types <= (_TEXTS if kind == "t" else {str}):
            raise Unsupported("a text column holds a number, a blob or a NULL")
        for text in set(values):  # one object per distinct text, across chunks too
            shared.setdefault(text, text)
        out = np.empty(len(values), dtype=object)
        out[:] = list(map(shared.__getitem__, values))  # None maps to itself
        return out
    if not types <= _NUMBERS:
        raise Unsupported("a number column holds text or a blob")
    if kind == "i":
        if type(None) in types:
            raise Unsupported("an id column holds NULL")
        return np.fromiter(values, dtype=np.int64, count=len(values))
    return np.array(values, dtype=np.float64)


def _joined(chunks: list[npt.NDArray[Any]], kind: Kind) -> npt.NDArray[Any]:
    if chunks:
        return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    return np.empty(0, dtype={"f": np.float64, "i": np.int64}.get(kind, object))
