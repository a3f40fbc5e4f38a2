"""A remembered identifier beside the text real logs put around it (cobbdesk.core.redact):
folders and file names after a birth date, OS error texts written with Python's escapes,
and the longer tokens (decimals, hashes, UUIDs) that merely contain an ID's digits."""

from __future__ import annotations

import itertools

import pytest

from cobbdesk.core import redact
from cobbdesk.core.redact import MASK, remember_patients

PATIENT = ("Smithers^Waylon", "MRN4455667", "1961-02-03", "HOSP-778899")


@pytest.fixture(autouse=True)
def _known() -> None:
    redact.forget_all()
    remember_patients([PATIENT[0]], list(PATIENT[1:]))


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
    ``_`` (``778-899_Feb 3 '61.csv``) is found; only the same separator as the date's own
    parts makes one longer number (``3.2.61.1``, ``1/3/2/61``), which stays; nobody's birth
    date (02-04) stays in every context."""
    for date, inner in _short_year_dates(3):
        for before, after in itertools.product(BEFORE, AFTER):
            text = f"{before}{date}{after}"
            out = redact.redact(text)
            glued_before = inner and before[-1:] == inner and before[-2:-1].isdigit()
            if glued_before or (inner and after[:1] == inner and after[1:2].isdigit()):
                assert date in out, text
            else:
                assert date not in out and MASK in out, text
    for date, _ in _short_year_dates(4):
        for before, after in itertools.product(BEFORE[:2], AFTER):
            assert redact.redact(f"{before}{date}{after}") == f"{before}{date}{after}"
