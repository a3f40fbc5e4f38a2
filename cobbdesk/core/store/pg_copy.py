"""Bulk inserts on PostgreSQL by ``COPY … FROM STDIN`` (text format).

A multi-row ``INSERT`` of a 10,000-film import carries ~1.9 million bind parameters; pg8000
rewrites the placeholders of every statement character by character in Python
(``convert_paramstyle``), which took more client time than everything else of the import.
``COPY`` sends the rows as one stream of text lines (PostgreSQL documentation, "COPY", File
Formats — Text Format): columns separated by a tab, rows by a newline, NULL as ``\\N``, and a
backslash, tab, newline or carriage return inside a value escaped as ``\\\\``, ``\\t``,
``\\n``, ``\\r``.  Row triggers and constraints apply as for ``INSERT``; the rows are written
in the caller's transaction.

Only ``str``, ``int`` and finite or infinite ``float`` values (and None) are sent this way;
:func:`copy_rows` returns False for anything else (bool, bytes, dates…) and the caller keeps
its ``INSERT`` path.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

#: Fewer rows than this go by ``INSERT`` (one short statement is cheaper than a COPY).
MIN_ROWS = 200
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = {math.inf: "Infinity", -math.inf: "-Infinity"}


def copy_rows(conn: Connection, target: str, rows: Sequence[tuple[Any, ...]]) -> bool:
    """``COPY target FROM STDIN`` with ``rows``; False (nothing sent) when a value is not
    ``str``/``int``/``float``/None or there are fewer than :data:`MIN_ROWS` rows.

    ``target`` is the table and its column list as in the ``INSERT`` (``audit (seq, utc,
    …)``), the columns in the order of each row's values.
    """
    if len(rows) < MIN_ROWS:
        return False
    text = _lines(rows)
    if text is None:
        return False
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:  # pg8000's COPY extension: the rows from a readable stream
        cursor.execute(f"COPY {target} FROM STDIN", stream=io.BytesIO(text.encode("utf-8")))
    finally:
        cursor.close()
    return True


def _lines(rows: Sequence[tuple[Any, ...]]) -> str | None:
    """The text-format lines of ``rows``, or None when a value is of another kind."""
    lines = []
    for row in rows:
        fields = []
        for value in row:
            kind = type(value)
            if kind is str:
                fields.append(value.translate(_ESCAPES))
            elif value is None:
                fields.append("\\N")
            elif kind is int:
                fields.append(str(value))
            elif kind is float:
                fields.append(_float(value))
            else:
                return None
        lines.append("\t".join(fields))
    lines.append("")
    return "\n".join(lines)


def _float(value: float) -> str:
    """A float as PostgreSQL's float8 input reads it back to the same double."""
    if math.isnan(value):
        return "NaN"
    return _SPECIAL.get(value) or repr(value)
