"""An output refused before the study is opened (a missing folder named after a patient) is
printed redacted with the study's identifiers, which are read without writing a byte to the
study, its ``-wal`` or its ``-shm`` (a breaker's find: the path was printed as given; opening
the study first changed the ``-wal`` beside it).  Also a "study" that is a DICOM film named
after its patient, and a study whose open is refused.  Each command runs in a fresh process.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.cli.identifiers import study_identifiers
from cobbdesk.core.store import Study
from tests.conftest import make_dataset

SECRETS = ("smithers", "waylon", "4455667", "1961", "quimby", "778899")

HOLD = """
import sys
from cobbdesk.core.store import Study
study = Study.open(sys.argv[1], actor="holder")
study.add_patient("P003", name="QUIMBY^JOE", mrn="HOSP-778899")
study.file_check.raise_if_damaged()
print("ready", flush=True)
sys.stdin.read()
study.close()
"""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cobbdesk", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, check=False)  # fmt: skip


def _clean(text: str) -> None:
    assert not any(s in text.casefold() for s in SECRETS), text


def _state(study: Path) -> dict[str, tuple[str, int] | None]:
    """Bytes (hashed) and modification time of the study and its companion files."""
    out: dict[str, tuple[str, int] | None] = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = study.with_name(study.name + suffix)
        if path.exists():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[suffix] = (digest, path.stat().st_mtime_ns)
        else:
            out[suffix] = None
    return out


@pytest.fixture
def study(tmp_path: Path) -> Path:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="t") as created:
        created.add_patient(
            "P002", name="SMITHERS^WAYLON", mrn="MRN4455667", birth_date="1961-02-03"
        )
    return path


REFUSED = [
    ["export", "s.cobbdesk", "--format", "wide", "-o", "Waylon Smithers/x.csv"],
    ["export", "s.cobbdesk", "--format", "sav", "-o", "MRN 4455667/x.sav"],
    ["export", "s.cobbdesk", "--format", "wide", "-o", "ok.csv", "--stats-json",
     "smithers 3 feb 1961/s.json"],
    ["stats", "s.cobbdesk", "--report", "Smithers_Waylon/r.html"],
]  # fmt: skip


def _refused(study: Path, args: list[str]) -> None:
    done = _run(args, study.parent)
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "[redacted]" in lines[0] and "does not exist" in lines[0], lines
    assert "Traceback" not in done.stderr
    _clean(done.stdout + done.stderr)
    assert not (study.parent / "ok.csv").exists()


@pytest.mark.parametrize("args", REFUSED, ids=lambda a: a[-1])
def test_refused_output_is_redacted_and_no_companion_file_appears(
    study: Path, args: list[str]
) -> None:
    before = _state(study)
    assert before["-wal"] is None and before["-shm"] is None
    _refused(study, args)
    assert _state(study) == before  # no -wal, no -shm created; the study's bytes and mtime


def test_refused_output_beside_an_empty_wal_leaves_it_untouched(study: Path) -> None:
    """The case of tests/cli/test_cli_output_is_study.py: an empty ``-wal`` beside the study
    (as another program left it); SQLite's ``mode=ro`` would create a ``-shm`` here."""
    wal = study.with_name(study.name + "-wal")
    wal.write_bytes(b"")
    os.utime(wal, ns=(1_000_000_000, 1_000_000_000))  # an old mtime: any write shows
    before = _state(study)
    for args in REFUSED:
        _refused(study, args)
    assert _state(study) == before


def test_study_open_in_another_program_is_read_without_a_write(study: Path) -> None:
    """Another program holds the study open with a patient committed only to the ``-wal``
    (not checkpointed): that patient's identifiers are redacted too, and neither the study
    nor its ``-wal`` nor its ``-shm`` changes (``mode=ro`` writes read marks into the
    ``-shm``; ``immutable=1`` would not see the patient)."""
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(study)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        before = _state(study)
        assert before["-wal"] is not None and before["-shm"] is not None
        _refused(study, ["export", "s.cobbdesk", "--format", "wide", "-o", "Quimby Joe/x.csv"])
        _refused(study, ["export", "s.cobbdesk", "--format", "long", "-o", "HOSP 778899/x.csv"])
        assert _state(study) == before
        names, values = study_identifiers(study)
        assert "QUIMBY^JOE" in names.splitlines() and "HOSP-778899" in values.splitlines()
        assert _state(study) == before
    finally:
        holder.communicate("", timeout=60)
    assert holder.returncode == 0


def test_the_read_only_uri_modes_would_not_do(study: Path) -> None:
    """Why :func:`study_identifiers` copies a study with a ``-wal``: SQLite's ``mode=ro``
    creates a ``-shm`` beside an empty ``-wal``; ``immutable=1`` ignores the ``-wal``."""
    wal = study.with_name(study.name + "-wal")
    wal.write_bytes(b"")
    reader = sqlite3.connect(f"file:{study}?mode=ro", uri=True)
    reader.execute("SELECT count(*) FROM patients").fetchone()
    reader.close()
    assert study.with_name(study.name + "-shm").exists()


def test_a_dicom_film_given_as_the_study_is_named_redacted(tmp_path: Path) -> None:
    """``export FILM.dcm``: the refusal names the film, whose header names the patient."""
    pixels = (np.arange(32 * 32).reshape(32, 32) % 4096).astype(np.uint16)
    ds = make_dataset(pixels, bits_stored=12)
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "SMITHERS^WAYLON", "MRN4455667", "19610203"
    ds.save_as(tmp_path / "Waylon_Smithers.dcm", enforce_file_format=True)
    for command in (
        ["export", "Waylon_Smithers.dcm", "--format", "wide", "-o", "x.csv"],
        ["verify", "Waylon_Smithers.dcm"],
        ["film", "Waylon_Smithers.dcm", "--list"],
    ):
        done = _run(command, tmp_path)
        assert done.returncode == 1, done.stderr
        line = done.stderr.strip()
        assert "\n" not in line and "not a CobbDesk study" in line and "[redacted]" in line
        _clean(done.stdout + done.stderr)


def test_a_study_open_in_this_process_is_never_opened_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A line said while this process has the study open (a lock wait's note) does not read
    it: closing a second descriptor of the file would drop the POSIX locks SQLite holds on it
    (the lock-wait note did so: another program's close then deleted the -wal under the
    waiting write).  Once the study is closed, a refusal reads it."""
    from cobbdesk.cli import identifiers, output

    study = tmp_path / "bare.cobbdesk"  # no name, MRN or birth date: nothing remembered
    with Study.create(study, actor="t") as created:
        created.add_patient("P001")
    read: list[Path] = []
    monkeypatch.setattr(identifiers, "study_identifiers", lambda p: read.append(p) or ("", ""))
    identifiers.reset()
    identifiers.note_study(study)
    opened = Study.open(study, actor="t")
    try:
        opened.patients()  # a pooled connection holds the file open
        assert identifiers.held_open(study)
        output.say("note", "waiting for the study")
        assert read == []
    finally:
        opened.close()
    assert not identifiers.held_open(study)
    identifiers.learn_named()
    assert read == [study]
    identifiers.reset()
