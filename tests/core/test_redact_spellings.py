"""Any spelling of a remembered identifier is found (cobbdesk.core.redact): Unicode
compatibility forms (NFKC) and case, separators between its words optional, birth dates in
their usual spellings; and ordinary text stays as it was."""

from __future__ import annotations

import itertools
import random
import sys
import unicodedata

import pytest

from cobbdesk.core import redact
from cobbdesk.core.redact import MASK, VOCABULARY, remember, remember_patients
from cobbdesk.core.redact.matching import JOINING

PATIENT = ("Smithers^Waylon", "MRN4455667", "1961-02-03", "H-77123")


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


@pytest.fixture(scope="module")
def compatibility() -> dict[str, list[str]]:
    """Every character whose NFKC form is one ASCII letter or digit (not that character),
    keyed by that letter or digit, casefolded: the Unicode database itself, not a list."""
    found: dict[str, list[str]] = {}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        form = unicodedata.normalize("NFKC", char)
        if form != char and len(form) == 1 and form.isascii() and form.isalnum():
            found.setdefault(form.casefold(), []).append(char)
    return found


@pytest.mark.parametrize(
    "spelling",
    [
        "MRN4455667", "mrn4455667", "MRN-4455667", "MRN 4455667", "mrn_4455667", "MRN.4455667",
        "MRN/4455667", "MRN - 4455667", "MRN–4455667", "MRN\u00a04455667", "MRN-4455-667",
        "M-R-N-4-4-5-5-6-6-7", "ＭＲＮ４４５５６６７", "ＭＲＮ－４４５５６６７",
        "ＭＲＮ\u3000４４５５６６７",
        "𝐌𝐑𝐍𝟒𝟒𝟓𝟓𝟔𝟔𝟕", "ⓂⓇⓃ4455667", "🄼🅁🄽4455667", "MRN⁴⁴⁵⁵⁶⁶⁷",
        "MRN: 4455667", "MRN:4455667", "MRN#4455667", "MRN #4455667", "ＭＲＮ：４４５５６６７",
    ],
)  # fmt: skip
def test_an_mrn_in_any_spelling(known: None, spelling: str) -> None:
    assert redact.redact(f"file {spelling} here") == f"file {MASK} here"
    assert redact.redact(f"/data/{spelling}_lat.dcm") == f"/data/{MASK}_lat.dcm"


def test_digits_and_letters_join_each_other_across_dashes_only() -> None:
    """Between two letters only dashes and ``_`` join (a space separates words); between two
    digits dashes and ``_`` anywhere, spaces and one ``.`` as a number's digit groups (a
    dotted one whole: not a UID's components nor a decimal's part); a longer or shorter
    number is another number."""
    remember(["4455667", "MRN4455667"])
    remember_patients(["Ananis^Bo"], [])
    assert redact.redact("a 4455-667 b 4455_667 c m-rn4455667") == f"a {MASK} b {MASK} c {MASK}"
    assert redact.redact("a 4.455.667 mm, 4455 667") == f"a {MASK} mm, {MASK}"
    ordinary = "1.2.4455.667.1, 4.455.667.5, 4455 667.5, 4455.667, 44556678 MRN44556678, a NaN is"
    assert redact.redact(ordinary) == ordinary


def test_every_compatibility_form_of_every_character(
    known: None, compatibility: dict[str, list[str]]
) -> None:
    """Each character of the MRN replaced by each of its compatibility forms, one at a time,
    and all at once; every form of the name's letters too."""
    for stored in ("MRN4455667", "Waylon"):
        base = stored.casefold()
        for k, char in enumerate(base):
            for form in compatibility[char]:
                text = base[:k] + form + base[k + 1 :]
                assert redact.redact(f"x {text} y") == f"x {MASK} y", (stored, hex(ord(form)))
        rng = random.Random(5)
        for _ in range(50):
            text = "".join(rng.choice(compatibility[c]) for c in base)
            assert redact.redact(f"x {text} y") == f"x {MASK} y", text


