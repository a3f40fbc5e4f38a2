"""Failures of a study another program holds (locked) or that cannot be written (read-only),
run as real processes: one error line (a lock wait may first print its one ``note`` line),
the documented exit status (3 locked, 4 read-only), no traceback, no identifier, ``--json``
variants too; the study is unchanged.  Read-only: a read-only bind mount as root (skipped
without mount permission), ``chmod`` otherwise."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cobbdesk.core.store import Study

SECRETS = ("smithers", "waylon", "4455667", "1961")
NAME = "Smithers_Waylon.cobbdesk"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cobbdesk", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=180, check=False)  # fmt: skip


@pytest.fixture
def study(tmp_path: Path) -> Path:
    path = tmp_path / NAME
    with Study.create(path, actor="t") as created:
        patient = created.add_patient(
            "P001", name="SMITHERS^WAYLON", mrn="MRN4455667", birth_date="1961-02-03"
        )
        created.add_visit(patient, "admission", visit_date="20260105")
    (tmp_path / "labs.csv").write_text("study_id,visit,vas\nP001,admission,3\n")
    return path


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Another process holds the study's write lock (BEGIN IMMEDIATE) until the block ends."""
    code = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
        "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.communicate("")


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], check=False, capture_output=True).returncode == 0


@contextmanager
def _read_only(target: Path) -> Iterator[None]:
    if os.geteuid() != 0:
        mode = target.stat().st_mode
        target.chmod(0o400)
        try:
            yield
        finally:
            target.chmod(mode)
        return
    if not _mount("--bind", str(target), str(target)):
        pytest.skip("root without mount permission: cannot make a read-only file")
    try:
        if not _mount("-o", "remount,ro,bind", str(target)):
            pytest.skip("cannot remount read-only")
        yield
    finally:
        subprocess.run(["umount", str(target)], check=True)


def _error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    notes = [line for line in lines if line.startswith("cobbdesk: note: waiting for the study")]
    assert len(lines) - len(notes) == 1 and len(notes) <= 1, done.stderr
    assert not any(s in (done.stdout + done.stderr).casefold() for s in SECRETS), done.stderr
    assert lines[-1].startswith("cobbdesk: error: "), done.stderr
    return lines[-1]


WRITES = [
    ["labs", NAME, "labs.csv"],
    ["labs", NAME, "labs.csv", "--json"],
    ["export", NAME, "--format", "wide", "-o", "w.csv"],
    ["stats", NAME, "--set-raters", "mean", "--reason", "r"],
    ["plan", "create", NAME, "p1", "--raters", "a,b", "--seed", "1", "--json"],
    ["copy", NAME, "copy.cobbdesk"],
    ["copy", NAME, "copy2.cobbdesk", "--json"],
]


@pytest.mark.parametrize("args", WRITES, ids=" ".join)
def test_a_locked_study(study: Path, args: list[str]) -> None:
    before = hashlib.sha256(study.read_bytes()).hexdigest()
    with _locked(study):
        done = _run(args, study.parent)
    assert done.returncode == 3, done.stderr
    assert "the study is locked" in _error_line(done)
    assert hashlib.sha256(study.read_bytes()).hexdigest() == before
    assert not (study.parent / "w.csv").exists() and not (study.parent / "copy.cobbdesk").exists()


@pytest.mark.parametrize("args", WRITES, ids=" ".join)
def test_a_read_only_study(study: Path, args: list[str]) -> None:
    """``copy`` of a read-only study (which cannot record the copy in its audit trail) exits 4
    like every other write to it (it exited 1)."""
    before = hashlib.sha256(study.read_bytes()).hexdigest()
    with _read_only(study):
        done = _run(args, study.parent)
    assert done.returncode == 4, done.stderr
    assert "read-only" in _error_line(done)
    assert hashlib.sha256(study.read_bytes()).hexdigest() == before
    assert not (study.parent / "w.csv").exists() and not (study.parent / "copy.cobbdesk").exists()
