"""``cobbdesk verify`` proves the current data (#12): each tampering exits 1 with entity, id and
field on stderr and no patient identifier; ``--head`` / ``--expect-head``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cobbdesk.cli import main
from cobbdesk.core.store import Study

NO_DELETE = (
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
)


@pytest.fixture
def study_path(tmp_path: Path) -> Path:
    path = tmp_path / "v.cobbdesk"
    with Study.create(path, actor="dr_a") as study:
        pid = study.add_patient("P0001", name="Doe^Jane", mrn="MRN-77", birth_date="19700101")
        vid = study.add_visit(pid, "admission", visit_date="2026-01-05")
        study.set_labs(vid, {"crp": 5.0})
    return path


def run(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    status = main(["verify", str(path), *extra])
    out, err = capsys.readouterr()
    assert "Doe" not in out + err and "MRN" not in out + err and "1970" not in out + err
    return status, out, err


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = (SELECT max(seq) FROM "
         f"audit); {NO_DELETE}", "rows were deleted"),
        (f"DROP TRIGGER audit_no_delete; DELETE FROM audit; {NO_DELETE}", "rows were deleted"),
        ("DROP TRIGGER audit_no_update;", "the guard trigger audit_no_update was removed"),
        ("UPDATE labs SET value_num = 50;", "labs of visit 1: crp: differs from the audit trail"),
        ("UPDATE patients SET mrn = 'MRN-99';", "patient P0001 (id 1): mrn: differs"),
    ],
)  # fmt: skip
def test_each_tampering_fails_verify(
    study_path: Path, capsys: pytest.CaptureFixture[str], sql: str, expected: str
) -> None:
    assert run(study_path, capsys)[0] == 0
    con = sqlite3.connect(study_path)
    con.executescript(sql)
    con.close()
    status, out, err = run(study_path, capsys)
    assert status == 1 and "TAMPERING" in out
    assert any(line.startswith("cobbdesk: error: tampering: ") and expected in line
               for line in err.splitlines()), err  # fmt: skip
    status, out, _ = run(study_path, capsys, "--json")
    assert status == 1 and json.loads(out)["tampering"]


def test_head_printed_and_expected(study_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(study_path, capsys, "--head")
    assert status == 0 and "data matches the audit trail" in out
    (head,) = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("audit head")]
    assert run(study_path, capsys, "--expect-head", head)[0] == 0
    wrong = head[:-1] + ("0" if head[-1] != "0" else "1")
    status, _, err = run(study_path, capsys, "--expect-head", wrong)
    assert status == 1 and "is not in the trail" in err
