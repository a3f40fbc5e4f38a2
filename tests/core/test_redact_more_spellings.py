"""More spellings of a remembered identifier (cobbdesk.core.redact; breaker 7): birth dates
with a month's name in seven languages, a Roman-numeral month or a spelled ordinal day."""

from __future__ import annotations

import itertools

import pytest

from cobbdesk.core import redact
from cobbdesk.core.redact import MASK, remember_patients
from cobbdesk.core.redact.months import _NAMES, MONTHS, ROMAN_MONTHS, SPELLED_DAYS

#: Layouts of a date with a month's word ({d} day, {m} month, {y} year), European ones too.
LAYOUTS = (
    "{d} {m} {y}", "{d}. {m} {y}", "{d} {m}. {y}", "{d}. {m}. {y}", "{d} de {m} de {y}",
    "{d}-{m}-{y}", "{d}.{m}.{y}", "{m} {d}, {y}", "{d} {m}, {y}",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _clean() -> None:
    redact.forget_all()


def test_every_month_word_names_one_month() -> None:
    """No word of the month table names two months (``mar`` March, ``mai`` May, ``set``
    September, ``out`` October in every language listed)."""
    seen: dict[str, int] = {}
    for number, names in enumerate(_NAMES, 1):
        for name in names.split():
            assert seen.setdefault(name, number) == number, name
    assert MONTHS["févr"] == MONTHS["fevr"] == MONTHS["februar"] == 2
    assert MONTHS["maerz"] == MONTHS["marz"] == 3


def test_a_birth_date_with_a_month_word_of_seven_languages_or_a_roman_numeral() -> None:
    """Born on the 3rd of each month of 1961: every month word (English, German, French,
    Spanish, Italian, Portuguese, Dutch, abbreviations, with and without diacritics) and
    Roman numeral in every layout, four- and two-digit years, as written, in capitals and
    small letters (``3. Februar 1961``, ``3 févr. 1961``, ``3-II-1961``, ``3.II.61``); the
    same renderings of the 4th, nobody's birth date, stay."""
    remember_patients(["Smithers^Waylon"], [f"1961-{m:02d}-03" for m in range(1, 13)])
    words = [(w, n) for w, n in MONTHS.items()] + list(ROMAN_MONTHS.items())
    for (word, _), layout, year in itertools.product(words, LAYOUTS, ("1961", "61")):
        if year == "61" and " de " in layout:
            continue
        for spelled in (word, word.capitalize(), word.upper()):
            born = layout.format(d="3", m=spelled, y=year)
            assert redact.redact(f"born {born}; ok") == f"born {MASK}; ok", born
            other = layout.format(d="4", m=spelled, y=year)
            assert redact.redact(f"born {other}; ok") == f"born {other}; ok", other


def test_a_birth_date_with_a_spelled_ordinal_day() -> None:
    """Born on each day of February 1961: the day spelled (``Third of February 1961``,
    ``February the twenty-first, 1961``, ``twenty first``), in every layout with ``of`` and
    ``the``, four-digit years and marked two-digit ones (``'61``); 1962 stays."""
    remember_patients(["Smithers^Waylon"], [f"1961-02-{d:02d}" for d in range(1, 29)])
    layouts = ("{d} of {m} {y}", "the {d} of {m}, {y}", "{m} the {d}, {y}", "{m} {d} {y}")
    days = [d for d, n in SPELLED_DAYS.items() if n <= 28] + ["twenty first", "Twenty-First"]
    for day, layout, month in itertools.product(days, layouts, ("Feb", "February")):
        for year in ("1961", "'61"):
            born = layout.format(d=day, m=month, y=year)
            assert MASK in redact.redact(f"born {born}; ok"), born
            assert day.split()[-1] not in redact.redact(f"born {born}; ok"), born
        other = layout.format(d=day, m=month, y="1962")
        assert redact.redact(f"born {other}; ok") == f"born {other}; ok", other


@pytest.mark.parametrize("how", ["remember", "remember_patients"])
def test_a_name_part_of_several_words_spelled_together_or_apart(how: str) -> None:
    """A part of a name made of several words (``O'Brien``, ``Smith-Jones``, ``van der Berg``)
    is also written with its apostrophe or dash dropped (``OBrien``: breaker 7), as a space
    (``O Brien``) or another apostrophe or dash, in any case: every joining of its words is
    masked whole, alone and before or after the other part; other words stay."""
    names = ["O'Brien^Siobhan", "Smith-Jones^Anna", "van der Berg^Jan", "N'Dour^Youssou"]
    if how == "remember":
        redact.remember(names)
    else:
        remember_patients(names, [])
    for name in names:
        words = name.split("^")[0].replace("'", " ").replace("-", " ").split()
        given = name.split("^")[1]
        for join in ("", " ", "'", "\u2019", "-", "\u2010"):
            part = join.join(words)
            for spelled in (part, part.upper(), part.lower()):
                assert redact.redact(f"see {spelled}.") == f"see {MASK}.", spelled
                both = redact.redact(f"see {given} {spelled}.").replace(f"{MASK} {MASK}", MASK)
                assert both == f"see {MASK}.", spelled
                glued = redact.redact(f"{spelled}_{given}.dcm").replace(f"{MASK}_{MASK}", MASK)
                assert glued == f"{MASK}.dcm", spelled
    assert redact.redact("O Neil, Brienne, Jonesy, N Do") == "O Neil, Brienne, Jonesy, N Do"


def _cuts(digits: str) -> list[list[str]]:
    """Every way to cut ``digits`` into two or more groups."""
    found = []
    for mask in range(1, 2 ** (len(digits) - 1)):
        points = [0] + [c for c in range(1, len(digits)) if mask >> (c - 1) & 1] + [len(digits)]
        found.append([digits[a:b] for a, b in itertools.pairwise(points)])
    return found


def test_an_id_split_by_a_solidus_after_its_letters_or_bracketed_like_an_area_code() -> None:
    """``MRN: 778/899`` (breaker 7): after the ID's letters every cut of its digits with each
    solidus (``/``, ``／``, fraction and division slashes) is found, also before a file's name;
    the digits alone with a solidus (``778/899``: a fraction, a path) stay.  ``(778) 899``:
    the first group in any bracket whose NFKC form is ``(``…``)``, with or without a space
    after it, is found; brackets elsewhere, or a bracketed group that is no first, stay."""
    remember_patients(["Smithers^Waylon"], ["MRN778899", "HOSP-4455667"])
    cases = (("778899", ("MRN: ", "mrn ", "MRN/")), ("4455667", ("HOSP ", "hosp-")))
    brackets = ("()", "\u207d\u207e", "\u208d\u208e", "\ufe35\ufe36", "\ufe59\ufe5a", "（）")
    for (digits, labels), slash in itertools.product(cases, "/\uff0f\u2044\u2215"):
        for groups, label in itertools.product(_cuts(digits), labels):
            spelled = slash.join(groups)
            assert redact.redact(f"x {label}{spelled} y") == f"x {MASK} y", (label, spelled)
            assert redact.redact(f"x {label}{spelled}/1.dcm") == f"x {MASK}/1.dcm", spelled
            assert redact.redact(f"x {spelled} y") == f"x {spelled} y", spelled
        for (first, *rest), (opening, closing) in itertools.product(_cuts(digits), brackets):
            for space in ("", " ", "\u00a0"):
                text = f"tel {opening}{first}{closing}{space}{''.join(rest)}."
                assert redact.redact(text) == f"tel {opening}{MASK}.", text
    ordinary = "778) 899, 778 (899), (77) 88 99, in/778/899, 778/899"
    assert redact.redact(ordinary) == ordinary
