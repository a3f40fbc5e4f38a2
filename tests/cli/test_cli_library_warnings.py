"""Library warnings reach stderr as ONE redacted line naming the file, in CobbDesk's words
where known (:mod:`cobbdesk.core.library_warnings`), never pydicom's two-line raw form.

The malformed film carries a planted patient name inside a UID element (pydicom quotes the
invalid value in its warning), a too-long name (a PN length warning) and an unknown character
set.  The commands run in fresh processes, with Python's default warning filters, as a user
would run them.
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.core.library_warnings import CobbdeskWarning, one_line
from tests.conftest import make_dataset

PLANTED = ("Zorkwell", "Quintessa", "HOSP-4455", "19610203")


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    pixels = (np.arange(64 * 64).reshape(64, 64) % 4096).astype(np.uint16)
    with warnings.catch_warnings():  # writing the malformed values warns too
        warnings.simplefilter("ignore")
        ds = make_dataset(pixels, bits_stored=12)
        ds.SpecificCharacterSet = "ISO_IR 999"
        ds.PatientName = "Zorkwell^Quintessa" + "^" + "x" * 60
        ds.PatientID = "HOSP-4455"
        ds.PatientBirthDate = "19610203"
        ds.SeriesInstanceUID = "Zorkwell.Quintessa"
        path = tmp_path / "planted.dcm"
        ds.save_as(path, enforce_file_format=True)
    return path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cobbdesk", *args], capture_output=True, text=True, cwd=cwd,
        timeout=120, check=False,
    )  # fmt: skip


def _clean_one_line_warnings(stderr: str, name: str) -> list[str]:
    lines = stderr.splitlines()
    for line in lines:
        assert line.startswith(f"cobbdesk: warning: {name}: "), line  # one line, the file named
        for value in PLANTED:
            assert value.lower() not in line.lower(), f"{value!r} leaked: {line!r}"
    assert "site-packages" not in stderr and "warn_and_log" not in stderr
    assert len(set(lines)) == len(lines)  # each once
    return lines


@pytest.mark.parametrize("command", ["inspect", "render"])
def test_reading_a_malformed_film_warns_in_one_clean_line(planted: Path, command: str) -> None:
    args = ["inspect", "planted.dcm"] if command == "inspect" else ["render", "planted.dcm",
                                                                    "-o", "out.png"]  # fmt: skip
    done = _run(args, planted.parent)
    assert done.returncode == 0, done.stderr
    lines = _clean_one_line_warnings(done.stderr, "planted.dcm")
    text = "\n".join(lines)
    assert "a UI value does not follow DICOM's format for that VR" in text
    assert "unknown Specific Character Set (0008,0005) 'ISO_IR 999'" in text
    assert "a value is longer than DICOM allows (79 characters" in text


def test_import_warns_in_one_clean_line(planted: Path) -> None:
    done = _run(["import", "s.cobbdesk", "--create", "planted.dcm"], planted.parent)
    assert done.returncode == 0, done.stderr
    assert "1 film(s) imported" in done.stdout
    lines = _clean_one_line_warnings(done.stderr, str(planted.resolve()))
    assert lines, "the import read the malformed name: its warning is expected"


def test_film_list_does_not_repeat_the_import_warnings(tmp_path: Path) -> None:
    """``film --list`` reads the header of an unmeasured film without spacing for its
    header's spacing; that read's warnings were reported at import: none on the listing
    (it printed each twice)."""
    pixels = (np.arange(64 * 64).reshape(64, 64) % 4096).astype(np.uint16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = make_dataset(pixels, bits_stored=12, pixel_spacing=None)
        ds.SpecificCharacterSet = "ISO_IR 999"
        ds.save_as(tmp_path / "odd.dcm", enforce_file_format=True)
    assert _run(["import", "s.cobbdesk", "--create", "odd.dcm"], tmp_path).returncode == 0
    listed = _run(["film", "s.cobbdesk", "--list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "[header (none: uncalibrated)]" in listed.stdout  # the header was read
    assert listed.stderr == ""


@pytest.mark.shared
def test_undecodable_name_in_a_field_case_is_one_line_in_own_words(
    shared_data: Path, tmp_path: Path
) -> None:
    case = shared_data / "field-cases" / "fuzz_rle_multiframe_size_mismatch.dcm"
    done = _run(["import", "s.cobbdesk", "--create", str(case)], tmp_path)
    assert done.stderr.splitlines() == [
        f"cobbdesk: warning: {case}: text that cannot be decoded with the file's Specific "
        "Character Set (0008,0005) was read with replacement characters (�)"
    ]


def test_one_line_rules() -> None:
    pydicom_file = "/venv/lib/python3.11/site-packages/pydicom/charset.py"
    assert one_line(UserWarning("Failed to encode value with encodings: x"), UserWarning,
                    pydicom_file) is None  # fmt: skip
    assert one_line(CobbdeskWarning("kept 'as is'"), CobbdeskWarning, "") == "kept 'as is'"
    assert one_line(UserWarning("first 'Doe'\n  second"), UserWarning, pydicom_file) == (
        "pydicom: first '…'"
    )
