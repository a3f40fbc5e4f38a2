"""Command-line output naming a film's FILE passes the redaction boundary (stdout too): a
film path may hold another patient's name or MRN in its folders or name.

The study holds two patients: the films' own (from their headers) and SMITHERS^WAYLON, MRN
MRN4455667, born 1961-02-03, whose identifiers name the files and folders.  Also: a dangling
symbolic link is reported by the path given, and ``import --json`` lists every warning it
printed.  Each command runs in a fresh process, as a user would run it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import make_dataset

PLANTED = ("smithers", "waylon", "mrn4455667", "4455667")
BIRTH_YEAR = re.compile(r"(?<!\d)1961(?!\d)")  # the year alone: UIDs and hashes hold digit runs


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cobbdesk", *args], capture_output=True, text=True, cwd=cwd,
        timeout=120, check=False,
    )  # fmt: skip


def _assert_clean(text: str) -> None:
    for value in PLANTED:
        assert value not in text.casefold(), f"{value!r} leaked: {text!r}"
    assert BIRTH_YEAR.search(text) is None, f"the birth year leaked: {text!r}"


def _film(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = (np.arange(32 * 32).reshape(32, 32) % 4096).astype(np.uint16)
    make_dataset(pixels, bits_stored=12).save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def study(tmp_path: Path) -> Path:
    from cobbdesk.core.store import Study

    path = tmp_path / "two.cobbdesk"
    with Study.create(path, actor="t") as created:
        created.add_patient(
            "P002", name="SMITHERS^WAYLON", mrn="MRN4455667", birth_date="1961-02-03"
        )
    return path


@pytest.mark.parametrize(
    ("first", "again"),
    [
        ("in/a.dcm", "out/MRN-4455667_lat.dcm"),
        ("in/a.dcm", "Smithers Waylon/film.dcm"),
        ("MRN4455667/a.dcm", "in/b.dcm"),  # the film already stored is named in the line
        ("in/a.dcm", "ＭＲＮ４４５５６６７/03.02.1961.dcm"),
    ],
)
def test_duplicate_paths_are_redacted(study: Path, tmp_path: Path, first: str, again: str) -> None:
    film = _film(tmp_path / first)
    assert _run(["import", str(study), str(film)], cwd=tmp_path).returncode == 0
    copy = tmp_path / again
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(film, copy)
    done = _run(["import", str(study), str(copy)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 duplicate(s) skipped" in done.stdout
    line = next(x for x in done.stdout.splitlines() if x.startswith("duplicate: "))
    assert "[redacted]" in line and "SOP Instance UID of film 1" in line
    _assert_clean(done.stdout + done.stderr)
    as_json = _run(["import", str(study), str(copy), "--json"], cwd=tmp_path)
    report = json.loads(as_json.stdout)
    assert len(report["duplicates"]) == 1 and "[redacted]" in json.dumps(report["duplicates"])
    _assert_clean(as_json.stdout + as_json.stderr)


def test_skipped_files_and_imported_paths_are_redacted(study: Path, tmp_path: Path) -> None:
    folder = tmp_path / "Smithers_Waylon"
    _film(folder / "MRN4455667.dcm")
    (folder / "notes MRN 4455667.txt").write_text("not a film", encoding="utf-8")
    done = _run(["import", str(study), str(folder)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 film(s) imported" in done.stdout and "skipped: " in done.stdout
    _assert_clean(done.stdout + done.stderr)
    again = _run(["import", str(study), str(folder), "--json"], cwd=tmp_path)
    report = json.loads(again.stdout)
    assert report["skipped"] and report["duplicates"]
    _assert_clean(again.stdout + again.stderr)


def test_inspect_names_the_file_redacted(tmp_path: Path) -> None:
    """No study: the PN and date rules (a DICOM-style name and a DA date in the name)."""
    film = _film(tmp_path / "SMITHERS^WAYLON_19610203.dcm")
    done = _run(["inspect", str(film)], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert ": ok " in done.stdout and "[redacted]" in done.stdout
    _assert_clean(done.stdout)
    records = json.loads(_run(["inspect", str(film), "--json"], cwd=tmp_path).stdout)
    assert records[0]["ok"] and "[redacted]" in records[0]["file"]


def test_a_dangling_link_is_named_by_the_path_given(study: Path, tmp_path: Path) -> None:
    folder = tmp_path / "films"
    folder.mkdir()
    (folder / "link.dcm").symlink_to(tmp_path / "gone" / "target_name.dcm")
    done = _run(["import", str(study), "films"], cwd=tmp_path)
    assert done.returncode == 1
    assert "films/link.dcm: cannot be read" in done.stderr
    assert "target_name" not in done.stdout + done.stderr


def test_import_json_lists_every_warning_it_printed(study: Path, tmp_path: Path) -> None:
    """A library warning (an unknown character set) printed on stderr is in the JSON's
    warnings, as many as were printed."""
    pixels = (np.arange(64 * 64).reshape(64, 64) % 4096).astype(np.uint16)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = make_dataset(pixels, bits_stored=12)
        ds.SpecificCharacterSet = "ISO_IR 999"
        ds.save_as(tmp_path / "odd.dcm", enforce_file_format=True)
    done = _run(["import", str(study), "odd.dcm", "--json"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    printed = [x for x in done.stderr.splitlines() if x.startswith("cobbdesk: warning: ")]
    report = json.loads(done.stdout)
    assert printed and len(report["warnings"]) == len(printed)
    assert [f"cobbdesk: warning: {w}" for w in report["warnings"]] == printed