def test_every_joining_character_is_a_separator_of_a_spelling(known: None) -> None:
    """Spaces, dashes, connectors and every character whose NFKC form is a space, ``-``,
    ``_``, ``.``, ``/``, ``:`` or ``#`` join the words of an identifier (the Unicode database,
    not a list): ``MRN: 4455667`` and ``MRN#4455667`` are the MRN written with a label."""
    wanted = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        form = unicodedata.normalize("NFKC", char)
        category = unicodedata.category(char)
        if category in ("Zs", "Pd", "Pc") or form in (" ", "-", "_", ".", "/", ":", "#"):
            wanted.append(char)
    assert "-" in wanted and "\uff0f" in wanted and len(wanted) > 50
    assert [hex(ord(c)) for c in wanted if c not in JOINING] == []
    for char in wanted:
        assert redact.redact(f"x MRN{char}4455667 y") == f"x {MASK} y", hex(ord(char))


@pytest.mark.parametrize(
    "spelling",
    [
        "Smithers Waylon", "WaylonSmithers", "SMITHERS_WAYLON", "ｓｍｉｔｈｅｒｓ ｗａｙｌｏｎ",
        "H77123", "h 77123", "Ｈ－７７１２３", "Way-lon", "Smithers2",
    ],
)  # fmt: skip
def test_names_and_patient_ids_in_any_spelling(known: None, spelling: str) -> None:
    assert redact.redact(f"see {spelling}.") == f"see {MASK}."


def test_short_names_glued_and_decomposed_accents() -> None:
    remember_patients(["Doe^Jane", "José^Ana"], [])
    assert redact.redact("DoeJane.dcm JANEDOE") == f"{MASK}.dcm {MASK}"
    # ``jose`` is the ASCII spelling of José: masked too (it stayed before transliteration)
    assert redact.redact("Jose\u0301 JOSÉ jose") == f"{MASK} {MASK} {MASK}"


@pytest.mark.parametrize(
    "spelling",
    [
        "1961-02-03", "19610203", "1961/02/03", "1961.2.3", "1961 02 03", "03.02.1961",
        "3.2.1961", "02/03/1961", "2/3/1961", "03-02-1961", "03021961", "02031961",
        "3 Feb 1961", "03-FEB-1961", "February 3, 1961", "Feb. 3, 1961", "1961-Feb-03",
        "１９６１－０２－０３", "０３．０２．１９６１",
    ],
)  # fmt: skip
def test_a_birth_date_in_its_usual_spellings(known: None, spelling: str) -> None:
    assert redact.redact(f"born {spelling}; ok") == f"born {MASK}; ok"


@pytest.mark.parametrize(
    "text",
    [
        "Cobb angle +12.5° at C2-C7, -3.0° lumbar L1-S1",
        "angle 12.5°, 52.3 degrees, 125 px, 4455.668 mm",
        "study date 30.11.2026, 11/30/2026, 30 Nov 2026, 2026/11/30, 30112026",
        "born 04.02.1961, 2/4/1962, 1961-2-4, 04021961",  # other dates
        "scan_0042_lat.dcm, IMG-0001.dcm, /data/incoming/film 7/lat.png",
        "Patient ID P04711, film #1234, visit admission, rater dr_a",
        "UID 1.2.840.10008.5.1.4.1.1.1, version 1.2.3, 0.143\\0.143 mm",
        "MRN 4455668, MRN-44556670, H-77124, Smither, Waylo, Way lon, way.lon",
    ],
)
def test_ordinary_text_is_unchanged(known: None, text: str) -> None:
    """Numbers, angles, study dates, file names and near-misses stay as written (the date
    rule 3 is off here: none of these dates is ISO or DA)."""
    assert redact.redact(text) == text


def test_short_identifiers_are_not_found_across_separators() -> None:
    """A value of fewer than GLUED_LENGTH characters without separators: ``H 12`` is not
    ``H12``, nor ``12.5`` the value ``125``, nor ``ab-cd`` the name ``Abcd``."""
    remember(["H 12", "125"])
    remember_patients(["Abcd^Xy"], [])
    assert redact.redact("H12 12.5° 1.25 ab-cd") == "H12 12.5° 1.25 ab-cd"
    assert redact.redact("H-12 125 abcd") == f"{MASK} {MASK} {MASK}"


