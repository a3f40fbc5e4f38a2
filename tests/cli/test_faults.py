"""Faults give words (#12): locked, read-only file and folder, full disk, version-less and
foreign files — each with its message, exit status, the study unchanged, and no planted
patient identifier in any output or log.

Running as root (as here), ``chmod`` does not stop writes, so read-only files and folders are
made with read-only bind mounts (EROFS) and a full disk with a small tmpfs; both need
CAP_SYS_ADMIN and are skipped without it.  As an ordinary user, ``chmod 0400/0500`` is used
(EACCES) and the full-disk test is skipped.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pydicom
import pytest

from cobbdesk.cli import main
from cobbdesk.core.errors import StoreError, StudyLockedError, StudyReadOnlyError
from cobbdesk.core.store import Study, dialect
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

NAME, MRN, BIRTH, HOSPITAL_ID = "Zorkwell^Quintessa", "MRN-778899", "19610203", "HOSP-4455"
PLANTED = ("Zorkwell", "Quintessa", MRN, BIRTH, "1961-02-03", HOSPITAL_ID)
ROOT = os.geteuid() == 0


def _film(folder: Path, name: str = "film.dcm") -> Path:
    spine = make_lateral_spine("lumbar", 30.0, rows=400, columns=320, spacing_mm=(0.6, 0.6))
    path = write_dicom(spine, folder / name, patient_id=HOSPITAL_ID, patient_name=NAME)
    ds = pydicom.dcmread(path)
    ds.PatientBirthDate = BIRTH
    ds.save_as(path)
    return path


def _study(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "trial.cobbdesk"
    with Study.create(path, actor="nurse") as study:
        pid = study.add_patient(
            "P0001", name=NAME, mrn=MRN, birth_date=BIRTH, dicom_patient_id=HOSPITAL_ID
        )
        study.add_visit(pid, "admission", visit_date="20260105")
    return path


def _state(path: Path) -> tuple[str, list[str]]:
    """The study file's SHA-256 and the names in its folder."""
    return hashlib.sha256(path.read_bytes()).hexdigest(), sorted(
        p.name for p in path.parent.iterdir()
    )


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out + err


def _clean(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text
        for value in PLANTED:
            assert value.lower() not in text.lower(), f"{value!r} leaked into: {text!r}"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


# --- locked -------------------------------------------------------------------------------
@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Another process holds the study's write lock (BEGIN IMMEDIATE) until the block ends."""
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.communicate("")


def test_locked_study(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(dialect, "BUSY_TIMEOUT_MS", 20)
    path, film = _study(tmp_path / "s"), _film(tmp_path)
    before = _state(path)[0]
    out_csv = tmp_path / "out" / "wide.csv"
    out_csv.parent.mkdir()
    with _locked(path):
        with Study.open(path) as study, pytest.raises(StudyLockedError) as caught:
            study.add_patient("P0002", name=NAME, mrn=MRN, birth_date=BIRTH)
        assert caught.value.exit_status == 3
        assert caught.value.message.startswith("trial.cobbdesk: the study is locked")
        code, text = _run(["import", path, film], capsys)
        assert code == 3 and "locked" in text and "try again" in text
        code, export_text = _run(["export", path, "--format", "wide", "-o", out_csv], capsys)
        assert code == 3 and "locked" in export_text
        assert list(out_csv.parent.iterdir()) == []  # no export without its audit row
        _clean(caught.value.message, text, export_text, logs.text)
    assert _state(path)[0] == before
    assert main(["verify", str(path)]) == 0


# --- read-only ----------------------------------------------------------------------------
def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], check=False, capture_output=True).returncode == 0


