"""Reading CSV text: the file's encoding, and each number column's decimal separator.

Encoding (never guessed into garbage column names):

* a byte-order mark decides: UTF-8, UTF-16 (LE/BE) or UTF-32 — the file must then decode;
* no mark: NUL bytes mean UTF-16 without a mark (accepted only when one byte order decodes
  and gives a printable header), else UTF-8, else Windows-1252 (Excel's "CSV (comma
  delimited)", a superset of Latin-1's printable characters) with a note;
* anything else — or a header with control characters — is refused, saying to save the file
  as "CSV UTF-8".

Numbers: ``12,500`` is twelve and a half in Germany and twelve thousand five hundred in the
USA.  A value *shows* its decimal separator when both ``,`` and ``.`` occur (the last one), when
one occurs twice (a thousands separator), or when the digits around it cannot be a thousands
group (not exactly 3 digits after it, or a leading 0, or more than 3 before it).  A value like
``12,500`` or ``1.500`` shows nothing: it is **ambiguous**.  Per column:

1. the values of the column that show a separator decide it (a column showing both is
   refused: every value there with a separator is rejected with the rows of each kind);
2. else the other number columns of the file decide it (if they agree);
3. else the delimiter: a comma-separated file uses the decimal point (the comma is taken);
   a semicolon-separated file uses the decimal comma (Excel's convention where ``,`` is the
   decimal separator); a tab-separated file decides nothing and its ambiguous values are
   refused.

Ambiguous values read by rule 2 or 3 are listed in a note (never silent).  Grouping is
checked: ``1,23,456`` is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cobbdesk.core.errors import ValidationError

SAVE_AS = 'save it from the spreadsheet as "CSV UTF-8" and import that file'
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
)
_NUMBER = re.compile(r"[+-]?[0-9.,]*[0-9][0-9.,]*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")


def _printable(header: str) -> bool:
    return bool(header.strip()) and not _CONTROL.search(header)


def _first_line(text: str) -> str:
    return text.lstrip("\r\n\ufeff").split("\n", 1)[0].rstrip("\r")


def decode(raw: bytes, source: Path) -> tuple[str, list[str]]:
    """The file's text and notes (see the module rules); ValidationError when refused."""
    if raw.startswith(b"PK\x03\x04"):
        raise ValidationError(source, f"is a spreadsheet workbook, not a CSV file; {SAVE_AS}")
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom) :].decode(codec.replace("-sig", ""))
            except UnicodeDecodeError:
                raise ValidationError(
                    source, f"starts with a {name} byte-order mark but is not valid {name}; "
                    f"{SAVE_AS}"
                ) from None  # fmt: skip
            notes = [] if name == "UTF-8" else [f"the file is {name}; it was read as such"]
            return _checked(text, source, name), notes
    if b"\x00" in raw[:4096]:
        for codec in ("utf-16-le", "utf-16-be"):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            if _printable(_first_line(text)):
                return text, [f"the file is {codec.upper()} without a byte-order mark"]
        raise ValidationError(source, f"contains NUL bytes: not a text CSV file; {SAVE_AS}")
    try:
        return _checked(raw.decode("utf-8"), source, "UTF-8"), []
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        raise ValidationError(
            source, f"is neither UTF-8 nor Windows-1252/Latin-1 text; {SAVE_AS}"
        ) from None
    notes = ["the file is not UTF-8; it was read as Windows-1252 (Latin-1)"]
    return _checked(text, source, "Windows-1252"), notes


def _checked(text: str, source: Path, name: str) -> str:
    header = _first_line(text)
    if header and not _printable(header):
        raise ValidationError(
            source, f"read as {name}, its header has unreadable characters; {SAVE_AS}"
        )
    return text


# --- numbers -------------------------------------------------------------------------------
@lru_cache(maxsize=1 << 16)
def shown_decimal(text: str) -> str:
    """``","`` or ``"."`` when ``text`` shows its decimal separator, ``"?"`` when ambiguous,
    ``""`` when it has none (or is not a plain number: left to the value's validator).

    >>> [shown_decimal(t) for t in ("3,5", "12,500", "1.234,5", "1,234,567", "0,500", "17")]
    [',', '?', ',', '.', ',', '']
    """
    body = text.strip().lstrip("+-")
    if not _NUMBER.fullmatch(text.strip()):
        return ""
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        return "," if body.rfind(",") > body.rfind(".") else "."
    if not commas and not dots:
        return ""
    sep = "," if commas else "."
    if commas + dots > 1:
        return "." if sep == "," else ","
    head, tail = body.split(sep)
    if len(tail) != 3 or not 1 <= len(head) <= 3 or head.startswith("0"):
        return sep
    return "?"


@lru_cache(maxsize=1 << 16)
def parse(text: str, decimal: str) -> str:
    """``text`` with ``decimal`` as decimal separator, as plain ``1234.5`` text.

    Raises ValueError with the reason when the thousands grouping is wrong.

    >>> parse("12,500", "."), parse("1.234,5", ","), parse("-3,5", ",")
    ('12500', '1234.5', '-3.5')
    """
    value = text.strip()
    if not _NUMBER.fullmatch(value):
        return value
    thousands = "." if decimal == "," else ","
    whole, _, fraction = value.partition(decimal)
    if decimal in fraction or thousands in fraction:
        raise ValueError(f"{text!r} has separators after its decimal {decimal!r}")
    if thousands in whole:
        digits = whole.lstrip("+-")
        if not re.fullmatch(rf"[0-9]{{1,3}}(\{thousands}[0-9]{{3}})+", digits):
            raise ValueError(f"{text!r}: {thousands!r} is not a thousands separator here")
        whole = whole.replace(thousands, "")
    return f"{whole}.{fraction}" if fraction else whole