def test_many_patients_leave_the_program_text_alone() -> None:
    """100 seeded patients remembered: CobbDesk's own words and typical lines unchanged.

    Their MRNs and hospital IDs are random, as real ones are sparse in their number space:
    an ID's digit run is a key of its own (``4455667.csv``), so sequential synthetic IDs
    (``H100000`` + i) would make every number of their range a key and this test moot."""
    rng = random.Random(3)
    syllables = ("an", "ber", "cor", "dal", "el", "fin", "gar", "hol", "is", "jor", "kel")
    names = [
        f"{''.join(rng.choices(syllables, k=3))}^{''.join(rng.choices(syllables, k=2))}"
        for _ in range(100)
    ]
    values = [f"MRN{rng.randint(10**6, 10**7 - 1)}" for _ in range(100)]
    hospital = [f"HOSP-{rng.randint(10**5, 10**6 - 1)}" for _ in range(100)]
    remember_patients(names, values + hospital)
    line = " ".join(sorted(VOCABULARY))
    assert redact.redact(line) == line
    for text in (
        "Saved to study (film #77). Patient ID P00077, visit admission, lumbar L1-S1 +52.3°",
        "duplicate: /data/incoming/scan_0042_lat.dcm (SOP Instance UID of film #12)",
        "UID 1.2.826.0.1.3680043.10.511.3.20261130, 0.143\\0.143 mm, 2048x2500 px, 12.5°",
        "DCM 121071 Finding, 112039, rows 1024, version 1.26.4, 10:30:45, [10, 5, 47]",
    ):
        assert redact.redact(text) == text
    name, mrn = names[42].split("^"), values[42]
    assert redact.redact(f"{name[1]}-{name[0]} {mrn[:3]} {mrn[3:]}") == f"{MASK} {MASK}"
    digits = mrn[3:], hospital[7][5:]
    assert redact.redact(f"{digits[0]}.csv {digits[1]}.dcm") == f"{MASK}.csv {MASK}.dcm"


def test_symbols_beside_identifiers(known: None) -> None:
    """Non-ASCII symbols (``°``, ``×``, ``–``) leave the words as they are; a full-width or
    accented identifier in the same line is still folded."""
    text = "L1-S1 +52.3° MRN-4455667 × 2 – Smithers…"
    assert redact.redact(text) == f"L1-S1 +52.3° {MASK} × 2 – {MASK}…"
    assert redact.redact("52.3° ＭＲＮ４４５５６６７ ok") == f"52.3° {MASK} ok"
    assert redact.redact("52.3°\u00a0MRN\u00a04455667") == f"52.3°\u00a0{MASK}"


def test_the_digit_run_of_an_mrn_or_patient_id_as_a_whole_number() -> None:
    """``4455667`` of ``MRN4455667`` and ``778899`` of ``HOSP-778899`` are keys (the ID written
    without its prefix, in a file name); a longer number, a shorter one, or the digits inside
    a longer run of digits are other numbers."""
    remember_patients(["Smithers^Waylon"], ["MRN4455667", "HOSP-778899"])
    remember(["MRN-1234567"])
    for text in ("4455667", "778899", "1234567", "x4455667", "4455-667", "HOSP 778899"):
        assert redact.redact(f"row 2 {text}.csv") == f"row 2 {MASK}.csv", text
    assert redact.redact("/in/4455667.dcm skipped") == f"/in/{MASK}.dcm skipped"
    ordinary = "44556678 445566 7788990 0778899 12345678 4455 6678 44.55667.1 film #778 12.5°"
    assert redact.redact(ordinary) == ordinary
    # a dotted UID component equal to the digits is masked (accepted over-redaction)
    assert redact.redact("UID 1.2.826.778899.10") == f"UID 1.2.826.{MASK}.10"


@pytest.fixture(scope="module")
def group_separators() -> list[str]:
    """Every space (Zs, and tab), dash (Pd) and connector (Pc) character, and every one whose
    NFKC form is a space, ``-``, ``_`` or ``.``: the Unicode database, not a list."""
    found = ["\t"]
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        form = unicodedata.normalize("NFKC", char)
        if unicodedata.category(char) in ("Zs", "Pd", "Pc") or form in (" ", "-", "_", "."):
            found.append(char)
    return found


