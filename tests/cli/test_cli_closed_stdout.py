"""A closed stdout (``cobbdesk film S --list | head -1``) ends every printing subcommand
quietly: nothing on stderr, status 141 (128 + SIGPIPE, what a shell reports for coreutils).

The deterministic case gives the command a pipe whose reading end is already closed, so its
first write (or the flush at the end) fails with EPIPE whatever the timing; the real
``| head -1`` pipeline is run too (there the reader may or may not have gone before the
command writes: 0 or 141, never an error line).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cobbdesk.cli.output import CLOSED_STDOUT, broken_pipe
from cobbdesk.core.errors import ExportError
from cobbdesk.core.store import Study

COMMAND = [sys.executable, "-m", "cobbdesk"]


@pytest.fixture
def study(tmp_path: Path) -> Path:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="tester") as s:
        pid = s.add_patient("P0001", name="Doe^Jane")
        vid = s.add_visit(pid, "admission", visit_date="2026-01-05")
        for n in range(40):
            s.add_film(vid, sop_instance_uid=f"1.2.840.9.{n}", path=f"/f/{n}.dcm")
    return path


def _closed_pipe_run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run cobbdesk with stdout a pipe nobody reads (its reading end closed first)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [*COMMAND, *args], stdout=write_end, stderr=subprocess.PIPE, text=True, cwd=cwd,
            timeout=120, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "args",
    [
        ["film", "{study}", "--list"],
        ["film", "{study}", "--list", "--json"],
        ["verify", "{study}"],
        ["export", "{study}", "--format", "wide", "-o", "-"],
        ["stats", "{study}"],
        ["--help"],
    ],
    ids=["film-list", "film-json", "verify", "export", "stats", "help"],
)
def test_closed_stdout_ends_quietly(study: Path, args: list[str]) -> None:
    done = _closed_pipe_run([a.format(study=study) for a in args], study.parent)
    assert done.stderr == ""
    assert done.returncode in ((0, CLOSED_STDOUT) if args == ["--help"] else (CLOSED_STDOUT,))


def test_head_one_pipeline(study: Path) -> None:
    shell = f"set -o pipefail; {sys.executable} -m cobbdesk film '{study}' --list | head -1"
    done = subprocess.run(
        ["bash", "-c", shell], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.stderr == ""
    assert done.returncode in (0, CLOSED_STDOUT)
    assert done.stdout.startswith("1.2.840.9.") and done.stdout.count("\n") == 1


def test_broken_pipe_found_through_the_chain() -> None:
    try:
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except OSError:
            raise ExportError(None, "cannot write the file (Broken pipe)") from None
    except ExportError as exc:
        assert broken_pipe(exc)
    assert not broken_pipe(ExportError(None, "cannot write the file (Disk full)"))