@contextmanager
def _read_only(target: Path) -> Iterator[str]:
    """``target`` (file or folder) read-only: a read-only bind mount as root, chmod otherwise.

    Yields "EROFS" or "EACCES" (what writers will meet)."""
    if not ROOT:
        mode = target.stat().st_mode
        target.chmod(0o500 if target.is_dir() else 0o400)
        try:
            yield "EACCES"
        finally:
            target.chmod(mode)
        return
    if not _mount("--bind", str(target), str(target)):
        pytest.skip("root without mount permission: cannot make a read-only file or folder")
    try:
        if not _mount("-o", "remount,ro,bind", str(target)):
            pytest.skip("cannot remount read-only")
        yield "EROFS"
    finally:
        subprocess.run(["umount", str(target)], check=True)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_read_only_study(
    what: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    path, film = _study(tmp_path / "s"), _film(tmp_path)
    out_csv = tmp_path / "wide.csv"
    before = _state(path)
    with _read_only(path if what == "file" else path.parent):
        code, verify_text = _run(["verify", path], capsys)
        assert code == 0 and "database ok" in verify_text  # not "damaged"
        code, _ = _run(["stats", path, "--json"], capsys)
        assert code == 0
        with Study.open(path) as study:
            assert study.read_only and [p.study_id for p in study.patients()] == ["P0001"]
            with pytest.raises(StudyReadOnlyError) as caught:
                study.add_patient("P0002", name=NAME, mrn=MRN)
        assert caught.value.exit_status == 4
        expected = "its folder is read-only" if what == "folder" else "read-only"
        assert expected in caught.value.message
        code, import_text = _run(["import", path, film], capsys)
        assert code == 4 and "cannot be written" in import_text
        code, export_text = _run(["export", path, "--format", "wide", "-o", out_csv], capsys)
        assert code == 4 and not out_csv.exists()
        _clean(caught.value.message, verify_text, import_text, export_text, logs.text)
    after = _state(path)
    assert after[0] == before[0]
    if what == "folder":
        assert after[1] == before[1]  # no -wal, -shm or backup could be (or was) made


# --- disk full ----------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "small"
    folder.mkdir()
    if not ROOT or not _mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)):
        pytest.skip("needs root and mount permission for a 1 MiB tmpfs")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 512)
        except OSError:
            pass
    return filler


def test_disk_full(
    small_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    path, film = _study(small_disk / "s"), _film(tmp_path)
    before = _state(path)[0]
    filler = _fill(small_disk)
    code, import_text = _run(["import", path, film], capsys)
    assert code == 5 and "the disk is full" in import_text
    out_csv = small_disk / "wide.csv"
    code, export_text = _run(["export", path, "--format", "long", "-o", out_csv], capsys)
    assert code == 5 and "the disk is full" in export_text
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "s"]  # nothing partial
    _clean(import_text, export_text, logs.text)
    filler.unlink()
    assert _state(path)[0] == before
    assert main(["verify", str(path)]) == 0


# --- files that are not (sound) studies: refused without a byte changed -------------------
def _no_version(folder: Path) -> Path:
    path = _study(folder)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'schema_version'")
    conn.close()
    return path


def _foreign(folder: Path) -> Path:
    folder.mkdir()
    path = folder / "other.cobbdesk"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.execute("INSERT INTO notes VALUES ('hello')")
    conn.commit()
    conn.close()
    return path


def _empty(folder: Path) -> Path:
    folder.mkdir()
    (folder / "empty.cobbdesk").touch()
    return folder / "empty.cobbdesk"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_no_version, "has no schema version"),
        (_foreign, "not a CobbDesk study (no 'meta' table)"),
        (_empty, "the file is empty"),
    ],
)
def test_unsound_files_are_refused_untouched(
    make: object, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = make(tmp_path / "s")  # type: ignore[operator]
    before = _state(path)
    for argv in (["verify", path], ["stats", path], ["import", path, tmp_path]):
        code, text = _run(argv, capsys)
        assert code == 1 and message in text and "Traceback" not in text
    with pytest.raises(StoreError, match="it was not changed"):
        Study.open(path)
    assert _state(path) == before  # same bytes (still not WAL); no -wal, -shm or backup