def _groupings(digits: str) -> list[list[str]]:
    """Every way to cut ``digits`` into two or more groups (2 ** (len - 1) - 1 ways)."""
    cuts = range(1, len(digits))
    found = []
    for mask in range(1, 2 ** len(cuts)):
        points = [0] + [c for k, c in enumerate(cuts) if mask >> k & 1] + [len(digits)]
        found.append([digits[a:b] for a, b in itertools.pairwise(points)])
    return found


def _thousands(digits: str) -> list[str]:
    """``digits`` cut into thousands: ``4455667`` → ``4``, ``455``, ``667``."""
    head = len(digits) % 3 or 3
    return [digits[:head]] + [digits[k : k + 3] for k in range(head, len(digits), 3)]


def test_an_id_written_in_digit_groups(group_separators: list[str]) -> None:
    """``HOSP-778899`` written ``hosp 778 899``, ``778 899``, ``778-899``, ``778.899``: every
    cut of the digits into groups with every space, dash and connector of the Unicode
    database, the thousands with every full stop (``4.455.667``), with and without the ID's
    letters before them; other cuts at full stops are decimals or versions (``4455.667``)."""
    remember_patients(["Smithers^Waylon"], ["HOSP-778899", "MRN4455667"])
    cases = (("778899", ("", "hosp ", "HOSP-", "Hosp.")), ("4455667", ("", "MRN: ")))
    for digits, prefixes in cases:
        for groups in _groupings(digits):
            for char in group_separators:
                stop = unicodedata.normalize("NFKC", char) == "."
                for prefix in prefixes:
                    text = prefix + char.join(groups)
                    if not stop or groups == _thousands(digits):
                        assert redact.redact(f"x {text}, y") == f"x {MASK}, y", (
                            text,
                            hex(ord(char)),
                        )
                    elif not prefix:
                        assert redact.redact(f"x {text}, y") == f"x {text}, y", (
                            text,
                            hex(ord(char)),
                        )


def test_digit_groups_are_a_whole_number() -> None:
    """A dotted number is found whole only, in thousands: a UID's components, an address, a
    decimal's or version's part are other numbers; a number is split one way (``12.5
    13.25``: two decimals), and more digits glued to a group make another number."""
    remember_patients(["Smithers^Waylon"], ["HOSP-778899", "MRN1251325", "H127001"])
    ordinary = (
        "UID 1.2.778.899.1, 778.899.5, 5.778.899, 778 899.5, 12.5 13.25, 12 5.13 25, "
        "7788 99.1, 778 8990, 1778 899, 1.251.325.1, 127.0.0.1, version 1.2.7.0.0.1"
    )
    assert redact.redact(ordinary) == ordinary
    assert redact.redact("12 778 899 and 778 899 12") == f"12 {MASK} and {MASK} 12"


@pytest.mark.parametrize(
    "spelling", ["Muller Jurgen", "Mueller Juergen", "MULLER", "mueller", "Juergen", "Müller"]
)
def test_ascii_spellings_of_a_name_with_diacritics(spelling: str) -> None:
    remember_patients(["Müller^Jürgen", "Søren^Łukasz", "Strauß^Æsa"], [])
    remember(["Ødegård^Bjørn"])
    assert redact.redact(f"see {spelling}.") == f"see {MASK}."
    line = "Soren Lukasz STRAUSS aesa Odegard Bjorn"
    assert redact.redact(line) == " ".join([MASK] * 3)  # each pair is one whole name
    assert redact.redact("Muell Jurg Mull") == "Muell Jurg Mull"


@pytest.mark.parametrize(
    "spelling",
    [
        "03.02.61", "3.2.61", "3/2/61", "2/3/61", "02/03/61", "61-02-03", "61.02.03", "030261",
        "020361", "610203", "03FEB1961", "3feb1961", "03-Feb-61", "03FEB61", "3 Feb 61",
        "3rd Feb 1961", "3rd February, 1961", "February 3rd, 1961", "Feb 3rd 61", "Feb-03-61",
        "Feb.3.61", "3 February, 61", "February 3, 61",
        "０３．０２．６１",
    ],
)  # fmt: skip
def test_a_birth_date_with_a_two_digit_year_or_an_ordinal(known: None, spelling: str) -> None:
    """Born 1961-02-03: D.M.YY, M/D/YY, YY-MM-DD, DDMMYY, MMDDYY, YYMMDD, DDMONYYYY glued,
    ordinal days; also as a file name."""
    assert redact.redact(f"born {spelling}; ok") == f"born {MASK}; ok"
    assert redact.redact(f"/in/{spelling}_lat.dcm") == f"/in/{MASK}_lat.dcm"


