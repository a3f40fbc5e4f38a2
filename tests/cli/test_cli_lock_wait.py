"""A write that waits for another program's lock says so on stderr (after about a second),
then goes on when the lock is released; when the wait times out the usual locked error and
exit status 3 follow.  No timing is asserted: the holder releases the lock only once the
notice has been read.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cobbdesk.core.store import Study, dialect, waiting

NOTICE = "cobbdesk: note: waiting for the study s.cobbdesk: another program is writing it…"
HOLD = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
    "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); sys.stdin.read()"
)


@pytest.fixture
def study(tmp_path: Path) -> Path:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="tester") as s:
        pid = s.add_patient("P0001")
        vid = s.add_visit(pid, "admission", visit_date="2026-01-05")
        s.add_film(vid, sop_instance_uid="1.2.840.9.1", path="/f/1.dcm", region="cervical")
    return path


def _holder(path: Path) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_waiting_write_says_so_then_goes_on(study: Path) -> None:
    holder = _holder(study)
    writer = subprocess.Popen(
        [sys.executable, "-m", "cobbdesk", "film", str(study), "1.2.840.9.1", "--region",
         "lumbar", "--reason", "wrong region at import"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert writer.stderr is not None
        first = writer.stderr.readline().rstrip("\n")  # blocks until the notice is written
    finally:
        holder.communicate("")  # release the lock
    out, rest = writer.communicate(timeout=120)
    assert first == NOTICE
    assert writer.returncode == 0, rest
    assert rest == ""
    assert "region: cervical → lumbar" in out


def test_timeout_keeps_the_locked_error(
    study: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cobbdesk.cli import main

    monkeypatch.setattr(dialect, "BUSY_TIMEOUT_MS", 1500)  # shorter wait, same path
    monkeypatch.setattr(waiting, "NOTICE_AFTER_S", 0.2)
    holder = _holder(study)
    try:
        status = main(["film", str(study), "1.2.840.9.1", "--region", "lumbar", "--reason", "x"])
    finally:
        holder.communicate("")
        waiting.on_lock_wait(None)
    lines = capsys.readouterr().err.splitlines()
    assert status == 3
    assert lines[0] == NOTICE
    assert lines[1].startswith("cobbdesk: error: s.cobbdesk: the study is locked: ")
    assert len(lines) == 2
