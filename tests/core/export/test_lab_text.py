"""Text in a lab's number cell (a study edited outside CobbDesk): refused in one line naming
the study, the patient's study ID, the visit and the lab, never silently exported as missing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cobbdesk.cli import main as cli_main

EXPECTED = (
    "fixture.cobbdesk: lab 'crp' of patient P002, visit month3 holds text '12,5' where a "
    "number is expected; correct it in the study and export again"
)


def _edit(path: Path, study_id: str, kind: str, value: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE labs SET value_num = ? WHERE name = 'crp' AND visit_id = (SELECT v.id FROM "
            "visits v JOIN patients p ON p.id = v.patient_id WHERE p.study_id = ? AND v.kind = ?)",
            (value, study_id, kind),
        )
        stored = db.execute("SELECT count(*) FROM labs WHERE typeof(value_num) = 'text'")
        assert stored.fetchone() == (1,)
    db.close()


def test_command_refuses_in_one_line(fresh_study: Path, tmp_path: Path) -> None:
    _edit(fresh_study, "P002", "month3", "12,5")
    out = tmp_path / "wide.csv"
    done = subprocess.run(
        [sys.executable, "-m", "cobbdesk", "export", str(fresh_study), "--format", "wide",
         "-o", str(out), "--stats-json", str(tmp_path / "stats.json")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == f"cobbdesk: error: {EXPECTED}\n"
    assert done.stdout == ""
    assert not out.exists() and not (tmp_path / "stats.json").exists()
    assert "Bob Sample" not in done.stderr and "MRN1002" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [["export", "--format", "long"], ["export", "--format", "xlsx"],
     ["export", "--format", "sav"], ["stats", "--json"]],
)  # fmt: skip
def test_every_format_and_the_statistics_refuse(
    fresh_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    _edit(fresh_study, "P002", "month3", "12,5")
    command = [args[0], str(fresh_study), *args[1:]]
    if args[0] == "export":
        command += ["-o", str(tmp_path / "out")]
    assert cli_main(command) == 1
    captured = capsys.readouterr()
    assert captured.err == f"cobbdesk: error: {EXPECTED}\n"
    assert not (tmp_path / "out").exists()


def test_text_of_a_deleted_visit_is_not_exported(fresh_study: Path, tmp_path: Path) -> None:
    """A deleted visit's labs reach no output: its text does not stop the export, and the
    file is the one written before the edit."""
    with sqlite3.connect(fresh_study) as db:
        db.execute(
            "UPDATE visits SET deleted_utc = '2026-03-01T00:00:00Z' WHERE kind = 'month3' AND "
            "patient_id = (SELECT id FROM patients WHERE study_id = 'P002')"
        )
    db.close()
    before, after = tmp_path / "before.csv", tmp_path / "after.csv"
    assert cli_main(["export", str(fresh_study), "--format", "wide", "-o", str(before)]) == 0
    _edit(fresh_study, "P002", "month3", "12,5")
    assert cli_main(["export", str(fresh_study), "--format", "wide", "-o", str(after)]) == 0
    assert after.read_bytes() == before.read_bytes()


@pytest.mark.parametrize("value", [float("inf"), float("-inf")])
@pytest.mark.parametrize(
    "args",
    [["export", "--format", "wide"], ["export", "--format", "long"], ["stats", "--json"]],
)  # fmt: skip
def test_an_infinite_lab_value_is_refused_like_text(
    fresh_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
    value: float,
) -> None:  # fmt: skip
    """Tester's find: a lab set to infinity outside CobbDesk was exported as 'inf' (exit 0)
    while text in the same cell was refused; both are refused, naming the cell."""
    with sqlite3.connect(fresh_study) as db:
        db.execute(
            "UPDATE labs SET value_num = ? WHERE name = 'crp' AND visit_id = (SELECT v.id FROM "
            "visits v JOIN patients p ON p.id = v.patient_id WHERE p.study_id = 'P002' AND "
            "v.kind = 'month3')", (value,),
        )  # fmt: skip
    db.close()
    command = [args[0], str(fresh_study), *args[1:]]
    if args[0] == "export":
        command += ["-o", str(tmp_path / "out")]
    assert cli_main(command) == 1
    assert capsys.readouterr().err == (
        f"cobbdesk: error: fixture.cobbdesk: lab 'crp' of patient P002, visit month3 holds "
        f"{value} where a finite number is expected; correct it in the study and export again\n"
    )
    assert not (tmp_path / "out").exists()