@pytest.mark.parametrize(
    "text",
    [
        "version 3.2.60, cobbdesk 1.2.3, Python 3.12.1, numpy 2.3.61.1",
        "UID 1.2.826.0.1.3680043.10.3.2.61.7, 1.2.3.2.61",
        "at 03:02:61, 10:30:45, angle 3.2° 61.0°, 3 2 610, 03.02.62, 4/2/61, 61-02-04",
        "3rd film, 2nd reading, Feb 3rd, 3 Feb, 031261, 0302611, 30261, 04feb1961, 3feb62",
        "sizes 3x2x61 mm, L3-L2 61, C3/C2 61",
        "lists [3, 2, 61], 3 2 61, 03 02 61, 3.2/61, 61.2.3, 61-2-3",
    ],
)
def test_ordinary_numbers_are_not_a_two_digit_year_date(known: None, text: str) -> None:
    """Versions, UIDs, times, angles, lists of numbers and near-miss dates stay (born
    1961-02-03): three numbers are a date only with the same ``.``, ``/`` or dash twice, and
    a year first only with a two-digit month and day."""
    assert redact.redact(text) == text


@pytest.fixture(scope="module")
def year_marks() -> list[str]:
    """Every character that can mark an elided century (``'61``): the apostrophes, single
    quotation marks, primes, acute and grave accents, turned and reversed commas of the
    Unicode database (by name; not marks, controls, doubled or tone letters)."""
    ends = ("APOSTROPHE", "SINGLE QUOTATION MARK", "HIGH-REVERSED-9 QUOTATION MARK", "PRIME",
            "ACUTE ACCENT", "GRAVE ACCENT", "TURNED COMMA", "REVERSED COMMA")  # fmt: skip
    skip = {"DOUBLE", "TRIPLE", "QUADRUPLE", "TONE", "REVERSED PRIME", "PRECEDED"}
    found = []
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        name = unicodedata.name(char, "")
        category = unicodedata.category(char)
        if name.endswith(ends) and category[0] not in "MC" and not any(s in name for s in skip):
            found.append(char)
    assert "'" in found and "\u2019" in found and "\u02bc" in found
    return found


#: Layouts of a date with a month's name ({d} day, {m} month, {y} year) …
NAMED_LAYOUTS = (
    "{d} {m} {y}", "{d}-{m}-{y}", "{d} {m}, {y}", "{d} of {m} {y}", "{d} of {m}, {y}",
    "the {d} of {m} {y}", "{m} {d} {y}", "{m} {d}, {y}", "{m} the {d}, {y}", "{m}-{d}-{y}",
    "{m} the {d} {y}", "{d}.{m}.{y}",
)  # fmt: skip
#: … and of a date in numbers only.
NUMERIC_LAYOUTS = tuple(f"{{{a}}}{s}{{{b}}}{s}{{y}}" for a, b in ("dm", "md") for s in "./-")


def _renderings(day: int, year: int, marks: list[str]) -> list[str]:
    """A date in February spelled in every layout: day ``3``, ``03``, ``3rd``; month ``2``,
    ``02``, ``Feb``, ``Feb.``, ``February``; year ``1961``, ``61`` and ``'61`` with each mark;
    as written, in capitals and in small letters."""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(day, "th")
    days = (str(day), f"{day:02d}", f"{day}{suffix}")
    years = [str(year), str(year)[2:], *(m + str(year)[2:] for m in marks)]
    texts = []
    for layouts, months in (
        (NAMED_LAYOUTS, ("Feb", "Feb.", "February")),
        (NUMERIC_LAYOUTS, ("2", "02")),
    ):
        for layout in layouts:
            for d in days if months[0] == "Feb" else days[:2]:
                for m in months:
                    texts += [layout.format(d=d, m=m, y=y) for y in years]
    return [t for text in texts for t in (text, text.upper(), text.lower())]


