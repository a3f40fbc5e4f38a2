"""ASCII spellings of names written with diacritics (``Müller^Jürgen`` is also written
``Muller Jurgen`` and ``Mueller Juergen``): keys only, the matcher is not involved.

Two spellings of folded text (:func:`~cobbdesk.core.redact.keys.fold`, so NFKC-composed and
casefolded; ``ß`` is already ``ss``): *plain* — Unicode NFKD (UAX #15) with every combining
mark removed, then the letters NFKD does not decompose (``ø`` → ``o``, ``æ`` → ``ae``,
``ł`` → ``l``, :data:`UNDECOMPOSED`); *German* — first ``ä`` → ``ae``, ``ö`` → ``oe``,
``ü`` → ``ue`` (DIN 5007-2 variant 2, the spelling of names on machine-readable documents,
ICAO Doc 9303 part 3), then the plain spelling of the rest.
"""

from __future__ import annotations

import re
import unicodedata

#: Letters without a canonical or compatibility decomposition to ASCII, and their usual
#: ASCII spellings (ICAO Doc 9303 part 3, transliteration of Latin characters).
UNDECOMPOSED = {
    "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i",
    "ħ": "h", "ŀ": "l", "ŧ": "t", "ŋ": "n", "ĳ": "ij", "ſ": "s",
}  # fmt: skip
_UNDECOMPOSED = str.maketrans(UNDECOMPOSED)
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NON_ASCII_LINE = re.compile(r"^.*[^\x00-\x7f].*$", re.MULTILINE)


def plain(text: str) -> str:
    """``text`` (folded) without its diacritics: ``müller jürgen`` → ``muller jurgen``,
    ``søren`` → ``soren``; characters without an ASCII spelling (``δ``) stay."""
    decomposed = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFC", decomposed.translate(_UNDECOMPOSED))


def german(text: str) -> str:
    """``text`` (folded) in the German ASCII spelling: ``müller`` → ``mueller``."""
    return plain(unicodedata.normalize("NFC", text).translate(_GERMAN))


def ascii_spellings(text: str) -> str:
    """The plain and German spellings (one a line) of each line of folded ``text`` that is
    not ASCII; ``""`` when every line is ASCII.  Whole-text passes (a study's names at once).

    >>> ascii_spellings("müller^jürgen\\ndoe^jane")
    'muller^jurgen\\nmueller^juergen'
    """
    if text.isascii():
        return ""
    lines = "\n".join(_NON_ASCII_LINE.findall(text))
    spelled_plain, spelled_german = plain(lines), german(lines)
    if spelled_plain == spelled_german:
        return spelled_plain
    return f"{spelled_plain}\n{spelled_german}"
