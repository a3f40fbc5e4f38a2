"""The redaction boundary (cobbdesk.core.redact): remembered identifiers, CobbDesk's own words."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from cobbdesk.core import redact
from cobbdesk.core.redact import MASK, VOCABULARY, remember, variants

_RUNS = re.compile(r"\[redacted\](?: \[redacted\])+")  # adjacent masks read as one
PACKAGE = Path(redact.__file__).resolve().parents[2]  # cobbdesk/core/redact/__init__.py


@pytest.fixture(autouse=True)
def _clean() -> None:
    redact.forget_all()


def test_known_values_masked_whole_words_any_case() -> None:
    remember(["Doe^Jane", "MRN-55501", None, "", "1970-01-01"])
    assert redact.redact("JANE doe; mrn 55501 and 19700101") == f"{MASK}; {MASK} and {MASK}"
    assert redact.redact("Janet Doerr, Jane's file") == f"Janet Doerr, {MASK}'s file"
    assert redact.redact("id MRN-555010 or 55501 alone") == "id MRN-555010 or 55501 alone"


def test_name_orders_and_the_longest_match() -> None:
    remember(["van de Berg^Jan Piet"])
    assert redact.redact("Jan Piet van de Berg left") == f"{MASK} left"
    assert redact.redact("jan piet, van de berg") == MASK  # given names first: one mask
    assert redact.redact("berg, jan") == f"{MASK}, {MASK}"  # each word of a name alone
    assert redact.redact("Piet") == MASK
    assert redact.redact("van de") == f"{MASK} de"  # "de" is shorter than MIN_LENGTH


def test_short_name_parts_only_inside_the_whole_name() -> None:
    remember(["Li^Bo"])
    assert redact.redact("Li said Bo") == "Li said Bo"
    assert redact.redact("Bo Li, Li Bo") == f"{MASK}, {MASK}"


def test_cobbdesk_words_are_not_names_on_their_own() -> None:
    remember(["Patient^Zero", "Study^Ann", "Film"])
    line = "Patient ID P001: study film of Patient Zero (zero patient); Ann's visit"
    assert redact.redact(line) == f"Patient ID P001: study film of {MASK} ({MASK}); {MASK}'s visit"
    assert redact.redact("Study Ann and Patient^Zero") == f"{MASK} and {MASK}"


def test_every_vocabulary_word_is_one_of_cobbdesk_own_words() -> None:
    """The vocabulary is CobbDesk's: each word is in a string of the program (not redact.py)."""
    words: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "redact":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                words.update(w.casefold() for w in re.findall(r"\w+", node.value))
    assert sorted(VOCABULARY - words) == []


def test_variants_of_a_name_and_a_date() -> None:
    assert variants("Doe^Jane") == {"doe", "jane", "doe jane", "jane doe", "doejane", "janedoe"}
    assert variants(" 19700101 ") == {"19700101", "1970 01 01"}
    assert variants("Patient^Li") == {"patient li", "li patient", "patientli", "lipatient"}
    assert variants("Li^Bo") == {"li bo", "bo li"}  # compact forms under GLUED_LENGTH: none
    # the digit run is a key again (the MRN written without its prefix, ``4455667.csv``);
    # the matcher finds it only as a whole number: test_redact_spellings
    assert variants("MRN-4455667") == {"mrn 4455667", "mrn4455667", "4455667"}
    assert variants("---") == set()


def test_every_word_of_many_remembered_names_is_hidden() -> None:
    names = [f"Surname{i}^Given{i}^Middle{i}" for i in range(20_000)]
    remember(names)
    for i in (0, 7, 12_345, 19_999):
        text = f"error for given{i} MIDDLE{i} Surname{i}, Surname{i} and Given{i}"
        assert redact.redact(text) == f"error for {MASK}, {MASK} and {MASK}"
    # a longer number is another number; a key glued to letters is still the key
    assert redact.redact("Surname20000 Givenx3 Given3x") == f"Surname20000 Givenx3 {MASK}"


VARIED = [
    "Doe^Jane",
    "Li^Bo",
    "Patient^Zero",
    "O'Brien^Mary-Kate",
    "van der Berg^Jan",
    "Müller^Jürgen",
    "STRAUß^Anna",
    "Study^Ann^Lee",
    "Ng, Al",
    "Film",
]
OTHERS = ["MRN-55501", "1970-01-01", "19650203", "H 4711", "ABC"]


@pytest.mark.parametrize("name", VARIED)
def test_bulk_remember_hides_what_remember_hides(name: str) -> None:
    """remember_patients (Study.open's path) masks every form remember masks, and every
    non-vocabulary word of the name alone."""
    texts = [f"x {form} y" for value in [name, *OTHERS] for form in variants(value)]
    texts += [f"x {w} y" for w in re.findall(r"\w+", name)]
    remember([name, *OTHERS])
    expected = [redact.redact(t) for t in texts]
    redact.forget_all()
    redact.remember_patients([name], OTHERS)
    for text, masked in zip(texts, expected, strict=True):
        assert _RUNS.sub(MASK, redact.redact(text)) == _RUNS.sub(MASK, masked), text


def test_bulk_remember_dates_both_forms() -> None:
    redact.remember_patients([], ["1970-01-01", "19650203"])
    assert redact.redact("a 19700101 b 1965-02-03 c") == f"a {MASK} b {MASK} c"


def test_remember_is_cumulative_and_forget_all_clears() -> None:
    remember(["Alpha^Beta"])
    remember(["Gamma^Delta"])
    assert redact.redact("Beta Gamma") == f"{MASK} {MASK}"
    redact.forget_all()
    assert redact.redact("Beta Gamma") == "Beta Gamma"


def test_study_open_remembers_before_returning(tmp_path: Path) -> None:
    from cobbdesk.core.store import Study

    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="t") as study:
        study.add_patient("P001", name="Quixote^Alonso", mrn="H-77123")
    redact.forget_all()
    with Study.open(path, actor="t"):
        assert redact.redact("Alonso (H-77123), quixote") == f"{MASK} ({MASK}), {MASK}"
