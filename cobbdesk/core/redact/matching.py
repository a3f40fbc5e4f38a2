"""Finding remembered identifiers in a text, and :func:`redact` itself (rules: the package).

A text is cut into words (runs of letters and digits; connector punctuation such as ``_``
separates words), each folded like the keys (:func:`~cobbdesk.core.redact.keys.fold`).  At each
word, longest first: a run of words equal to a multi-word key (any separators); a run of
words joined by at most :data:`JOIN_LIMIT` *joining* characters (dashes and ``_`` anywhere;
spaces, ``.`` and ``/`` between letters and digits; their compatibility forms too) whose
concatenation is a one-word key of
:data:`~cobbdesk.core.redact.keys.GLUED_LENGTH` or more characters (``MRN-4455667``,
``mrn 4455667`` for ``MRN4455667``); the word itself; a long key glued inside the word.
Birth dates are also found in the spellings D.M.YYYY, M/D/YYYY, YYYY-M-D, DDMMYYYY, with a
month name or an ordinal day (``3 Feb 1961``, ``February 3rd, 1961``), glued (``03FEB1961``),
and with a two-digit year read as 19YY and 20YY (D.M.YY, M/D/YY, YY-MM-DD, DDMMYY, MMDDYY,
YYMMDD): three words around a year (or one word) are read as a date in DA form (PS3.5
section 6.2) and looked up; a study date that is nobody's birth date stays (rule 3 of the
package still hides ISO and DA dates).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from cobbdesk.core.redact.keys import (
    GLUED_LENGTH,
    MIN_LENGTH,
    PC,
    WORD,
    fold,
    materialise,
    registry,
)
from cobbdesk.core.redact.vocabulary import VOCABULARY

MASK = "[redacted]"
JOIN_LIMIT = 3
"""The most joining characters between two words of an identifier spelled across them."""
#: Dashes (Unicode Pd) and connector punctuation (Pc): they also join two digits.
DIGIT_JOINING = (
    "-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a"
    "\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
    + PC.replace("\ufe4d-\ufe4f", "\ufe4d\ufe4e\ufe4f")
)
#: Those, spaces, full stop, solidus, and a label's colon and number sign (``MRN: 4455667``,
#: ``MRN#4455667``), and the characters whose NFKC form is one of them (``．``, ``／``,
#: ``：``, ``＃``, ``\u2024``…; a test checks).
JOINING = (
    " \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000./\u2024\ufe52\uff0e\uff0f\u2044\u2215"
    ":#\ufe13\ufe55\ufe5f\uff03\uff1a" + DIGIT_JOINING
)
_ASCII_WORD = re.compile(r"([a-z0-9]+)")
_CENTURIES = ("19", "20")  # the years of a birth date
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_YEAR_HINT = re.compile(r"(?:19|20)\d\d")
_PN = re.compile(r"(?<![^\W\d_])[^\W\d_][\w'.-]*(?:\^[\w'.-]*)+")  # from a word's 1st letter
_DATE = re.compile(
    r"(?<!\d)(?<!\d\.)(?:19|20)\d\d(-?)(?:0[1-9]|1[0-2])\1(?:0[1-9]|[12]\d|3[01])(?!\d|\.\d)"
)
#: A password inside a database URL (``scheme://user:PASSWORD@host``).
_URL_PASSWORD = re.compile(r"(?<=://)([^:/@\s]*):[^@\s]*@")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = frozenset(_MONTHS) | {
    "january", "february", "march", "april", "june", "july", "august", "sept", "september",
    "october", "november", "december",
}  # fmt: skip
_JOINS = re.compile(f"[{re.escape(JOINING)}]{{1,{JOIN_LIMIT}}}")
_DIGIT_JOINS = re.compile(f"[{re.escape(DIGIT_JOINING)}]{{1,{JOIN_LIMIT}}}")
_DATE_GAP = re.compile(f"[{re.escape(JOINING)}]{{0,2}},?[{re.escape(JOINING)}]{{0,2}}")
_WORD_SPLIT = re.compile(f"({WORD.pattern})")
#: The parts of a date with a two-digit year: a space, ``.``, ``/``, a dash, a comma.
_SHORT_DATE_GAP = re.compile(r"\s?[-./\u2010-\u2015\uff0d\uff0e\uff0f]?\s?|\s?,\s?")
_ORDINAL = re.compile(r"\d\d?(?:st|nd|rd|th)")
_GLUED_MONTH = re.compile(r"(\d\d?)([a-z]{3,9})(\d\d|\d{4})")
#: Text that may hold a date with a two-digit year or a six-digit one (ASCII text without
#: one of these and without a 19xx/20xx skips the date spellings).
_SHORT_HINT = re.compile(
    r"[0-9](?:(?:st|nd|rd|th)?[^0-9a-zA-Z]{1,3}(?:[0-9][0-9]?[^0-9a-zA-Z]{1,3}[0-9]"
    r"|[a-zA-Z]{3,9}\.?[^0-9a-zA-Z]{1,3}[0-9][0-9](?![0-9]))|(?:st|nd|rd|th)?,?\s[0-9][0-9]"
    r"(?![0-9])|[0-9]?[-./][0-9][0-9](?![0-9])|[0-9]{5}(?![0-9])|[a-zA-Z]{3,9}[0-9][0-9](?![0-9]))"
)  # each alternative starts at a digit: the regex engine skips to the digits (fast)


def redact(text: str) -> str:
    """``text`` with remembered identifiers, PN-looking and date-looking values masked."""
    spans = _known_spans(text)
    if spans:
        pieces, last = [], 0
        for start, end in spans:
            pieces += [text[last:start], MASK]
            last = end
        text = "".join(pieces) + text[last:]
    text = _URL_PASSWORD.sub(rf"\1:{MASK}@", text)
    return _DATE.sub(MASK, _PN.sub(MASK, text))


def _known_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every remembered key in ``text``, longest match first, left to right;
    sorted, not overlapping.  Pending identifiers (:func:`~.keys.remember_later`) are built
    first, on this thread (:func:`~.keys.materialise`)."""
    materialise()  # never match while a batch is pending
    reg = registry
    found: list[tuple[int, int]] = []
    with reg.lock:
        if not reg.single and not reg.multi:
            return found
        if text.isascii() or _only_plain_symbols(text):
            parts = _ASCII_WORD.split(text.lower())
            raw = words = parts[1::2]
        else:
            parts = _WORD_SPLIT.split(text)
            raw = parts[1::2]
            words = [fold(w) for w in raw]
        gaps = parts[::2]  # gaps[k]: the text before word k
        joins = [1 if g == " " else _join_kind(g) for g in gaps[1:-1]]
        joins.append(0)  # joins[i]: how word i and the next are joined (_join_kind)
        i = 0
        while i < len(words):
            word = words[i]
            size = _run_at(words, i) if word in reg.starts else 0
            if not size and joins[i]:
                size = _joined_at(words, joins, i)
            if not size and len(word) >= MIN_LENGTH and _is_key_word(word):
                size = 1
            if size:
                found.append(_span(raw, gaps, i, i + size))
            i += size or 1
        hint = _YEAR_HINT.search(text) or not text.isascii() or _SHORT_HINT.search(text)
        dates = _birth_dates(words, raw, gaps) if hint else []
    return _merge(found + dates) if dates else found


