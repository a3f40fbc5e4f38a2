"""A remembered identifier beside the text real logs put around it (cobbdesk.core.redact):
folders and file names after a birth date, OS error texts written with Python's escapes,
and the longer tokens (decimals, hashes, UUIDs) that merely contain an ID's digits."""

from __future__ import annotations

import itertools
import sys
import unicodedata

import pytest

from cobbdesk.core import redact
from cobbdesk.core.redact import MASK, remember_patients

PATIENT = ("Smithers^Waylon", "MRN4455667", "1961-02-03", "HOSP-778899")


@pytest.fixture(autouse=True)
def _known() -> None:
    redact.forget_all()
    remember_patients([PATIENT[0]], list(PATIENT[1:]))


def _groupings(digits: str) -> list[list[str]]:
    """Every way to cut ``digits`` into two or more groups."""
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


def _short_year_dates(day: int) -> list[tuple[str, str]]:
    """February ``day``, 1961 with a two-digit year in every layout, each with the separator
    of its parts when they are numbers only (``3.2.61``: ``.``; ``Feb 3 '61``: none)."""
    named = [
        (layout.format(d=d, m=m, y=y), "")
        for layout in ("{d} {m} {y}", "{m} {d} {y}", "{d}-{m}-{y}", "{m} {d}, {y}", "{d}.{m}.{y}")
        for d, m, y in itertools.product(
            (str(day), f"{day:02d}", f"{day}{'rd' if day == 3 else 'th'}"),
            ("Feb", "Feb.", "February"),
            ("61", "'61", "\u201961"),
        )
    ]
    numeric = [
        (f"{a}{s}{b}{s}61", s)
        for s in "./-"
        for d, m in itertools.product((str(day), f"{day:02d}"), ("2", "02"))
        for a, b in ((d, m), (m, d))
    ] + [(f"61{s}02{s}{day:02d}", s) for s in "./-"]
    return named + numeric


#: What follows a folder or file name in a path (``/1.dcm``, a UID) or comes before it.
AFTER = ("/1.dcm", "/00001", "/1.2.840.113619.2.1", "/2", "_1", "-1/x", ".csv", "/IM0001")
BEFORE = ("in/", "x_", "778-899_", "out/Waylon Smithers ", "1_", "1/", "2-")


def test_a_two_digit_year_birth_date_before_a_folders_or_files_number() -> None:
    """Born 1961-02-03 (breaker 7): every two-digit-year layout, followed by ``/`` and a
    file's number (``in/Feb 3 '61/1.dcm``, ``in/3.2.61/00001``) or after a number glued by
    ``_`` (``778-899_Feb 3 '61.csv``) is found, dashed with a counter too (``3-2-61-1``); only
    the same ``.`` or ``/`` as the date's own parts makes one longer number (``3.2.61.1``,
    ``1/3/2/61``), which stays; nobody's birth date (02-04) stays in every context."""
    for date, inner in _short_year_dates(3):
        for before, after in itertools.product(BEFORE, AFTER):
            text = f"{before}{date}{after}"
            out = redact.redact(text)
            glued_before = inner in "./" and before[-1:] == inner and before[-2:-1].isdigit()
            if glued_before or (inner in "./" and after[:1] == inner and after[1:2].isdigit()):
                assert date in out, text
            else:
                assert date not in out and MASK in out, text
    for date, _ in _short_year_dates(4):
        for before, after in itertools.product(BEFORE[:2], AFTER):
            assert redact.redact(f"{before}{date}{after}") == f"{before}{date}{after}"


@pytest.fixture(scope="module")
def inserted() -> list[str]:
    """Characters that hide in a path and that ``repr()`` or ``ascii()`` write escaped: the
    format characters (Cf) and combining marks (Mn, Mc, Me) of the Unicode database, every
    one of Latin-1 and one of each further block of 64 (the escapes' every form:
    ``\\xhh``, ``\\uhhhh``, ``\\Uhhhhhhhh``)."""
    found, blocks = [], set()
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        if category in ("Cf", "Mn", "Mc", "Me") and (code <= 0xFF or code >> 6 not in blocks):
            found.append(char)
            blocks.add(code >> 6)
    assert {"\u200b", "\xad", "\U000e0001"} <= set(found)
    return found


def test_identifiers_in_an_os_errors_escaped_path(inserted: list[str]) -> None:
    """Python writes an OS error's path as ``repr()`` does (``[Errno 2] No such file or
    directory: '/x/Waylon S\\u200bmithers/1.dcm'``; breaker 7): a name, an MRN and a birth
    date with each character inserted, written by ``repr()`` and by ``ascii()`` inside an
    OS error's text, are masked, the escapes with them; other text stays."""
    for char, spelled in itertools.product(inserted, ("Waylon Smithers", "MRN4455667")):
        cut = len(spelled) // 2 + 1
        path = f"/x/{spelled[:cut]}{char}{spelled[cut:]}/1.dcm"
        for write in (repr, ascii):
            error = str(FileNotFoundError(2, "No such file or directory", path))
            error = error.replace(repr(path), write(path))
            out = redact.redact(error)
            assert out.startswith("[Errno 2] No such file or directory: '/x/"), (error, out)
            assert out.endswith(f"{MASK}/1.dcm'"), (hex(ord(char)), write, out)
    for written in (r"Waylon S\u200bmithers", r"M\xfcller", r"1961\u201102\u201103"):
        redact.forget_all()
        remember_patients(["Smithers^Waylon", "Müller^Jürgen"], ["1961-02-03"])
        assert (
            redact.redact(f"'C:\\\\in\\\\{written}\\\\x.dcm'") == f"'C:\\\\in\\\\{MASK}\\\\x.dcm'"
        )
    ordinary = r"'C:\\x53mithers\\tab', 'a\tb', 'S\u200bmith', '\U0001f600 ok'"
    assert redact.redact(ordinary) == ordinary


