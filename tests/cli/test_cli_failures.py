"""Each subcommand's expected failures, run as a real process with no display.

Every case runs ``python -m cobbdesk`` (and a few the installed ``cobbdesk`` console script)
in a subprocess whose environment has no ``DISPLAY``, ``WAYLAND_DISPLAY`` nor
``QT_QPA_PLATFORM``, and checks the exit status, that stderr is ONE line (usage errors: the
usage, then one error line), that it names the problem, and that no traceback is printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.core.store import Study
from tests.conftest import make_dataset

HEADLESS = {
    k: v
    for k, v in os.environ.items()
    if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "COBBDESK_DEBUG")
}
CONSOLE_SCRIPT = Path(sys.executable).with_name("cobbdesk")


def run(args: list[str], cwd: Path, script: bool = False) -> subprocess.CompletedProcess[str]:
    command = [str(CONSOLE_SCRIPT)] if script else [sys.executable, "-m", "cobbdesk"]
    return subprocess.run(
        [*command, *args],
        check=False,
        cwd=cwd,
        env=HEADLESS,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny study (one patient, one visit), a damaged study and a CSV of the wrong kind."""
    base = tmp_path_factory.mktemp("failures")
    with Study.create(base / "tiny.cobbdesk", actor="test") as study:
        patient = study.add_patient("P001", sex="F")
        study.add_visit(patient, "admission", visit_date="20260105")
    damaged = base / "damaged.cobbdesk"
    damaged.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    (base / "not-a-film.dcm").write_bytes(b"hello")
    (base / "empty.csv").write_bytes(b"")
    (base / "adir").mkdir()  # a folder where a file is expected
    pixels = (np.arange(32 * 32).reshape(32, 32) % 4096).astype(np.uint16)
    make_dataset(pixels, bits_stored=12).save_as(base / "film.dcm", enforce_file_format=True)
    return base


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# (arguments, exit status, words the error line must contain)
FAILURES = [
    (["stat", "tiny.cobbdesk"], 2, "did you mean 'stats'"),
    (["exprot"], 2, "did you mean 'export'"),
    (["frobnicate"], 2, "unknown subcommand 'frobnicate'"),
    (["missing.dcm"], 1, "missing.dcm: no such file"),
    (["tiny.cobbdesk"], 1, "no display"),
    (["export", "tiny.cobbdesk", "--format", "sav", "-o", "missing/dir/x.sav"], 1, "x.sav"),
    (["export", "tiny.cobbdesk", "--format", "wide", "-o", "missing/dir/x.csv"], 1, "x.csv"),
    (["export", "nope.cobbdesk", "--format", "wide", "-o", "x.csv"], 1, "no such study"),
    (["export", "damaged.cobbdesk", "--format", "wide", "-o", "x.csv"], 1, "damaged"),
    (
        ["export", "tiny.cobbdesk", "--format", "wide", "-o", "x.csv", "--stats-json", "m/s.json"],
        1,
        "s.json",
    ),
    (["stats", "nope.cobbdesk"], 1, "no such study"),
    (["stats", "tiny.cobbdesk", "--raters", "nobody"], 1, "nobody"),
    (["import", "nope.cobbdesk", "."], 1, "add --create"),
    (["import", "tiny.cobbdesk", "missing-folder"], 1, "missing-folder: no such file or folder"),
    (["labs", "tiny.cobbdesk", "missing.csv"], 1, "missing.csv"),
    (["measure", "tiny.cobbdesk", "missing.csv"], 1, "missing.csv"),
    (["labs", "nope.cobbdesk", "empty.csv"], 1, "no such study"),
    (["verify", "damaged.cobbdesk"], 1, "damaged"),
    (["verify", "nope.cobbdesk"], 1, "no such study"),
    (["inspect", "missing.dcm"], 1, "missing.dcm"),
    (["render", "not-a-film.dcm", "-o", "x.png"], 1, "not-a-film.dcm"),
    (["film", "nope.cobbdesk", "--list"], 1, "no such study"),
    (["film", "tiny.cobbdesk", "1.2.3", "--region", "lumbar"], 1, "1.2.3"),
    (["calibrate", "tiny.cobbdesk", "1.2.3"], 1, "1.2.3"),
    (["demo", "/proc/cobbdesk-demo"], 1, "cobbdesk-demo"),
    (["plan", "status", "nope.cobbdesk", "p1"], 1, "no such study"),
    (["plan", "status", "damaged.cobbdesk", "p1"], 1, "damaged"),
    # a folder where a file is expected (render's was an internal error, exit 70)
    (["render", "film.dcm", "-o", "adir"], 1, "adir: is a folder, not a regular file"),
    (["render", "film.dcm", "-o", "film.dcm"], 1, "film.dcm: is a DICOM film; it was left"),
    (["render", "film.dcm", "-o", "tiny.cobbdesk"], 1, "is a study (SQLite database)"),
    (["render", "film.dcm", "-o", "x.dcm"], 1, "cannot write x.dcm (a PNG file"),
    (["render", "adir", "-o", "x.png"], 1, "adir: not a regular file"),
    (["inspect", "adir"], 1, "adir: the folder holds no file"),
    (["demo", "empty.csv"], 1, "empty.csv: is a file, not a folder"),
    (["export", "adir", "--format", "wide", "-o", "x.csv"], 1, "adir: a folder, not a study"),
    (["verify", "adir", "--json"], 1, "adir: a folder, not a study file"),
    (["import", "adir", "film.dcm", "--create"], 1, "adir: a folder, not a study file"),
    (["export", "tiny.cobbdesk", "--format", "wide", "-o", "adir"], 1, "adir: is a folder"),
    (
        ["export", "tiny.cobbdesk", "--format", "long", "-o", "x.csv", "--stats-json", "adir"],
        1,
        "adir: is a folder",
    ),
    (["stats", "tiny.cobbdesk", "--report", "adir"], 1, "adir: is a folder"),
    (["labs", "tiny.cobbdesk", "adir"], 1, "adir: cannot be read"),
    (["measure", "tiny.cobbdesk", "adir", "--json"], 1, "adir: cannot be read"),
    (["copy", "tiny.cobbdesk", "adir"], 1, "adir: a file with this name already exists"),
    (["copy", "adir", "c.cobbdesk"], 1, "adir: a folder, not a study file"),
    # a study that is a DICOM film
    (["export", "film.dcm", "--format", "wide", "-o", "x.csv"], 1, "not a CobbDesk study"),
    (["verify", "film.dcm", "--json"], 1, "film.dcm: this is not a CobbDesk study"),
    (["labs", "film.dcm", "empty.csv", "--json"], 1, "film.dcm: this is not a CobbDesk study"),
    (["film", "film.dcm", "--list", "--json"], 1, "film.dcm: this is not a CobbDesk study"),
    (["copy", "film.dcm", "c.cobbdesk", "--json"], 1, "film.dcm: this is not a CobbDesk"),
    (["measure", "tiny.cobbdesk", "film.dcm"], 1, "film.dcm: contains NUL bytes"),
    # --json variants: the error is the same one line on stderr
    (["verify", "nope.cobbdesk", "--json"], 1, "no such study"),
    (["import", "nope.cobbdesk", ".", "--json"], 1, "add --create"),
    (["stats", "nope.cobbdesk", "--json"], 1, "no such study"),
    (["film", "nope.cobbdesk", "--list", "--json"], 1, "no such study"),
    (["inspect", "missing.dcm", "--json"], 1, "missing.dcm: no such file"),
    (["import", "tiny.cobbdesk", "missing-folder", "--json"], 1, "missing-folder: no such"),
    (["verify", "tiny.cobbdesk", "--same-as", "nope.cobbdesk"], 1, "no such study"),
    # options that contradict each other
    (["film", "tiny.cobbdesk", "--list", "--region", "lumbar"], 1, "--list changes nothing"),
]


