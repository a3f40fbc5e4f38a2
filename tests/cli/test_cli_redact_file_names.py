"""Patient identifiers in a film's FILE NAME never reach stderr (cobbdesk.core.redact).

A truncated film is copied to names holding the study's patient (SMITHERS^WAYLON, MRN
MRN4455667, born 19610203) joined by ``_``, glued to letters, or with a glued ``YYYYMMDD``
date; ``cobbdesk import`` names the file in its one-line error.  ``inspect`` and ``render``
(no study) redact DICOM-style names and dates in their error lines and JSON error records.
Each command runs in a fresh process, as a user would run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_dataset

PLANTED = ("smithers", "waylon", "mrn4455667", "4455667", "19610203", "20200101")
LEAKING = [
    "MRN4455667_lat.dcm",
    "x_MRN4455667.dcm",
    "xMRN4455667.dcm",
    "Smithers_Waylon.dcm",
    "SMITHERS_WAYLON_MRN4455667.dcm",
    "SMITHERS_20200101.dcm",
    "smithers-waylon.dcm",
    "Waylon.Smithers.dcm",
    "scan_smitherswaylon_01.dcm",
    "MRN4455667.dcm",
    "x MRN4455667.dcm",
    "SMITHERS WAYLON.dcm",
    "19610203_scan.dcm",
]


def _truncated(path: Path) -> Path:
    """A real film cut before its image elements: every command fails naming the file."""
    pixels = (np.arange(32 * 32).reshape(32, 32) % 4096).astype(np.uint16)
    whole = path.with_suffix(".whole")
    make_dataset(pixels, bits_stored=12).save_as(whole, enforce_file_format=True)
    path.write_bytes(whole.read_bytes()[:300])
    return path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cobbdesk", *args], capture_output=True, text=True, cwd=cwd,
        timeout=120, check=False,
    )  # fmt: skip


def _assert_clean(text: str) -> None:
    for value in PLANTED:
        assert value not in text.casefold(), f"{value!r} leaked: {text!r}"


@pytest.fixture
def study(tmp_path: Path) -> Path:
    from cobbdesk.core.store import Study

    path = tmp_path / "id.cobbdesk"
    with Study.create(path, actor="t") as created:
        created.add_patient("P001", name="SMITHERS^WAYLON", mrn="MRN4455667", birth_date="19610203")
    return path


@pytest.mark.parametrize("name", LEAKING)
def test_import_error_hides_identifiers_in_the_file_name(
    study: Path, tmp_path: Path, name: str
) -> None:
    film = _truncated(tmp_path / name)
    done = _run(["import", str(study), str(film)], cwd=tmp_path)
    assert done.returncode != 0
    assert "[redacted]" in done.stderr and "truncated" in done.stderr  # the error is still said
    _assert_clean(done.stderr)


@pytest.mark.parametrize("command", ["inspect", "inspect --json", "render"])
def test_inspect_and_render_errors_hide_caret_names_and_dates(tmp_path: Path, command: str) -> None:
    film = _truncated(tmp_path / "Smithers^Waylon 19610203.dcm")
    args = [*command.split(), film.name]
    if command == "render":
        args += ["-o", str(tmp_path / "out.png")]
    done = _run(args, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("cobbdesk: error: [redacted] [redacted].dcm: "), done.stderr
    _assert_clean(done.stderr)
    if command == "inspect --json":
        (record,) = json.loads(done.stdout)
        assert record["ok"] is False and record["error"].startswith("[redacted] [redacted].dcm")
        _assert_clean(record["error"])