def _join_kind(gap: str) -> int:
    """How a gap between two words joins them: 0 not, 1 between letters and digits only (a
    space, ``.``, ``/``), 2 always (dashes, ``_``): :func:`_joins`."""
    if gap == " ":
        return 1
    if _JOINS.fullmatch(gap) is None:
        return 0
    return 2 if _DIGIT_JOINS.fullmatch(gap) else 1


def _only_plain_symbols(text: str) -> bool:
    """Whether every non-ASCII character of ``text`` is a symbol that is its own NFKC form
    and no part of a word (``°``, ``×``, ``…``): the text's words are then its ASCII words,
    found as fast as in ASCII text."""
    return all(map(_plain_symbol, set(_NON_ASCII.findall(text))))


@functools.lru_cache(maxsize=4096)
def _plain_symbol(char: str) -> bool:
    """A character no word holds and NFKC leaves as it is (cached: log lines repeat them)."""
    return (
        WORD.match(char) is None
        and unicodedata.normalize("NFKC", char) == char
        and char.lower() == char
    )


def _span(raw: list[str], gaps: list[str], first: int, stop: int) -> tuple[int, int]:
    """(start, end) in the text of its words ``first`` to ``stop - 1`` (``raw``: the text's
    words as written, ``gaps[k]``: the text before word ``k``)."""
    start = sum(map(len, gaps[: first + 1])) + sum(map(len, raw[:first]))
    inside = sum(map(len, gaps[first + 1 : stop])) + sum(map(len, raw[first:stop]))
    return start, start + inside