@pytest.mark.parametrize(("args", "status", "words"), FAILURES, ids=lambda v: str(v)[:40])
def test_failure_is_one_line_and_an_exit_status(
    folder: Path, args: list[str], status: int, words: str
) -> None:
    done = run(args, folder)
    assert "Traceback" not in done.stderr
    assert done.returncode == status, done.stderr
    stderr = done.stderr
    if status == 2:  # usage errors: the usage lines, then the error line
        assert stderr.startswith("usage: cobbdesk")
        stderr = stderr.strip().splitlines()[-1] + "\n"
    line = one_line(stderr)
    assert line.startswith("cobbdesk: error: ")
    assert words in line
    assert "qt." not in done.stderr.lower()


def test_usage_errors_of_subcommands_exit_2(folder: Path) -> None:
    for args in (["export", "tiny.cobbdesk", "--format", "nope", "-o", "x"], ["labs"]):
        done = run(args, folder)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith("cobbdesk ")


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="the cobbdesk console script is absent")
def test_console_script_has_the_same_failures(folder: Path) -> None:
    done = run(["stat", "tiny.cobbdesk"], folder, script=True)
    assert done.returncode == 2
    assert "did you mean 'stats'" in done.stderr
    done = run(["export", "tiny.cobbdesk", "--format", "sav", "-o", "missing/x.sav"], folder,
               script=True)  # fmt: skip
    assert done.returncode == 1
    assert "x.sav" in one_line(done.stderr)


def test_help_lists_every_subcommand(folder: Path) -> None:
    from cobbdesk.cli import SUBCOMMANDS

    done = run(["--help"], folder)
    assert done.returncode == 0
    listed = {line.split()[0] for line in done.stdout.splitlines() if line.startswith("  ")}
    assert set(SUBCOMMANDS) <= listed
    assert {"demo", "selftest"} <= set(SUBCOMMANDS)


def test_out_of_memory_is_one_line(folder: Path) -> None:
    """A MemoryError anywhere in a command (here: the statistics) is one line, exit 1."""
    code = (
        "import sys\n"
        "import cobbdesk.core.export.analysis as analysis\n"
        "def exhausted(*args, **kwargs):\n"
        "    raise MemoryError\n"
        "analysis.analyse = exhausted\n"
        "from cobbdesk.cli import main\n"
        "sys.exit(main(['stats', 'tiny.cobbdesk', '--json']))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, cwd=folder, env=HEADLESS,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "out of memory" in one_line(done.stderr)
