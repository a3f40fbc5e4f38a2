"""Birth dates in their usual spellings: a date written as words around a year, or as one
word, read in DICOM DA form (PS3.5 section 6.2) and looked up among the remembered keys.

Spellings: D.M.YYYY, M/D/YYYY, YYYY-M-D, DDMMYYYY, with a month name or an ordinal day
(``3 Feb 1961``, ``February 3rd, 1961``, ``Third of February 1961``; month names of seven
languages and Roman numerals, :mod:`~.months`: ``3. Februar 1961``, ``3 févr. 1961``,
``3 de febrero de 1961``, ``3.II.1961``), with ``of``, ``the`` or ``de`` between the parts of
such a date (``3rd of February 1961``, ``February the 3rd, 1961``), glued (``03FEB1961``), and
with a two-digit year read as 19YY and 20YY (D.M.YY, M/D/YY, YY-MM-DD, DDMMYY, MMDDYY,
YYMMDD), also after a mark of the elided century (``Feb 3 '61``, ``3 Feb. ’61``:
:data:`~.characters.YEAR_MARKS`).  A study date that
is nobody's birth date stays (rule 3 of the package still hides ISO and DA dates).
"""

from __future__ import annotations

import re

from cobbdesk.core.redact.characters import JOINING, YEAR_MARK_LETTERS, YEAR_MARKS
from cobbdesk.core.redact.keys import registry
from cobbdesk.core.redact.months import MONTHS, ROMAN_MONTHS, SPELLED_DAYS, TENS

_CENTURIES = ("19", "20")  # the years of a birth date
_YEAR_HINT = re.compile(r"(?:19|20)\d\d")
_MONTH_NUMBERS = MONTHS | ROMAN_MONTHS  # ``feb``, ``februar``, ``févr``, ``ii``
_MONTH_NAMES = frozenset(_MONTH_NUMBERS)
_DATE_GAP = re.compile(f"[{re.escape(JOINING)}]{{0,2}},?[{re.escape(JOINING)}]{{0,2}}")
#: The parts of a date with a two-digit year: a space, ``.``, ``/``, a dash, a comma (after
#: an abbreviation's full stop: ``3-Feb.-61``).
_SHORT_DATE_GAP = re.compile(r"\.?(?:\s?[-./\u2010-\u2015\uff0d\uff0e\uff0f]?\s?|\s?,\s?)")
_ORDINAL = re.compile(r"\d\d?(?:st|nd|rd|th)")
_GLUED_MONTH = re.compile(r"(\d\d?)([^\W\d_]{3,10})(\d\d|\d{4})")
#: Words that may stand between a date's parts (``3rd of February``, ``February the 3rd``).
_FILLERS = frozenset({"of", "the", "de"})  # ``3 de febrero de 1961``
#: Words after which three dotted numbers are a version, never a birth date
#: (``version 1.26.10``, ``ver. 3.12.10``), and the gap between them and the numbers.
VERSION_LABELS = frozenset({"version", "ver", "v", "release", "rel", "build", "revision", "rev"})
_LABEL_GAP = re.compile(r"[.:=]?\s+|[.:=]")
#: Text that may hold a date with a two-digit year or a six-digit one (ASCII text without
#: one of these and without a 19xx/20xx skips the date spellings).
_SHORT_HINT = re.compile(
    r"[0-9](?:(?:[sS][tT]|[nN][dD]|[rR][dD]|[tT][hH])?[^0-9a-zA-Z]{1,3}(?:[0-9][0-9]?"
    r"[^0-9a-zA-Z]{1,3}[0-9]|[a-zA-Z]{3,10}\.?[^0-9a-zA-Z]{1,3}[0-9][0-9](?![0-9])|[0-9][0-9]"
    r"(?![0-9])|(?:[oO][fF]|[tT][hH][eE])\s|[ivxIVX]{1,4}[^0-9a-zA-Z]{1,3}[0-9][0-9](?![0-9]))"
    r"|[0-9]{5}(?![0-9])|[a-zA-Z]{3,10}[0-9][0-9](?![0-9]))"
)  # each alternative starts at a digit: the regex engine skips to the digits (fast)
#: A two-digit year after an ASCII mark of its elided century (``Third of Feb '61``).
_MARKED_YEAR = re.compile(r"['`][0-9][0-9](?![0-9])")


def may_hold_date(text: str) -> bool:
    """Whether ``text`` may hold a birth date in one of the module's spellings (a quick
    pre-check: ASCII text without a 19xx/20xx year or a two-digit year's shape holds none)."""
    if _YEAR_HINT.search(text) or not text.isascii() or _SHORT_HINT.search(text):
        return True
    return ("'" in text or "`" in text) and _MARKED_YEAR.search(text) is not None


