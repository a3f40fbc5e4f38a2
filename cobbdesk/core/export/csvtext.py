"""CSV text rules shared by every CSV writer (no pandas): formula neutralising and quoting.

Text cells that start with ``= + - @``, tab or CR get a leading ``'`` (OWASP CSV injection),
and so does every line inside a cell that starts with one.  Fields are quoted as the
:mod:`csv` module quotes them (RFC 4180; a field holding a comma, a quote, a CR or an LF is
enclosed in quotes, inner quotes doubled).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
_INNER_LINE = re.compile(r"([\r\n])(?=[=+\-@\t\r])")
NEEDS_CARE = r"^[=+\-@\t\r]|[\r\n]"
"""Text cells :func:`neutralise` may change (a formula start, or a line break inside)."""
_NEEDS_CARE = re.compile(NEEDS_CARE)
_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def neutralise(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula, and to each line inside it
    that starts like one.

    >>> neutralise("=HYPERLINK(1)"), neutralise("-2"), neutralise("P001"), neutralise("")
    ("'=HYPERLINK(1)", "'-2", 'P001', '')
    >>> neutralise("Ann\\r=cmd"), neutralise("a\\r\\n@b")
    ("Ann\\r'=cmd", "a\\r\\n'@b")
    """
    text = _INNER_LINE.sub(r"\1'", text)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def safe_field(text: str) -> str:
    """``text`` neutralised and quoted as one CSV field (quotes only when needed).

    The quoting is the :mod:`csv` module's minimal quoting with a CRLF line terminator, so a
    lone CR is quoted as well as an LF (see :func:`csv_lines`).

    >>> safe_field("a,b"), safe_field('=a"b'), safe_field("P001"), safe_field("x\\ry")
    ('"a,b"', '"\\'=a""b"', 'P001', '"x\\ry"')
    """
    if _NEEDS_CARE.search(text):
        text = neutralise(text)
    if _NEEDS_QUOTES.search(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_lines(rows: Iterable[Iterable[Any]]) -> str:
    """Rows as CSV with ``\\n`` line ends, every field quoted by the csv module as needed.

    The writer's line terminator is CRLF so that it quotes fields holding CR *or* LF (with
    ``\\n`` alone, Python's csv leaves a lone CR unquoted); each record's own CRLF is then
    turned into ``\\n``.

    >>> csv_lines([["a\\rb", 'a"b', "x,y", 1.5]])
    '"a\\rb","a""b","x,y",1.5\\n'
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    lines = []
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        lines.append(buffer.getvalue()[:-2] + "\n")
    return "".join(lines)
