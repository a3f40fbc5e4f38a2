"""A fault of the whole study (its lock held by another program, read-only) stops ``cobbdesk
import`` of SRs at once with the fault's own exit status (3 locked, 4 read-only), as
``measure``/``labs`` do; before the fix every group waited for the lock and was refused on
its own, exit 1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study, dialect, faults
from tests.core.sr.test_sr import measured  # noqa: F401  (fixture)

HOLD = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
    "c.execute('BEGIN IMMEDIATE'); print('held', flush=True); sys.stdin.read()"
)


def _fresh_with_srs(
    made: tuple[Path, Path, list[object]], tmp_path: Path
) -> tuple[Path, list[Path]]:
    study_path, film, _ = made
    with Study.open(study_path, actor="ann") as study:
        files, _ = export_sr(study, tmp_path / "out")
    fresh = tmp_path / "fresh.cobbdesk"
    assert main(["import", str(fresh), str(film), "--create", "--rater", "x"]) == 0
    return fresh, sorted(f.path for f in files)


def _counted_saves(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    original, calls = Study.save_measurement, [0]

    def save(self: Study, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Study, "save_measurement", save)
    return calls


def test_a_lock_held_by_another_program_stops_the_sr_import_with_status_3(
    measured: tuple[Path, Path, list[object]],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fresh, files = _fresh_with_srs(measured, tmp_path)
    monkeypatch.setattr(dialect, "BUSY_TIMEOUT_MS", 200)
    calls = _counted_saves(monkeypatch)
    capsys.readouterr()
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(fresh)], text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        status = main(["import", str(fresh), *map(str, files)])
    finally:
        holder.communicate("")
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("cobbdesk: error:")]
    assert status == 3 and calls[0] == 1  # three angles in two SRs: one write tried
    assert len(errors) == 1, err
    assert "the study is locked" in errors[0]
    assert "running the same command again is safe" in errors[0]
    monkeypatch.undo()
    assert main(["import", str(fresh), *map(str, files)]) == 0  # the lock gone: all imported
    with Study.open(fresh) as study:
        assert len(study.measurements()) == 3


def test_a_read_only_study_stops_the_sr_import_with_status_4(
    measured: tuple[Path, Path, list[object]],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fresh, files = _fresh_with_srs(measured, tmp_path)
    calls = [0]

    def refuse(self: Study, *args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        raise faults.read_only(fresh)

    monkeypatch.setattr(Study, "save_measurement", refuse)
    capsys.readouterr()
    assert main(["import", str(fresh), *map(str, files)]) == 4
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert calls[0] == 1 and len(errors) == 1, errors
    assert "read-only" in errors[0] and "group" not in errors[0]
