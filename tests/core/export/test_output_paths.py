"""An output path (``export -o``, ``--stats-json``, ``stats --report``) that exists and is not a
regular file — a symbolic link, a named pipe, a device, a folder — is refused with one line
naming it and left untouched (before the fix the temp-file rename replaced the link or the
pipe, and as root ``-o /dev/stdout`` replaced /dev/stdout); a regular file is replaced as
before; a missing folder is named, not the first figure file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from cobbdesk.cli import main
from cobbdesk.core.errors import ExportError
from cobbdesk.core.private import check_target


def _export(study: Path, out: Path, *extra: str) -> list[str]:
    return ["export", str(study), "--format", "wide", "-o", str(out), *extra]


def _one_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    return err[0]


def test_symlink_is_refused_and_kept(
    fixture_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target, link = tmp_path / "target.csv", tmp_path / "out.csv"
    target.write_text("keep me\n")
    link.symlink_to(target)
    assert main(_export(fixture_study, link)) == 1
    assert _one_error(capsys) == (
        f"cobbdesk: error: {link}: is a symbolic link, not a regular file; it was left "
        "untouched. Choose the name of a new or regular file"
    )
    assert link.is_symlink() and target.read_text() == "keep me\n"


def test_fifo_and_folder_are_refused(
    fixture_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo, folder = tmp_path / "pipe.csv", tmp_path / "dir.csv"
    os.mkfifo(fifo)
    folder.mkdir()
    assert main(_export(fixture_study, fifo)) == 1
    assert f"{fifo}: is a named pipe, not a regular file" in _one_error(capsys)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert main(_export(fixture_study, folder)) == 1
    assert f"{folder}: is a folder, not a regular file" in _one_error(capsys)
    assert folder.is_dir() and list(folder.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.csv", "pipe.csv"]  # no temp


def test_device_is_refused_without_writing() -> None:
    with pytest.raises(ExportError, match="/dev/null: is a device, not a regular file"):
        check_target(Path("/dev/null"))
    with pytest.raises(ExportError, match="/dev/stdout: is a symbolic link"):
        check_target(Path("/dev/stdout"))


def test_stats_json_is_checked_before_the_export(
    fixture_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, fifo = tmp_path / "w.csv", tmp_path / "s.json"
    os.mkfifo(fifo)
    assert main(_export(fixture_study, out, "--stats-json", str(fifo))) == 1
    assert f"{fifo}: is a named pipe" in _one_error(capsys)
    assert not out.exists() and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_regular_file_is_still_replaced(
    fixture_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "w.csv"
    out.write_text("old\n")
    assert main(_export(fixture_study, out)) == 0
    assert out.read_text(encoding="utf-8-sig").startswith("study_id,rater,")
    assert capsys.readouterr().err == ""


def test_report_link_and_missing_folder(
    fixture_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target, link = tmp_path / "t.html", tmp_path / "r.html"
    target.write_text("keep")
    link.symlink_to(target)
    assert main(["stats", str(fixture_study), "--report", str(link)]) == 1
    assert f"{link}: is a symbolic link" in _one_error(capsys)
    assert target.read_text() == "keep" and sorted(p.name for p in tmp_path.iterdir()) == [
        "r.html", "t.html",
    ]  # fmt: skip
    missing = tmp_path / "nonexistent" / "r.html"
    assert main(["stats", str(fixture_study), "--report", str(missing)]) == 1
    line = _one_error(capsys)
    assert line == (
        f"cobbdesk: error: cannot write r.html: the folder {missing.parent} does not exist; "
        "create it or choose another"
    )
    assert "_paired.png" not in line
