"""The characters that join the words of an identifier spelled across them (``MRN-4455667``,
``MRN 4455667``, ``MRN: 4455667``): lists checked against the Unicode database by the tests."""

from __future__ import annotations

from cobbdesk.core.redact.keys import PC

#: Dashes (Unicode Pd) and connector punctuation (Pc): they also join two digits.
DIGIT_JOINING = (
    "-\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2e17\u2e1a\u2e3a"
    "\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead"
    + PC.replace("\ufe4d-\ufe4f", "\ufe4d\ufe4e\ufe4f")
)
#: Spaces (Unicode Zs and tab): between two digits they split a number into groups
#: (``778 899``), found anywhere in a run of numbers.
SPACES = (
    " \t\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)
#: The full stop and the characters whose NFKC form is one: between two digits one of them
#: splits a number into groups (``778.899``), found only as the whole dotted number written
#: in thousands (not a UID's, an address's or a version's components: ``1.2.778.899.5``,
#: ``127.0.0.1``, ``1.26.10``).
FULL_STOPS = ".\u2024\ufe52\uff0e"
#: The other thousands separators, each as the full stop (one between two digits, the whole
#: number in thousands only): commas (``4,455,667``) and apostrophes (``778'899``; Excel's
#: and the Swiss ``778’899``; the Arabic thousands separator), and the characters whose NFKC
#: form is one of them.  A number is grouped with one of these kinds throughout.
COMMAS = ",\ufe10\ufe50\uff0c"
APOSTROPHES = "'\u2019\uff07\u066c"
#: Solidi: after an ID's letters one splits its number's digit groups too (``MRN: 778/899``);
#: a number alone split by one is a fraction or a path (``778/899``).
SLASHES = "/\uff0f\u2044\u2215"
#: Brackets around a number's first digit group (``(778) 899``, as a telephone number's area
#: code), and the characters whose NFKC form is one.
OPEN_BRACKETS = "(\u207d\u208d\ufe35\ufe59\uff08"
CLOSE_BRACKETS = ")\u207e\u208e\ufe36\ufe5a\uff09"
#: Those, spaces, full stop, solidus, and a label's colon and number sign (``MRN: 4455667``,
#: ``MRN#4455667``), and the characters whose NFKC form is one of them (``．``, ``／``,
#: ``：``, ``＃``, ``\u2024``…; a test checks).
JOINING = SPACES + FULL_STOPS + SLASHES + ":#\ufe13\ufe55\ufe5f\uff03\uff1a" + DIGIT_JOINING
#: Marks of an elided century before a two-digit year (``Feb 3 '61``): the apostrophe, the
#: single quotation marks, primes, acute and grave accents, turned and reversed commas (a
#: test derives them from the Unicode character names); not parts of a word …
YEAR_MARKS = "'`\u00b4\u02f4\u055a\u2018\u2019\u201b\u2032\u2e32\u2e41\uff07\uff40"
#: … and those that are modifier letters, glued to the year's digits as one word (``ʼ61``).
YEAR_MARK_LETTERS = "\u02b9\u02bb\u02bc\u02bd\u02ca\u02cb\u02ce\u02cf"