def _joined_at(words: list[str], joins: list[int], i: int) -> int:
    """The word count (2 or more) of the longest run from word ``i``, its words joined
    (``joins``: :func:`_join_kind` of each gap), whose concatenation is a one-word key of
    :data:`GLUED_LENGTH` or more characters; 0 when none."""
    reg, joined, j = registry, words[i], i
    if len(joined) >= GLUED_LENGTH and joined[:GLUED_LENGTH] not in reg.prefixes:
        return 0
    while len(joined) < GLUED_LENGTH:
        if not _joins(words, joins, j):
            return 0
        j += 1
        joined += words[j]
    if joined[:GLUED_LENGTH] not in reg.prefixes:
        return 0
    best = 0
    while True:
        if j > i and joined in reg.single:
            best = j - i + 1
        if not _joins(words, joins, j) or len(joined) + len(words[j + 1]) > reg.glued_longest:
            return best
        j += 1
        joined += words[j]


def _joins(words: list[str], joins: list[int], j: int) -> bool:
    """Whether word ``j`` and the next are joined: across a dash or ``_`` always; across a
    space, ``.`` or ``/`` only from letters to digits or back (``MRN 4455667``; not ``a nan
    is``, ``1.2.840``, ``12 345``: words, UIDs, decimals, lists of numbers)."""
    kind = joins[j]
    return kind == 2 or (kind == 1 and words[j][-1].isdigit() != words[j + 1][0].isdigit())


def _birth_dates(words: list[str], raw: list[str], gaps: list[str]) -> list[tuple[int, int]]:
    """(start, end) of every date whose DA form (PS3.5 6.2) is a remembered key, written as
    three words around a year (D.M.YYYY, M/D/YYYY, YYYY-M-D, with an English month name or
    an ordinal day: ``3 Feb 1961``, ``February 3rd, 1961``), around a two-digit year
    (D.M.YY, M/D/YY, YY-MM-DD, ``3 Feb 61``: :func:`_short_year_dates`), or as one word
    (DDMMYYYY, MMDDYYYY, DDMMYY, MMDDYY, YYMMDD, ``03FEB1961``, ``03feb61``).  ``words``
    folded, ``raw`` as written, ``gaps`` the text between them (:func:`_known_spans`)."""
    ranges: list[tuple[int, int]] = []
    for k, word in enumerate(words):
        size = len(word)
        if size in (6, 8) and word.isdigit():
            if _is_compact_birth_date(word):
                ranges.append((k, k + 1))
        elif size == 4 and word[:2] in _CENTURIES and word.isdigit():
            ranges += _around_year(words, gaps, k, (word,), _DATE_GAP)
        elif size == 2 and word.isdigit():
            ranges += _short_year_dates(words, gaps, k)
        elif size >= 5 and word[0].isdigit() and _is_glued_month_date(word):
            ranges.append((k, k + 1))
    return [_span(raw, gaps, first, stop) for first, stop in ranges]