@dataclass
class Numbers:
    """Normalised number columns: the decision per column, notes and refused cells."""

    decimal: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: dict[int, list[str]] = field(default_factory=dict)


def _column_evidence(
    rows: list[tuple[int, dict[str, str]]], values: list[str]
) -> tuple[list[str], dict[str, str]]:
    """The separators a column's values show (``","``/``"."``, in that order) and the shown
    decimal of each distinct value (each looked at once: a column repeats its values)."""
    shown_of = {value: shown_decimal(value) for value in set(values)}
    found = set(shown_of.values())
    return [s for s in (",", ".") if s in found], shown_of


def _shown_rows(
    rows: list[tuple[int, dict[str, str]]], values: list[str], shown_of: dict[str, str], sep: str
) -> list[int]:
    return [row for (row, _), value in zip(rows, values, strict=True) if shown_of[value] == sep]


def _rows(rows: Iterable[int]) -> str:
    listed = list(rows)
    return ", ".join(map(str, listed[:3])) + (" …" if len(listed) > 3 else "")


def normalise_numbers(
    rows: list[tuple[int, dict[str, str]]], columns: Sequence[str], delimiter: str
) -> Numbers:
    """Rewrite the number ``columns`` of ``rows`` in place as plain ``1234.5`` text (module
    rules); refused cells are emptied and their reasons listed by row in ``problems``."""
    result = Numbers()
    values = {c: [cells.get(c, "") for _, cells in rows] for c in columns}
    evidence = {c: _column_evidence(rows, values[c]) for c in columns}
    clear = {c: e[0] for c, e in evidence.items()}
    file_wide = {s for shown in clear.values() if len(shown) == 1 for s in shown}
    for column in columns:
        shown = clear[column]
        if len(shown) == 2:
            result.decimal[column] = None
            comma, point = (_shown_rows(rows, values[column], evidence[column][1], sep)
                            for sep in (",", "."))  # fmt: skip
            why = (f"the {column} column mixes decimal commas (rows {_rows(comma)}) and decimal "
                   f"points (rows {_rows(point)}); write every value the same way")  # fmt: skip
            _refuse_separated(rows, column, why, result)
            continue
        decimal, source = _decide(shown, file_wide, delimiter)
        result.decimal[column] = decimal
        _apply(rows, (column, values[column]), decimal, source, result)
    return result


def _decide(shown: list[str], file_wide: set[str], delimiter: str) -> tuple[str | None, str]:
    if shown:
        return shown[0], "its other values"
    if len(file_wide) == 1:
        return next(iter(file_wide)), "the other number columns"
    if delimiter == ",":
        return ".", "the file is comma-separated"
    if delimiter == ";":
        return ",", "the file is semicolon-separated"
    return None, ""


def _refuse_separated(
    rows: list[tuple[int, dict[str, str]]], column: str, why: str, result: Numbers
) -> None:
    for row, cells in rows:
        if shown_decimal(cells.get(column, "")) in (",", ".", "?"):
            result.problems.setdefault(row, []).append(f"{column} = {cells[column]!r}: {why}")
            cells[column] = ""


def _apply(
    rows: list[tuple[int, dict[str, str]]],
    cells_of: tuple[str, list[str]],
    decimal: str | None,
    source: str,
    result: Numbers,
) -> None:
    """Rewrite one column (``(name, its value in each row)``) read with ``decimal``."""
    column, values = cells_of
    ambiguous: list[tuple[int, str, str]] = []
    read: dict[str, tuple[str, bool, str | None] | None] = {}  # each distinct value once
    for value in set(values):
        if value:
            outcome = _read(column, value, decimal)
            read[value] = None if outcome == (value, False, None) else outcome  # None: as is
    for (row, cells), value in zip(rows, values, strict=True):
        known = read.get(value)
        if known is None:  # empty, or read as itself
            continue
        text, is_ambiguous, problem = known
        if problem is not None:
            result.problems.setdefault(row, []).append(problem)
            cells[column] = ""
            continue
        if is_ambiguous:
            ambiguous.append((row, value, text))
        cells[column] = text
    if ambiguous:
        row, raw, read_as = ambiguous[0]
        result.notes.append(
            f"{column}: {len(ambiguous)} value(s) such as {raw!r} (row {row}) read as {read_as}, "
            f"with {decimal!r} as decimal separator because {source}"
        )


def _read(column: str, value: str, decimal: str | None) -> tuple[str, bool, str | None]:
    """``(plain text, ambiguous, problem)`` of one non-empty cell of a number column."""
    is_ambiguous = shown_decimal(value) == "?"
    if is_ambiguous and decimal is None:
        return "", False, (
            f"{column} = {value!r} is ambiguous (a decimal or a thousands separator?); "
            "write it without a thousands separator"
        )  # fmt: skip
    try:
        return parse(value, decimal or "."), is_ambiguous, None
    except ValueError as exc:
        return "", False, f"{column} = {exc}"
