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