def _around_year(
    words: list[str], gaps: list[str], k: int, years: tuple[str, ...], gap: re.Pattern[str]
) -> list[tuple[int, int]]:
    """Word ranges (first, stop) of the dates with their year at word ``k`` (one of
    ``years``, YYYY): day and month before it (either order) or month and day after it,
    separated by gaps ``gap`` matches whole."""
    found = []
    if k >= 2 and _date_part(words[k - 1]) and _date_part(words[k - 2]):
        a, b = words[k - 2], words[k - 1]  # day first, then month first
        if _date_gaps(gaps[k - 1 : k + 1], gap) and _is_birth_date(years, ((b, a), (a, b))):
            found.append((k - 2, k + 1))
    if k + 3 <= len(words) and _date_part(words[k + 1]) and _date_part(words[k + 2]):
        m, d = words[k + 1], words[k + 2]
        if _date_gaps(gaps[k + 1 : k + 3], gap) and _is_birth_date(years, ((m, d),)):
            found.append((k, k + 3))
    return found


def _short_year_dates(words: list[str], gaps: list[str], k: int) -> list[tuple[int, int]]:
    """:func:`_around_year` for the two-digit year at word ``k`` (19YY or 20YY: a birth
    date's centuries), its parts separated by a space, ``.``, ``/``, a dash or a comma (not
    ``:``: ``03:02:45`` is a time), and not part of a longer dotted or dashed number (a UID
    ``1.2.3.61.4``, a version).  Three numbers need the same ``.``, ``/`` or dash twice
    (``3.2.61``; not a list ``10, 5, 47`` or ``3 2 61``), and a year first two-digit month
    and day (``61-02-03``; not a version ``10.2.3``)."""
    years = ("19" + words[k], "20" + words[k])
    found = []
    for first, stop in _around_year(words, gaps, k, years, _SHORT_DATE_GAP):
        if words[first].isdigit() and words[first + 1].isdigit() and words[stop - 1].isdigit():
            inner = gaps[first + 1]
            if inner != gaps[first + 2] or len(inner) != 1 or inner in " ,":
                continue
            if first == k and len(words[k + 1]) + len(words[k + 2]) != 4:
                continue
        if _isolated(words, gaps, first, stop):
            found.append((first, stop))
    return found


def _isolated(words: list[str], gaps: list[str], first: int, stop: int) -> bool:
    """Whether words ``first`` to ``stop - 1`` are not joined to a number before or after
    them by one non-space character (``1.2.[3.2.61].4``)."""
    before = gaps[first] if first > 0 and words[first - 1][-1].isdigit() else " "
    after = gaps[stop] if stop < len(words) and words[stop][0].isdigit() else " "
    return all(len(g) != 1 or g.isspace() for g in (before, after))


def _is_compact_birth_date(word: str) -> bool:
    """Whether ``word`` of 8 digits (DDMMYYYY, MMDDYYYY) or 6 (DDMMYY, MMDDYY, YYMMDD) is a
    remembered birth date."""
    day_month = ((word[2:4], word[:2]), (word[:2], word[2:4]))
    if len(word) == 8:
        return word[4:6] in _CENTURIES and _is_birth_date((word[4:],), day_month)
    if _is_birth_date(("19" + word[4:], "20" + word[4:]), day_month):
        return True
    return _is_birth_date(("19" + word[:2], "20" + word[:2]), ((word[2:4], word[4:]),))


def _is_glued_month_date(word: str) -> bool:
    """Whether ``word`` is a remembered birth date written DDMONYYYY or DDMONYY
    (``03feb1961``, ``3february61``)."""
    parts = _GLUED_MONTH.fullmatch(word)
    if parts is None or parts[2] not in _MONTH_NAMES:
        return False
    day, month, year = parts.groups()
    years = (year,) if len(year) == 4 else ("19" + year, "20" + year)
    return _is_birth_date(years, ((month, day),))


