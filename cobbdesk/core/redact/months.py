"""The words of a written date: month names (English, German, French, Spanish, Italian,
Portuguese, Dutch, with their usual abbreviations and ASCII spellings), Roman-numeral months
(``3.II.1961``) and spelled ordinal days (``third``, ``twenty-first``).

The names and abbreviations are the usual ones of each language (as the Unicode CLDR's
Gregorian calendars list them, wide and abbreviated, without their full stops), folded
(:func:`~cobbdesk.core.redact.keys.fold`) and also without diacritics
(:mod:`~cobbdesk.core.redact.translit`: ``févr`` → ``fevr``, ``märz`` → ``marz``,
``maerz``); every word names one month in all these languages (``mar`` is March, ``mai``
May, ``set`` September, ``out`` October; a test checks that no word names two).
"""

from __future__ import annotations

from cobbdesk.core.redact.translit import german, plain

_NAMES = (
    "january jan januar jänner jän janvier janv enero ene gennaio gen janeiro januari",
    "february feb februar feber février févr fév febrero febbraio fevereiro fev februari",
    "march mar märz mär mrz mars marzo março maart mrt",
    "april apr avril avr abril abr aprile",
    "may mai mayo maggio mag maio mei",
    "june jun juni juin junio giugno giu junho",
    "july jul juli juillet juil julio luglio lug julho",
    "august aug août agosto ago augustus",
    "september sep sept septembre septiembre setiembre set settembre sett setembro",
    "october oct oktober okt octobre octubre ottobre ott outubro out",
    "november nov novembre noviembre novembro",
    "december dec dezember dez décembre déc diciembre dic dicembre dezembro",
)
#: Month number of every month word (folded; with and without diacritics).
MONTHS: dict[str, int] = {
    spelled: number
    for number, names in enumerate(_NAMES, 1)
    for name in names.split()
    for spelled in (name, plain(name), german(name))
}
#: Roman-numeral months (``3-II-1961``, ``3.II.1961``): folded, so small letters.
ROMAN_MONTHS = {
    roman: number
    for number, roman in enumerate(
        ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"), 1
    )
}
_UNITS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
_TEENS = (
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
)  # fmt: skip
#: The words before a unit ordinal in a day from 21 to 31 (``twenty-first``, ``thirty first``).
TENS = {"twenty": 20, "thirty": 30}
#: Day number of every spelled ordinal day, first to thirty-first (``twenty-first`` and
#: ``twentyfirst`` as one word; the matcher joins ``twenty`` and ``first`` across a dash
#: or space into ``twenty-first``).
SPELLED_DAYS: dict[str, int] = (
    {word: n for n, word in enumerate(_UNITS + _TEENS, 1)}
    | {"thirtieth": 30}
    | {
        f"{tens}{join}{unit}": base + n
        for tens, base in TENS.items()
        for n, unit in enumerate(_UNITS, 1)
        for join in ("-", "")
        if base + n <= 31
    }
)