def birth_date_ranges(words: list[str], gaps: list[str]) -> list[tuple[int, int]]:
    """Word ranges (first, stop) of every date whose DA form (PS3.5 6.2) is a remembered
    key, written as three words around a year (D.M.YYYY, M/D/YYYY, YYYY-M-D, with an English
    month name or an ordinal day: ``3 Feb 1961``, ``February 3rd, 1961``), around a two-digit
    year (D.M.YY, M/D/YY, YY-MM-DD, ``3 Feb 61``: :func:`_short_year_dates`), or as one word
    (DDMMYYYY, MMDDYYYY, DDMMYY, MMDDYY, YYMMDD, ``03FEB1961``, ``03feb61``).  ``words``
    folded, ``gaps[k]`` the text before word ``k`` (:func:`~.matching.redact`).  A spelled
    day from 21 to 31 written in two words (``twenty-first``, ``thirty first``) is one part."""
    if "twenty" in words or "thirty" in words:
        return _with_compound_days(words, gaps)
    ranges: list[tuple[int, int]] = []
    for k, word in enumerate(words):
        size = len(word)
        if size in (6, 8) and word.isdigit():
            if _is_compact_birth_date(word):
                ranges.append((k, k + 1))
        elif size == 4 and word[:2] in _CENTURIES and word.isdigit():
            ranges += _around_year(words, gaps, k, (word,), _DATE_GAP)
        elif size == 2 and word.isdigit():
            ranges += _short_year_dates(words, gaps, k, word)
        elif size == 3 and word[0] in YEAR_MARK_LETTERS and word[1:].isdigit():
            ranges += _short_year_dates(words, gaps, k, word[1:])  # ``ʼ61``
        elif size >= 5 and word[0].isdigit() and _is_glued_month_date(word):
            ranges.append((k, k + 1))
    return ranges


def _with_compound_days(words: list[str], gaps: list[str]) -> list[tuple[int, int]]:
    """:func:`birth_date_ranges` of ``words`` whose spelled days in two words (``twenty``
    and ``first`` across a dash or a space) are joined into one (``twenty-first``)."""
    joined, joined_gaps, firsts, stops = [], [gaps[0]], [], []
    k = 0
    while k < len(words):
        pair = f"{words[k]}-{words[k + 1]}" if k + 1 < len(words) else ""
        firsts.append(k)
        if words[k] in TENS and pair in SPELLED_DAYS and gaps[k + 1] in ("-", " "):
            joined.append(pair)
            k += 2
        else:
            joined.append(words[k])
            k += 1
        stops.append(k)
        joined_gaps.append(gaps[k])
    return [(firsts[a], stops[b - 1]) for a, b in birth_date_ranges(joined, joined_gaps)]


def _around_year(
    words: list[str], gaps: list[str], k: int, years: tuple[str, ...], gap: re.Pattern[str]
) -> list[tuple[int, int]]:
    """Word ranges (first, stop) of the dates with their year at word ``k`` (one of
    ``years``, YYYY): day and month before it (either order) or month and day after it,
    separated by gaps ``gap`` matches whole, and by one filler word (``of``, ``the``) where a
    part is a month's name or an ordinal (``3rd of February 1961``, ``February the 3rd``)."""
    found = []
    before = _parts(words, k, -1) if k >= 2 and _part_or_filler(words[k - 1]) else None
    if before is not None:
        a, b = words[before[1]], words[before[0]]  # day first, then month first
        if _date_gaps(gaps[before[1] + 1 : k + 1], gap) and _is_birth_date(years, ((b, a), (a, b))):
            found.append((before[1], k + 1))
    after = _parts(words, k, 1) if k + 2 < len(words) and _part_or_filler(words[k + 1]) else None
    if after is not None:
        m, d = words[after[0]], words[after[1]]
        if _date_gaps(gaps[k + 1 : after[1] + 1], gap) and _is_birth_date(years, ((m, d),)):
            found.append((k, after[1] + 1))
    return found


def _part_or_filler(word: str) -> bool:
    """Whether ``word`` can be a date's part or a filler word between its parts (a quick
    check before :func:`_parts`)."""
    return word in _FILLERS or _date_part(word)


