"""The quick_check after the open: a damaged study is read, but never written.

The damage is made by hand: a study with 400 films whose pixel-hash index root page is
overwritten with a fixed garbage pattern.  Opening and reading patients work (that index is
not used), SQLite's quick_check reports the page, and every write is refused.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import patients

pytestmark = pytest.mark.sqlite_only


def damaged_study(path: Path) -> Path:
    with Study.create(path, actor="test") as study:
        pid = study.add_patient("S001", sex="F")
        visit = study.add_visit(pid, "admission")
        for i in range(400):
            study.add_film(visit, sop_instance_uid=f"1.2.{i}", path=f"/f/{i}.dcm",
                           pixel_sha256=f"{i:064x}")  # fmt: skip
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (root,) = con.execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'ix_films_pixel_sha256'"
    ).fetchone()
    (size,) = con.execute("PRAGMA page_size").fetchone()
    con.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * size : root * size] = bytes((i * 37) % 251 for i in range(size))
    path.write_bytes(bytes(data))
    return path


def counts(path: Path) -> tuple[int, int]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return (con.execute("SELECT count(*) FROM patients").fetchone()[0],
                con.execute("SELECT count(*) FROM audit").fetchone()[0])  # fmt: skip
    finally:
        con.close()


def test_sound_study_opens_and_writes(tmp_path: Path) -> None:
    with Study.create(tmp_path / "ok.cobbdesk", actor="test") as study:
        study.add_patient("S001")
    with Study.open(tmp_path / "ok.cobbdesk", actor="test") as study:
        assert study.file_check is not None
        study.add_patient("S002")
        assert study.file_check.done
        assert study.file_check.result() is None


def test_damaged_study_is_read_but_never_written(tmp_path: Path) -> None:
    path = damaged_study(tmp_path / "damaged.cobbdesk")
    before = counts(path)
    study = Study.open(path, actor="test")  # no wait for the check
    try:
        assert [p.study_id for p in study.patients()] == ["S001"]  # reading works meanwhile
        with pytest.raises(StoreError, match=r"damaged .*Page"):
            study.add_patient("S002")
        with pytest.raises(StoreError, match="damaged"):  # and every later write
            study.add_visit(1, "month3")
        with pytest.raises(StoreError, match="damaged"):
            study.verify_integrity()
        error = study.file_check.result(timeout=None) if study.file_check else None
        assert isinstance(error, StoreError)
        assert "\n" not in error.message
    finally:
        study.close()
    assert counts(path) == before


def test_reading_with_block_reports_damage_at_its_end(tmp_path: Path) -> None:
    path = damaged_study(tmp_path / "damaged.cobbdesk")
    seen = []
    with (
        pytest.raises(StoreError, match="damaged"),
        Study.open(path, actor="test") as study,
        study.engine.connect() as conn,
    ):
        seen.append(conn.execute(select(func.count()).select_from(patients)).scalar())
    assert seen == [1]  # the reading happened; the damage came at the end


def test_cli_read_command_reports_damage_and_exits_1(tmp_path: Path) -> None:
    path = damaged_study(tmp_path / "damaged.cobbdesk")
    before = counts(path)
    export = ["export", str(path), "--format", "wide", "-o", str(tmp_path / "w.csv")]
    for args in (["film", str(path), "--list"], ["verify", str(path)], export):
        done = subprocess.run([sys.executable, "-m", "cobbdesk", *args], check=False,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert done.returncode == 1, done.stderr
        assert "damaged" in done.stderr.strip().splitlines()[-1]
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "w.csv").exists()
    assert counts(path) == before


def test_deferred_check_starts_with_the_first_write_and_refuses_it(tmp_path: Path) -> None:
    """The GUI opens with ``defer_check`` (the check starts after its first paint): until then
    nothing runs, reading works, and a write that comes first starts the check and waits."""
    path = damaged_study(tmp_path / "damaged.cobbdesk")
    before = counts(path)
    study = Study.open(path, actor="test", defer_check=True)
    try:
        assert study.file_check is not None
        assert not study.file_check.started and not study.file_check.done
        assert study.file_check.result() is None  # not started: no verdict yet
        assert [p.study_id for p in study.patients()] == ["S001"]
        assert not study.file_check.started  # reading does not start it
        with pytest.raises(StoreError, match=r"damaged .*Page"):
            study.add_patient("S002")
        assert study.file_check.started and study.file_check.done
    finally:
        study.close()
    assert counts(path) == before


def test_deferred_check_started_by_the_caller(tmp_path: Path) -> None:
    path = damaged_study(tmp_path / "damaged.cobbdesk")
    with Study.create(tmp_path / "ok.cobbdesk", actor="test") as study:
        study.add_patient("S001")
    with Study.open(tmp_path / "ok.cobbdesk", actor="test", defer_check=True) as study:
        assert study.file_check is not None
        study.file_check.start()
        study.file_check.start()  # once: a second start does nothing
        assert study.file_check.result(timeout=None) is None
        study.add_patient("S002")
    damaged = Study.open(path, actor="test", defer_check=True)
    try:
        assert damaged.file_check is not None
        damaged.file_check.start()
        assert isinstance(damaged.file_check.result(timeout=None), StoreError)
        with pytest.raises(StoreError, match="damaged"):
            damaged.add_patient("S002")
    finally:
        damaged.close()
