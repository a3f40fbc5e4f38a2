"""A fault of the study as a whole (its lock held by another program, its server gone) ends
``cobbdesk measure`` / ``cobbdesk labs`` at once with the fault's one line and exit status
(3 locked, 6 server), saying how many rows were saved before it and that re-running is safe;
before the fix each later row waited and failed on its own ("…nothing was saved"), exit 1.
Row-level problems stay per row.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cobbdesk.cli import main
from cobbdesk.core.errors import ServerUnavailableError
from cobbdesk.core.store import Study, dialect
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

HEADER = (
    "sop_instance_uid,template,upper_anterior_x,upper_anterior_y,upper_posterior_x,"
    "upper_posterior_y,lower_anterior_x,lower_anterior_y,lower_posterior_x,lower_posterior_y\n"
)
HOLD = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
    "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); sys.stdin.read()"
)
ROWS = 5


@pytest.fixture
def study(tmp_path: Path) -> Path:
    spine = make_lateral_spine("lumbar", 40.0, rows=400, columns=320, spacing_mm=(0.6, 0.6))
    write_dicom(spine, tmp_path / "f1.dcm", patient_id="HOSP-1", sop_instance_uid="1.2.3.1")
    path = tmp_path / "s.cobbdesk"
    assert main(["import", str(path), str(tmp_path / "f1.dcm"), "--create"]) == 0
    return path


@pytest.fixture
def points(tmp_path: Path) -> Path:
    """ROWS distinct measurements of film 1.2.3.1, and one row naming no film (row 7)."""
    rows = [f"1.2.3.1,L1-S1,100,{100 + n},140,110,100,300,140,290\n" for n in range(ROWS)]
    path = tmp_path / "points.csv"
    path.write_text(HEADER + "".join(rows) + "9.9.9,L1-S1,100,100,140,110,100,300,140,290\n")
    return path


def _fault_after(
    monkeypatch: pytest.MonkeyPatch, saves: int, fault: Callable[[], None]
) -> list[int]:
    """Study.save_measurement calls ``fault()`` before its ``saves + 1``-th write."""
    original, calls = Study.save_measurement, [0]

    def save(self: Study, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == saves + 1:
            fault()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Study, "save_measurement", save)
    return calls


def test_locked_study_stops_at_once(
    study: Path, points: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setattr(dialect, "BUSY_TIMEOUT_MS", 200)
    holders: list[subprocess.Popen[str]] = []

    def hold() -> None:  # another program takes the write lock (a real SQLite lock)
        holder = subprocess.Popen([sys.executable, "-c", HOLD, str(study)], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        holders.append(holder)

    calls = _fault_after(monkeypatch, 2, hold)
    capsys.readouterr()
    try:
        status = main(["measure", str(study), str(points)])
    finally:
        for holder in holders:
            holder.communicate("")
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("cobbdesk: error:")]
    assert status == 3
    assert calls[0] == 3  # no write tried after the locked one
    assert len(errors) == 1, err
    assert errors[0].startswith("cobbdesk: error: s.cobbdesk: the study is locked")
    assert "2 row(s) had been saved before it" in errors[0]
    assert "running the same command again is safe" in errors[0]
    assert "nothing was saved" not in errors[0]
    with Study.open(study) as s:
        assert len(s.measurements(s.film_by_sop("1.2.3.1").id)) == 2
    monkeypatch.undo()
    assert main(["measure", str(study), str(points)]) == 1  # row 7 names no film
    out, err_text = capsys.readouterr()
    assert f"{ROWS + 1} row(s): {ROWS - 2} imported, 2 unchanged, 1 rejected" in out
    assert "row 7" in err_text


def test_server_gone_stops_with_status_6(
    study: Path, points: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    def gone() -> None:
        raise ServerUnavailableError(
            Path("database d on the local socket"),
            "the database server cannot be reached (connection closed); nothing was saved. "
            "Check that the server is running and the address is right, then try again",
        )

    calls = _fault_after(monkeypatch, 1, gone)
    capsys.readouterr()
    assert main(["measure", str(study), str(points)]) == 6
    errors = capsys.readouterr().err.splitlines()
    assert calls[0] == 2
    assert len(errors) == 1
    assert "cannot be reached" in errors[0] and "1 row(s) had been saved" in errors[0]


def test_labs_stop_says_what_was_saved(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from cobbdesk.core.importing import labs_csv

    labs = tmp_path / "labs.csv"
    labs.write_text("patient_id,visit,crp\nHOSP-1,admission,5\nHOSP-1,month3,7\n")
    monkeypatch.setattr(dialect, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(labs_csv, "LAB_CHUNK", 1)
    holders: list[subprocess.Popen[str]] = []
    original, calls = labs_csv.write_labs, [0]

    def write(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 2:
            holder = subprocess.Popen([sys.executable, "-c", HOLD, str(study)], text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            holders.append(holder)
        return original(*args, **kwargs)

    monkeypatch.setattr(labs_csv, "write_labs", write)
    capsys.readouterr()
    try:
        status = main(["labs", str(study), str(labs)])
    finally:
        for holder in holders:
            holder.communicate("")
    errors = capsys.readouterr().err.splitlines()
    assert status == 3
    assert len(errors) == 1 and "1 row(s) had been saved before it" in errors[0]