def _parts(words: list[str], k: int, step: int) -> tuple[int, int] | None:
    """The word indices of the two date parts (:func:`_date_part`) next to the year at word
    ``k``, before it (``step`` -1) or after it (+1), one filler word (``of``, ``the``)
    allowed before each where a part is not a number; None when there are no two parts."""
    found: list[int] = []
    j, filled = k + step, False
    while len(found) < 2:
        if 0 <= j < len(words) and 0 <= j + step < len(words) and words[j] in _FILLERS:
            j, filled = j + step, True
        if not (0 <= j < len(words) and _date_part(words[j])):
            return None
        found.append(j)
        j += step
    if filled and words[found[0]].isdigit() and words[found[1]].isdigit():
        return None
    return found[0], found[1]


def _short_year_dates(
    words: list[str], gaps: list[str], k: int, year: str
) -> list[tuple[int, int]]:
    """:func:`_around_year` for the two-digit ``year`` at word ``k`` (19YY or 20YY: a birth
    date's centuries; the word may begin with a mark of the elided century, ``'61``), its
    parts separated by a space, ``.``, ``/``, a dash or a comma (not ``:``: ``03:02:45`` is a
    time), and not part of a longer dotted or dashed number (a UID ``1.2.3.61.4``, a
    version).  Three numbers need the same ``.``, ``/`` or dash twice (``3.2.61``; not a
    list ``10, 5, 47`` or ``3 2 61``), a year first two-digit month and day (``61-02-03``;
    not a version ``10.2.3``), and dotted numbers no version's label before them
    (``version 1.26.10``: :func:`_version`)."""
    if gaps[k] and gaps[k][-1] in YEAR_MARKS:  # ``Feb 3 '61``: the mark is no separator
        gaps = [*gaps[:k], gaps[k][:-1], *gaps[k + 1 :]]
    years = ("19" + year, "20" + year)
    found = []
    for first, stop in _around_year(words, gaps, k, years, _SHORT_DATE_GAP):
        inner = ""  # a date in numbers only: the separator of its parts
        if words[first].isdigit() and words[first + 1].isdigit() and words[stop - 1].isdigit():
            inner = gaps[first + 1]
            if inner != gaps[first + 2] or len(inner) != 1 or inner in " ,":
                continue
            if first == k and len(words[k + 1]) + len(words[k + 2]) != 4:
                continue
            if inner == "." and _version(words, gaps, first):
                continue
        if not inner or _isolated(words, gaps, first, stop, inner):
            found.append((first, stop))
    return found


def _version(words: list[str], gaps: list[str], first: int) -> bool:
    """Whether the dotted numbers from word ``first`` on follow a version's label
    (:data:`VERSION_LABELS`): ``version 1.26.10`` is no date."""
    return (
        first > 0 and words[first - 1] in VERSION_LABELS and bool(_LABEL_GAP.fullmatch(gaps[first]))
    )


def _isolated(words: list[str], gaps: list[str], first: int, stop: int, inner: str) -> bool:
    """Whether the numbers at words ``first`` to ``stop - 1``, separated by ``inner``, are
    not joined to a number before or after them by ``inner`` too, one longer dotted or
    slashed number (``1.2.[3.2.61].4``, a version, a path of numbered folders ``3/2/61/1``).
    Another separator ends the date: a folder named by it holds files named by numbers
    (``3.2.61/1.dcm``, ``3.2.61/00001``), a file name glues more after it
    (``778-899_3.2.61``); so does a dash (``3-2-61-001.dcm``: a counter; no version or UID
    is written with dashes)."""
    if inner not in "./":
        return True
    before = gaps[first] if first > 0 and words[first - 1][-1].isdigit() else ""
    after = gaps[stop] if stop < len(words) and words[stop][0].isdigit() else ""
    return inner not in (before, after)


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
    """Whether ``part`` can be a day or month: 1 or 2 digits, an ordinal day (``3rd``,
    ``third``), or a month's name or Roman numeral (:mod:`~.months`)."""
    if part.isdigit():
        return len(part) <= 2
    if part[:1].isdigit():
        return _ORDINAL.fullmatch(part) is not None
    return part in _MONTH_NAMES or part in SPELLED_DAYS


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
    """``YYYYMMDD`` of the parts (a month number, name or Roman numeral, :mod:`~.months`; a
    day of 1 or 2 digits, an ordinal ``3rd`` or a spelled one ``third``), or None when they
    are not a date's."""
    if day in SPELLED_DAYS:
        day = str(SPELLED_DAYS[day])
    elif _ORDINAL.fullmatch(day):
        day = day[:-2]
    if not (day.isdigit() and len(day) <= 2):
        return None
    if month.isdigit():
        number = int(month) if len(month) <= 2 else 0
    else:
        number = _MONTH_NUMBERS.get(month, 0)
    if not (1 <= number <= 12 and 1 <= int(day) <= 31):
        return None
    return f"{int(year):04d}{number:02d}{int(day):02d}"
