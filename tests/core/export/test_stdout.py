"""``cobbdesk export … -o -`` and ``--stats-json -`` write to standard output (text formats),
the same bytes as a file, audited; binary formats and both at once are refused in one line.
Fresh processes: the bytes on the real stdout, the report lines on stderr."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "cobbdesk", "export", *args], cwd=cwd,
                          capture_output=True, check=False)  # fmt: skip


def exported_files(study: Path) -> list[str]:
    with sqlite3.connect(study) as db:
        rows = db.execute("SELECT new_value FROM audit WHERE entity = 'export' AND field = "
                          "'file' ORDER BY seq").fetchall()  # fmt: skip
    db.close()
    return [json.loads(r[0]) if r[0].startswith('"') else r[0] for r in rows]


@pytest.mark.parametrize("fmt", ["wide", "long"])
def test_text_format_to_stdout_is_the_file(fresh_study: Path, tmp_path: Path, fmt: str) -> None:
    to_file = run(tmp_path, str(fresh_study), "--format", fmt, "-o", "out.csv")
    to_stdout = run(tmp_path, str(fresh_study), "--format", fmt, "-o", "-")
    assert to_file.returncode == to_stdout.returncode == 0
    assert to_stdout.stdout == (tmp_path / "out.csv").read_bytes()
    assert to_stdout.stdout.startswith(b"\xef\xbb\xbf")  # the file's BOM: the same bytes
    # the report line (rows, sha256 of the same bytes) moves to stderr
    assert to_stdout.stderr == to_file.stdout.replace(b"out.csv:", b"standard output:")
    assert to_file.stdout.startswith(b"out.csv: ") and b" de-identified " in to_file.stdout
    assert not (tmp_path / "-").exists()
    assert exported_files(fresh_study) == ["out.csv", "(standard output)"]


def test_stats_json_to_stdout(fresh_study: Path, tmp_path: Path) -> None:
    done = run(tmp_path, str(fresh_study), "--format", "wide", "-o", "w.csv",
               "--stats-json", "-")  # fmt: skip
    assert done.returncode == 0
    written = run(tmp_path, str(fresh_study), "--format", "wide", "-o", "w2.csv",
                  "--stats-json", "s.json")  # fmt: skip
    # a report on stdout passes the redaction boundary (the fixture's patient names mask
    # words of the method texts); the file is the data product, as it is
    from cobbdesk.cli.output import redact_files
    from cobbdesk.core.store import Study

    Study.open(fresh_study).close()  # learn the study's identifiers, as the command did
    assert json.loads(done.stdout) == redact_files(json.loads((tmp_path / "s.json").read_bytes()))
    assert json.loads(done.stdout)["n_patients"] == 8
    lines = sorted(done.stderr.decode().splitlines())
    assert lines[0] == "standard output: statistics (JSON)" and lines[1].startswith("w.csv: 8 rows")
    assert "s.json: statistics (JSON)" in written.stdout.decode().splitlines()
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--format", "xlsx", "-o", "-"],
      "-o -: xlsx is a binary format and cannot go to standard output; give a file name"),
     (["--format", "sav", "-o", "-"],
      "-o -: sav is a binary format and cannot go to standard output; give a file name"),
     (["--format", "sr", "-o", "-"],
      "-o -: sr is a folder and cannot go to standard output; give a file name"),
     (["--format", "wide", "-o", "-", "--stats-json", "-"],
      "-o - and --stats-json -: only one of them can go to standard output; give the other a "
      "file name")],
)  # fmt: skip
def test_refused_in_one_line(
    fresh_study: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    done = run(tmp_path, str(fresh_study), *args)
    assert done.returncode == 2  # a usage error (README's table of exit statuses)
    assert done.stdout == b""
    assert done.stderr.decode() == f"cobbdesk: error: {message}\n"
    assert not (tmp_path / "-").exists()
    assert exported_files(fresh_study) == []


def test_library_refuses_binary_to_stdout(fresh_study: Path) -> None:
    from cobbdesk.core.errors import ExportError
    from cobbdesk.core.export.publish import STDOUT
    from cobbdesk.core.export.writers import export_study
    from cobbdesk.core.store import Study

    with Study.open(fresh_study) as study, pytest.raises(ExportError, match="binary format"):
        export_study(study, "sav", STDOUT)
    assert exported_files(fresh_study) == []
