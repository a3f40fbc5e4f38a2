"""A copy of an open study's file holds its newest commits (``checkpoint``).

SQLite keeps commits in the ``-wal`` until a checkpoint: a user who copied ``study.cobbdesk``
(not its ``-wal``) to a USB stick while the app had it open lost the newest measurements.  Each
test copies the study file *alone* while the study is open and opens the copy read-only.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study, checkpoint


def _measurement(rater: str = "dr_a") -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid="1.2.3",
        pixel_sha256="ab" * 32,
        template=Template.C2_C7,
        upper=EndplateLine((100.0, 200.0), (160.0, 210.0)),
        lower=EndplateLine((100.0, 400.0), (160.0, 380.0)),
        spacing=(0.1, 0.1),
        spacing_source="PixelSpacing",
        rater=rater,
    )


def _study(path: Path) -> tuple[Study, int]:
    study = Study.create(path, actor="dr_a")
    visit = study.add_visit(study.add_patient("P0001"), "admission")
    film = study.add_film(visit, sop_instance_uid="1.2.3", path="/f.dcm", region="cervical")
    return study, film


def _settled(study: Study) -> None:
    """Wait until the checkpointer says every commit is in the file (a write within
    ``checkpoint.BURST_S`` of the last checkpoint is checkpointed that long after it)."""
    found = checkpoint.of(study.engine)
    _wait_until(lambda: found is None or not found.pending)


def _copied_ids(path: Path, folder: Path) -> set[str]:
    """The measurement ids a copy of the study file alone (no ``-wal``) holds."""
    folder.mkdir()
    copy = folder / path.name
    shutil.copyfile(path, copy)  # the main file only, as a file manager copies it
    assert not copy.with_name(copy.name + "-wal").exists()
    with Study.open(copy, read_only=True) as seen:
        return {m.id for m in seen.measurements(film_id=None)}


def _wait_until(done: Callable[[], bool], seconds: float = 30.0) -> None:
    event = threading.Event()
    for _ in range(int(seconds / 0.02)):
        if done():
            return
        event.wait(0.02)
    raise AssertionError("not done in time")


def test_a_copy_of_the_open_study_file_holds_the_newest_measurement(tmp_path: Path) -> None:
    path = tmp_path / "s" / "study.cobbdesk"
    study, film = _study(path)
    first, second = _measurement(), _measurement("dr_b")
    study.save_measurement(film, first)
    _settled(study)
    assert _copied_ids(path, tmp_path / "usb1") == {first.id}
    study.save_measurement(film, second)  # the study stays open throughout
    _settled(study)
    assert _copied_ids(path, tmp_path / "usb2") == {first.id, second.id}
    assert path.with_name(path.name + "-wal").exists()  # still in WAL mode, still open
    study.close()


def test_a_burst_of_writes_reaches_the_file_a_moment_after_the_last(tmp_path: Path) -> None:
    """Rows written back to back (an import, ``measure`` of a CSV) are checkpointed on the
    timer after the burst, not once per row."""
    path = tmp_path / "s" / "study.cobbdesk"
    study, film = _study(path)
    saved = [_measurement(f"r{i}") for i in range(20)]
    for m in saved:
        study.save_measurement(film, m)
    _settled(study)
    assert _copied_ids(path, tmp_path / "usb") == {m.id for m in saved}
    study.close()


def test_frames_a_reader_holds_back_reach_the_file_once_it_is_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PASSIVE never waits for a reader: the write and its checkpoint return while another
    connection holds an older snapshot (which it keeps), and the retry copies the frames
    once the reader ends."""
    monkeypatch.setattr(checkpoint, "BURST_S", 0.0)  # every write checkpointed at once
    path = tmp_path / "s" / "study.cobbdesk"
    study, film = _study(path)
    study.save_measurement(film, early := _measurement())
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM measurements").fetchone() == (1,)
    study.save_measurement(film, late := _measurement("dr_b"))  # not blocked by the reader
    assert reader.execute("SELECT count(*) FROM measurements").fetchone() == (1,)  # snapshot
    after = checkpoint.of(study.engine)
    assert after is not None and after.pending  # the reader's snapshot holds the frames back
    reader.execute("COMMIT")
    reader.close()
    _wait_until(lambda: not after.pending)  # the timer's retry, off the writer's thread
    assert _copied_ids(path, tmp_path / "usb") == {early.id, late.id}
    study.close()


def test_closing_empties_the_wal_while_another_program_has_the_study_open(
    tmp_path: Path,
) -> None:
    """SQLite checkpoints at the *last* close only; another program's idle connection keeps
    the ``-wal`` — closing truncates it all the same (without waiting for anyone)."""
    path = tmp_path / "study.cobbdesk"
    study, film = _study(path)
    study.save_measurement(film, _measurement())
    other = sqlite3.connect(path, isolation_level=None)
    assert other.execute("SELECT count(*) FROM measurements").fetchone() == (1,)
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 0
    study.close()
    assert wal.stat().st_size == 0
    other.close()


def test_a_read_only_study_has_no_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "study.cobbdesk"
    study, _film = _study(path)
    study.close()
    with Study.open(path, read_only=True) as seen:
        assert checkpoint.of(seen.engine) is None


def test_a_server_study_is_not_checkpointed(study_location: Callable[[str], object]) -> None:
    """PostgreSQL has no ``-wal`` to empty: no checkpointer, writes as before."""
    location = study_location("study.cobbdesk")
    study = Study.create(location, actor="dr_a")  # type: ignore[arg-type]
    try:
        visit = study.add_visit(study.add_patient("P0001"), "admission")
        film = study.add_film(visit, sop_instance_uid="1.2.3", path="/f.dcm", region="cervical")
        study.save_measurement(film, saved := _measurement())
        assert [m.id for m in study.measurements(film_id=film)] == [saved.id]
        found = checkpoint.of(study.engine)
        if isinstance(location, Path):
            _settled(study)
            assert found is not None and not found.pending
        else:
            assert found is None
    finally:
        study.close()


@pytest.mark.parametrize("mode", ["PASSIVE", "TRUNCATE"])
def test_checkpoint_says_whether_the_file_holds_every_frame(tmp_path: Path, mode: str) -> None:
    path = tmp_path / "raw.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()
    conn.execute("INSERT INTO t VALUES (1)")
    conn.execute("PRAGMA busy_timeout=0")
    assert not checkpoint.checkpoint(conn, mode)  # the reader's snapshot needs the old page
    reader.execute("COMMIT")
    assert checkpoint.checkpoint(conn, mode)
    reader.close()
    conn.close()
