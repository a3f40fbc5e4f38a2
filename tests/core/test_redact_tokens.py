"""How cobbdesk.core.redact cuts text into words: ``_`` (and all connector punctuation),
``-``, ``.``, ``^``, ``/`` separate words; a long identifier glued to letters is still found;
dates glued with ``_`` or followed by a file extension are dates."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from cobbdesk.core import redact
from cobbdesk.core.redact import MASK, VOCABULARY, remember, remember_patients

PATIENT = ("SMITHERS^WAYLON", "MRN4455667", "19610203")


@pytest.fixture(autouse=True)
def _clean() -> None:
    redact.forget_all()


@pytest.fixture(params=["remember", "remember_patients"])
def known(request: pytest.FixtureRequest) -> None:
    """The patient remembered one way (add_patient) or the other (Study.open)."""
    if request.param == "remember":
        remember(PATIENT)
    else:
        remember_patients([PATIENT[0]], list(PATIENT[1:]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("MRN4455667_lat.dcm", f"{MASK}_lat.dcm"),
        ("x_MRN4455667.dcm", f"x_{MASK}.dcm"),
        ("Smithers_Waylon.dcm", f"{MASK}.dcm"),  # one run of the name's words
        ("SMITHERS_WAYLON_MRN4455667.dcm", f"{MASK}_{MASK}.dcm"),
        ("waylon-smithers.19610203.png", f"{MASK}.{MASK}.png"),
        ("/a/Smithers/b\\Waylon", f"/a/{MASK}/b\\{MASK}"),
        ("mrn4455667\uff3fx and Smithers\u203fWaylon", f"{MASK}\uff3fx and {MASK}"),
        ("xMRN4455667.dcm", f"{MASK}.dcm"),  # glued to a letter: the whole word goes
        ("scan_smitherswaylon_01", f"scan_{MASK}_01"),
        ("Waylonby, 2MRN4455667x", f"{MASK}, {MASK}"),
        ("119610203 and 196102034", "119610203 and 196102034"),  # longer numbers: others
        ("MRN44556678", "MRN44556678"),
    ],
)
def test_separators_and_glued_identifiers(known: None, text: str, expected: str) -> None:
    assert redact.redact(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SMITHERS_20200101.dcm", f"SMITHERS_{MASK}.dcm"),
        ("scan_20200101_lat", f"scan_{MASK}_lat"),
        ("20200101.dcm x20200101", f"{MASK}.dcm x{MASK}"),
        ("UID 1.2.3.20200101.4 and 120200101", "UID 1.2.3.20200101.4 and 120200101"),
        ("2020-01-01.txt", f"{MASK}.txt"),
    ],
)
def test_dates_glued_or_before_an_extension(known: None, text: str, expected: str) -> None:
    redact.forget_all()  # the date rule alone: no study open
    assert redact.redact(text) == expected


def test_every_connector_punctuation_separates_words() -> None:
    remember(["Quixote^Alonso"])
    connectors = [chr(c) for c in range(sys.maxunicode) if unicodedata.category(chr(c)) == "Pc"]
    assert "_" in connectors and len(connectors) >= 10
    for c in connectors:  # "ab" + c + "quixote": short word, then the name on its own
        assert redact.redact(f"ab{c}quixote{c}alonso{c}cd") == f"ab{c}{MASK}{c}cd"


def test_a_value_written_with_underscores_matches_other_separators() -> None:
    remember(["MRN_4455667", "Doe_Jane^X"])
    assert redact.redact("mrn 4455667, MRN-4455667") == f"{MASK}, {MASK}"
    assert redact.redact("Doe-Jane X; jane doe") == f"{MASK}; {MASK} {MASK}"


def test_cobbdesk_words_stay_even_when_long_names_are_known() -> None:
    """A vocabulary word is never hidden alone, glued matching included; a long name inside
    a word that is not CobbDesk's is hidden (errs towards hiding)."""
    remember(["Measure^Calibrated", "Sessionx^Anna", "Tablet^Bob"])
    line = "measurement calibration calibrated session table measure"
    assert redact.redact(line) == line
    assert redact.redact("Sessionxy Tablets") == f"{MASK} {MASK}"
    assert all(redact.redact(w) == w for w in VOCABULARY)


def test_short_keys_are_not_searched_inside_words() -> None:
    remember(["Doe^Jane", "MRN-55501"])
    assert redact.redact("Janet Doerr xdoe MRN555010") == "Janet Doerr xdoe MRN555010"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1Smithers^Waylon.dcm", f"1{MASK}"),  # the PN rule takes dots and the extension
        ("x_Smithers^Waylon_2 dcm", f"{MASK} dcm"),
        ("ab'Smithers^Waylon", MASK),
        ("Smithers^Waylon 19610203.dcm", f"{MASK} {MASK}.dcm"),
    ],
)
def test_caret_names_without_a_study(text: str, expected: str) -> None:
    """Rule 2 starts at a word's first letter (one pass, not one per letter of a long word)."""
    assert redact.redact(text) == expected
