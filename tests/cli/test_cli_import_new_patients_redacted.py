"""The FIRST import of a folder into an empty study redacts the patients it writes.

The folder is named after the MRN, name and birth date of the patient whose film it holds,
and an unreadable file named after the MRN lies beside the film: the lines naming that file
(stdout, stderr, ``--json``) are printed after the import wrote the patient, whose identifiers
were unknown when the study opened.  The store hands them to redaction in the write
(:func:`cobbdesk.core.store.bulk.add_films_bulk`).  Each command runs in a fresh process.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_dataset

PLANTED = ("4455667", "mueller", "juergen", "müller", "jürgen", "3.2.61")
BIRTH_YEAR = re.compile(r"(?<!\d)1961(?!\d)")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cobbdesk", *args], capture_output=True, text=True, cwd=cwd,
        timeout=120, check=False,
    )  # fmt: skip


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "MRN 4455667 Smithers" / "Mueller Juergen 3.2.61"
    folder.mkdir(parents=True)
    pixels = (np.arange(32 * 32).reshape(32, 32) % 4096).astype(np.uint16)
    film = make_dataset(
        pixels, bits_stored=12, PatientID="MRN4455667", PatientName="Müller^Jürgen",
        PatientBirthDate="19610203",
    )  # fmt: skip
    film.save_as(folder / "MRN4455667 lat.dcm", enforce_file_format=True)
    (folder / "MRN4455667 broken.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00" * 7)
    return folder


def _assert_clean(text: str) -> None:
    for value in PLANTED:
        assert value not in text.casefold(), f"{value!r} leaked: {text!r}"
    assert BIRTH_YEAR.search(text) is None, f"the birth year leaked: {text!r}"


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("create", [False, True])
def test_first_import_redacts_the_patients_it_writes(
    tmp_path: Path, create: bool, as_json: bool
) -> None:
    from cobbdesk.core.store import Study

    study = tmp_path / "empty.cobbdesk"
    if not create:
        Study.create(study, actor="t").close()
    folder = _folder(tmp_path)
    args = ["import", str(study), str(folder), *(["--create"] if create else [])]
    done = _run([*args, *(["--json"] if as_json else [])], cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    printed = done.stdout + done.stderr
    assert "broken.dcm" in printed  # the unreadable file is reported, its name redacted
    assert "[redacted]" in printed
    _assert_clean(printed)
    if as_json:
        report = json.loads(done.stdout)
        assert len(report["imported"]) == 1
    else:
        assert "1 film(s) imported" in done.stdout or "imported 1" in done.stdout, done.stdout
    with Study.open(study) as opened:  # the patient was written (the case that leaked)
        assert [p.dicom_patient_id for p in opened.patients()] == ["MRN4455667"]