def test_a_birth_date_in_every_layout(known: None, year_marks: list[str]) -> None:
    """Born 1961-02-03: every rendering found (``3rd of February 1961``, ``Feb 3 '61``,
    ``3 Feb. '61``, ``February the 3rd, 1961``…); the same renderings of 1961-02-04 and
    1962-02-03, nobody's birth date, stay as written."""
    for text in _renderings(3, 1961, year_marks):
        assert redact.redact(f"born {text}; ok").endswith(f"{MASK}; ok"), text
    for text in _renderings(4, 1961, year_marks) + _renderings(3, 1962, year_marks):
        assert redact.redact(f"born {text}; ok") == f"born {text}; ok", text


def test_filler_words_only_beside_a_month_name_or_an_ordinal(known: None) -> None:
    """``of`` and ``the`` join a date's parts only where one is a month's name or an
    ordinal day: ``3 of 2 1961`` is a count."""
    text = "3 of 2 1961, 3 of 2 61, film 3 of 2, the 3 the 2 61"
    assert redact.redact(text) == text


@pytest.fixture(scope="module")
def invisible() -> list[str]:
    """Every combining mark (Unicode Mn, Mc, Me) and format character (Cf, the zero-width
    space and joiners, soft hyphen, word joiner, BOM among them): the Unicode database."""
    wanted = ("Mn", "Mc", "Me", "Cf")
    found = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) in wanted]
    assert {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u0301"} <= set(found)
    return found


def test_marks_and_invisible_characters_inside_an_identifier(
    known: None, invisible: list[str]
) -> None:
    """``J\\u200bane``, ``Do\\u00ade``, ``Way\\u0301lon``: each mark or format character of
    the Unicode database inserted into a name, an MRN and a birth date, inside or at its end."""
    for char in invisible:
        for text in (f"Way{char}lon", f"Waylon{char}", f"S{char}mithers", f"MRN44{char}55667",
                     f"1961-0{char}2-03", f"3 Feb{char} 1961"):  # fmt: skip
            assert redact.redact(f"x {text} y") == f"x {MASK} y", (text, hex(ord(char)))


def test_an_identifier_stored_with_invisible_characters() -> None:
    """A stored value's default ignorable characters are no part of it (NFKC_Casefold):
    ``J\\u200bane`` stored is found as ``Jane``, and the other way round."""
    hidden = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u034f\ufe0f\u180e\u202e"
    for char in hidden:
        redact.forget_all()
        remember_patients([f"Do{char}e^J{char}ane"], [f"MRN44{char}55667"])
        assert redact.redact("Jane Doe, MRN4455667") == f"{MASK}, {MASK}", hex(ord(char))
        redact.forget_all()
        remember([f"Do{char}e^Ja{char}ne"])
        assert redact.redact("doe jane") == MASK, hex(ord(char))


def test_invisible_characters_leave_other_text_alone(known: None) -> None:
    """A format character is dropped from a line (invisible); other text, marks on other
    words and CobbDesk's own text stay."""
    assert redact.redact("film\u200b #12, José, naïve 12.5°") == "film #12, José, naïve 12.5°"
    assert redact.redact("Smith\u200b^John") == MASK  # a PN-looking value still found


def test_dotted_numbers_after_a_version_label_are_a_version(known: None) -> None:
    """Born 1961-02-03: ``version 3.2.61`` is a version (at 100,000 patients nearly every
    X.Y.ZZ is someone's birth date); the same numbers without the label, with another
    separator or a month's name, and the date with a four-digit year, are still hidden."""
    from cobbdesk.core.redact.dates import VERSION_LABELS

    for label in sorted(VERSION_LABELS):
        for text in (f"{label} 3.2.61", f"{label.upper()}: 3.2.61", f"{label}. 3.2.61"):
            assert redact.redact(f"{text}; ok") == f"{text}; ok", text
        for text in ("3/2/61", "3 Feb 61", "3.2.1961", "1961-02-03", "3-2-61"):
            assert redact.redact(f"{label} {text}") == f"{label} {MASK}", (label, text)
    for text in ("3.2.61", "born 3.2.61", "versions 3.2.61", "file 3.2.61"):
        assert redact.redact(text).endswith(MASK), text