def _date_part(part: str) -> bool:
    """Whether ``part`` can be a day or month: 1 or 2 digits, an ordinal day (``3rd``), or a
    month's name."""
    if part.isdigit():
        return len(part) <= 2
    if part[:1].isdigit():
        return _ORDINAL.fullmatch(part) is not None
    return part in _MONTH_NAMES


def _date_gaps(gaps: list[str], gap: re.Pattern[str]) -> bool:
    """Whether both ``gaps`` can separate the parts of a date (``gap`` matches them whole)."""
    return all(gap.fullmatch(g) for g in gaps)


def _is_birth_date(years: tuple[str, ...], month_day: tuple[tuple[str, str], ...]) -> bool:
    """Whether one of the (month, day) readings of a date in one of ``years`` (YYYY) is a
    remembered key in DA form."""
    for year in years:
        for month, day in month_day:
            key = _da(year, month, day)
            if key and key in registry.single:
                return True
    return False


def _da(year: str, month: str, day: str) -> str | None:
    """``YYYYMMDD`` of the parts (a month number or English month name, a day of 1 or 2
    digits, or an ordinal ``3rd``), or None when they are not a date's."""
    if _ORDINAL.fullmatch(day):
        day = day[:-2]
    if not (day.isdigit() and len(day) <= 2):
        return None
    if month.isdigit():
        number = int(month) if len(month) <= 2 else 0
    else:
        number = _MONTHS.index(month[:3]) + 1 if month in _MONTH_NAMES else 0
    if not (1 <= number <= 12 and 1 <= int(day) <= 31):
        return None
    return f"{int(year):04d}{number:02d}{int(day):02d}"


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, overlapping ones merged."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _run_at(words: list[str], i: int) -> int:
    """The word count of the longest multi-word key starting at ``words[i]`` (0: none)."""
    for n in range(min(registry.longest, len(words) - i), 1, -1):
        if " ".join(words[i : i + n]) in registry.multi:
            return n
    return 0


def _is_key_word(word: str) -> bool:
    """Whether ``word`` (of :data:`MIN_LENGTH` or more characters) is a remembered key and
    not CobbDesk's own, or holds one glued inside it, or is a name written without its
    separator."""
    if word in registry.single and word not in VOCABULARY:
        return True
    return len(word) >= GLUED_LENGTH and (_holds_glued_key(word) or _is_glued_name(word))


def _is_glued_name(word: str) -> bool:
    """Whether ``word`` of :data:`GLUED_LENGTH` or more characters is a two-word key written
    without its separator (``DoeJane``, ``janedoe``): split after each of its first
    characters that begin a multi-word key (a set lookup per split point)."""
    reg, size = registry, len(word)
    if size < GLUED_LENGTH or word in VOCABULARY:
        return False
    for k in range(2, size - 1):
        if word[:k] in reg.starts and f"{word[:k]} {word[k:]}" in reg.multi:
            return True
    return False


def _holds_glued_key(word: str) -> bool:
    """Whether ``word`` (not CobbDesk's own) holds a one-word key of :data:`GLUED_LENGTH` or
    more characters glued to other letters or digits (``xMRN4455667``, ``SMITHERS20200101``);
    a key starting or ending with a digit does not count where the digits run on
    (``Surname20000`` does not hold ``Surname2000``: a longer number is another number).
    One prefix-set lookup per character, more only where a prefix is found."""
    reg, size = registry, len(word)
    if size <= GLUED_LENGTH or not reg.prefixes or word in VOCABULARY:
        return False
    for i in range(size - GLUED_LENGTH + 1):
        if word[i : i + GLUED_LENGTH] not in reg.prefixes:
            continue
        if i and word[i].isdigit() and word[i - 1].isdigit():
            continue
        for end in range(i + GLUED_LENGTH, min(size, i + reg.glued_longest) + 1):
            if end < size and word[end - 1].isdigit() and word[end].isdigit():
                continue
            if word[i:end] in reg.single and word[i:end] not in VOCABULARY:
                return True
    return False