@pytest.fixture(scope="module")
def thousands_separators() -> list[str]:
    """Every comma and apostrophe that separates thousands: the characters whose NFKC form is
    ``,`` or ``'`` (the Unicode database), the right single quotation mark (Excel's and the
    Swiss grouping separator, CLDR de-CH) and the Arabic thousands separator."""
    found = ["\u2019", "\u066c"]
    for code in range(sys.maxunicode + 1):
        if unicodedata.normalize("NFKC", chr(code)) in (",", "'"):
            found.append(chr(code))
    assert {",", "'", "\uff0c", "\uff07", "\ufe50"} <= set(found)
    return found


def test_an_id_in_thousands_with_commas_or_apostrophes(thousands_separators: list[str]) -> None:
    """``4455667`` of ``MRN4455667`` and ``778899`` of ``HOSP-778899`` written with every comma
    and apostrophe (breaker 7: ``4,455,667``, ``778,899``, ``778'899``, ``778’899``): every
    cut of the digits into groups is found when it is the thousands (also after the ID's
    letters), and stays otherwise (``77,88,99``: a list); a longer number or a decimal with
    those groups, a mixed grouping and a list with spaces stay."""
    for digits, prefixes in (("778899", ("", "hosp ", "HOSP-")), ("4455667", ("", "MRN: "))):
        thousands = _thousands(digits)
        for groups, char in itertools.product(_groupings(digits), thousands_separators):
            for prefix in prefixes:
                text = f"x {prefix}{char.join(groups)} y"
                if groups == thousands:
                    assert redact.redact(text) == f"x {MASK} y", (text, hex(ord(char)))
                elif not prefix:
                    assert redact.redact(text) == text, (text, hex(ord(char)))
    ordinary = (
        "1,778,899 778,899.5 778,899,5 4,455.667 4.455,667 778,899'1 7,788,990 "
        "4,455,6670 778, 899 [778, 899]"
    )
    assert redact.redact(ordinary) == ordinary


def test_a_list_without_spaces_written_in_thousands_is_that_number() -> None:
    """At 100,000 sequential hospital IDs (H100000…), ``101,102`` is the thousands spelling
    of a remembered 101102 and masked; ``101, 102`` (a list) and ``101,102,103`` stay."""
    remember_patients([], ["H101102"])
    assert redact.redact("ids 101,102 and 101’102.") == f"ids {MASK} and {MASK}."
    assert redact.redact("ids 101, 102; 101,102,103") == "ids 101, 102; 101,102,103"


def test_an_ids_digits_inside_a_decimal_a_hash_or_a_uuid_are_another_token() -> None:
    """An MRN's digit run (``778899`` of ``HOSP-778899``, ``4455667`` of ``MRN4455667``) is a
    whole number (breaker 7): not a decimal's fraction (``0.778899``), not glued inside a
    hexadecimal hash (SHA-256, every place, every hex letter beside it) or a UUID's group;
    the same digits as the number itself, after letters that are no hex token
    (``x4455667``, ``IM778899``, ``a4455667``), and as a UID's component stay masked."""
    sha = "42258d140e9f2324a8d0cd2129d0263aeec055fa718f70b477aa579b0"
    uuid = "9b5b40ea-fc97-4fca-8d51-{}"
    for digits, letter in itertools.product(("778899", "4455667"), "abcdef"):
        for at in range(len(sha) + 1):
            token = sha[:at] + digits + sha[at:]
            assert redact.redact(f"sha256 {token} ok") == f"sha256 {token} ok", token
        groups = (digits + letter * (12 - len(digits)), letter * (12 - len(digits)) + digits)
        for group in (*groups, letter + digits + letter * (11 - len(digits))):
            assert redact.redact(f"id {uuid.format(group)}.") == f"id {uuid.format(group)}.", group
        for decimal in (f"0.{digits}", f"12.{digits}", f"-3.{digits}", f"p=0.{digits}"):
            assert redact.redact(f"value {decimal} ok") == f"value {decimal} ok", decimal
        for spelled in (digits, f"x{digits}", f"IM{digits}", f"{letter}{digits}"):
            assert redact.redact(f"in/{spelled}.dcm ok") == f"in/{MASK}.dcm ok", spelled
    assert redact.redact("UID 1.2.826.778899") == f"UID 1.2.826.{MASK}"
