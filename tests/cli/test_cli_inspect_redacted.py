"""``inspect`` and ``render`` involve no study, so the only identifiers redaction can know are
those in the files they read: a folder or file named after the patient in the file is
printed masked (a breaker's find: ``inspect`` printed such folder names in clear; the name
and date rules alone miss ``Waylon Smithers``).  ``inspect FOLDER`` inspects each file under
it.  Each command runs in a fresh process, as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.conftest import make_dataset

SECRETS = ("smithers", "waylon", "4455667", "1961", "quimby", "778899")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cobbdesk", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, check=False)  # fmt: skip


def _clean(text: str) -> None:
    assert not any(s in text.casefold() for s in SECRETS), text


def _film(path: Path, name: str, patient_id: str, birth: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = (np.arange(32 * 32).reshape(32, 32) % 4096).astype(np.uint16)
    ds = make_dataset(pixels, bits_stored=12)
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = name, patient_id, birth
    ds.save_as(path, enforce_file_format=True)
    return path


def test_inspect_folder_masks_the_patient_named_in_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "Waylon Smithers MRN 4455667"
    _film(folder / "waylon_smithers.dcm", "SMITHERS^WAYLON", "MRN4455667", "19610203")
    _film(folder / "Feb 3 1961" / "lateral.dcm", "SMITHERS^WAYLON", "MRN4455667", "19610203")
    text = _run(["inspect", folder.name], tmp_path)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.strip().splitlines()
    assert len(lines) == 2 and all(": ok 32×32" in line for line in lines), lines
    assert all(line.startswith("[redacted]") for line in lines), lines
    _clean(text.stdout + text.stderr)
    as_json = _run(["inspect", folder.name, "--json"], tmp_path)
    records = json.loads(as_json.stdout)
    assert [r["ok"] for r in records] == [True, True]
    _clean(as_json.stdout + as_json.stderr)


def test_inspect_masks_every_file_read_before_it_prints_a_line(tmp_path: Path) -> None:
    """The first file's error line is printed after the second file's header was read: a
    file of one patient kept in a folder named after another is masked too."""
    broken = tmp_path / "Quimby Joe" / "scan.dcm"
    broken.parent.mkdir()
    broken.write_bytes(b"not a film")
    film = _film(tmp_path / "Quimby Joe" / "film.dcm", "QUIMBY^JOE", "HOSP-778899")
    done = _run(["inspect", str(broken.relative_to(tmp_path)), str(film.relative_to(tmp_path))],
                tmp_path)  # fmt: skip
    assert done.returncode == 1
    assert "[redacted]/film.dcm: ok" in done.stdout
    assert done.stderr.count("\n") == 1 and "scan.dcm: not a DICOM file" in done.stderr
    _clean(done.stdout + done.stderr)


def test_a_damaged_film_still_masks_its_header_identifiers(tmp_path: Path) -> None:
    """A film whose pixels cannot be read still has a header naming the patient: the line of
    another film in the folder named after that patient is masked too."""
    film = _film(tmp_path / "Waylon Smithers" / "film.dcm", "SMITHERS^WAYLON", "MRN4455667")
    data = film.read_bytes()
    film.write_bytes(data[: len(data) - 1000])  # pixel data cut short
    _film(tmp_path / "Waylon Smithers" / "other.dcm", "QUIMBY^JOE", "HOSP-778899")
    done = _run(["inspect", "Waylon Smithers"], tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "film.dcm" in done.stderr, done.stderr
    assert "[redacted]/other.dcm: ok" in done.stdout
    _clean(done.stdout + done.stderr)


def test_render_into_a_folder_named_after_the_patient(tmp_path: Path) -> None:
    _film(tmp_path / "film.dcm", "SMITHERS^WAYLON", "MRN4455667", "19610203")
    done = _run(["render", "film.dcm", "-o", "Smithers Waylon/missing/x.png"], tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("cobbdesk: error: cannot write x.png: the folder [redacted]")
    _clean(done.stdout + done.stderr)


def test_an_empty_folder_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    done = _run(["inspect", "empty"], tmp_path)
    assert done.returncode == 1
    assert done.stderr == "cobbdesk: error: empty: the folder holds no file\n"
