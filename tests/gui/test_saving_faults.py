"""The window never freezes on the network (#15 "Faults"): a save stalled by the server keeps the
UI thread running (a QTimer keeps ticking) and the status bar shows "Saving…", then the kept
edit and its retry, then "All changes saved"; closing with queued edits asks; a server study
opens off the UI thread with Connecting… / Cancel and Retry when the server is down."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer

from cobbdesk.core.compare.saver import film_session
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.errors import ServerUnavailableError
from cobbdesk.core.measure.commands import MoveLine
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study
from cobbdesk.core.store.outbox import Phase
from cobbdesk.core.store.pg_dialect import WRITE_LOCK_KEY
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study import connecting
from cobbdesk.gui.study.saving import SaveStatus, StudySaver
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_tool import MeasureController
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine


class Ticks:
    """A QTimer of the UI thread counting its timeouts (it only counts if the loop runs)."""

    def __init__(self) -> None:
        self.count = 0
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.count += 1


def _film_study(tmp_path: Path, location: Any) -> tuple[Any, int]:
    film = read_film(write_dicom(make_lateral_spine("cervical", 25.0, seed=3), tmp_path / "c.dcm"))
    with Study.create(location, actor="A") as study:
        vid = study.add_visit(study.add_patient("P0001"), "admission", visit_date="2026-01-05")
        fid = study.add_film(vid, sop_instance_uid=film.sop_instance_uid, path=tmp_path / "c.dcm",
                             region="cervical")  # fmt: skip
        study.save_measurement(fid, CobbMeasurement(
            film.sop_instance_uid, "", "C2-C7", EndplateLine((100, 100), (140, 100)),
            EndplateLine((100, 300), (140, 290)), spacing=None, rater="A", id="m1"))  # fmt: skip
    return film, fid


def test_a_save_stalled_by_the_server_never_freezes_the_window(
    qtbot: Any, tmp_path: Path, pg_cluster: Any
) -> None:
    url = pg_cluster.new_study_url()
    film, fid = _film_study(tmp_path, url)
    study = Study.open(url, actor="A")
    status = SaveStatus()
    qtbot.addWidget(status)
    status.show()
    saver = StudySaver(study, status)
    saver.outbox.backoff = (3600.0,)  # retried by the "Retry now" button only
    view = FilmView()
    qtbot.addWidget(view)
    view.set_film(film)
    controller = MeasureController(film, "A", parent=view)
    controller.attach(view)
    controller.bind(film_session(study, study.films()[0], film, "A",
                                 ask_reason=lambda changes: "re-read"))  # fmt: skip
    holder = pg_cluster.connect(database=pg_cluster.shared_db)
    holder.autocommit = False
    cursor = holder.cursor()
    cursor.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")  # the server stalls writes
    ticks = Ticks()
    before = ticks.count
    controller.push(MoveLine("m1", "upper", 0, 5))  # returns after the first-attempt wait
    assert ticks.count > before  # the UI thread kept running while the save waited
    assert controller.measurements["m1"].upper.posterior[1] == 105.0  # the edit is kept
    assert saver.outbox.state().phase is Phase.SAVING  # still waiting for the lock
    qtbot.waitUntil(lambda: status.label.text() == "Saving…")
    cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'cobbdesk' "
                   "AND wait_event_type = 'Lock'")  # fmt: skip
    (pid,) = cursor.fetchone()
    cursor.execute(f"SELECT pg_terminate_backend({pid})")  # the connection is lost mid-save
    qtbot.waitUntil(lambda: status.label.text().startswith(
        "Server unreachable — 1 edit kept, retrying in"), timeout=30_000)  # fmt: skip
    assert not status.retry.isHidden()  # "Retry now" is offered while waiting
    holder.rollback()
    holder.close()
    qtbot.mouseClick(status.retry, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: status.label.text() == "All changes saved", timeout=30_000)
    with Study.open(url, actor="B") as other:
        assert other.measurements(fid)[0].upper.posterior[1] == 105.0
        assert other.verify_integrity().ok
    ticks.timer.stop()
    saver.close()
    study.close()


def test_closing_with_kept_edits_asks_and_never_drops_silently(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "s.cobbdesk"
    Study.create(path, actor="A").close()
    study = Study.open(path, actor="A")
    status = SaveStatus()
    qtbot.addWidget(status)
    saver = StudySaver(study, status)
    saver.outbox.backoff = (3600.0,)
    away, applied = threading.Event(), []  # the server stays away in this test
    away.set()

    def write() -> None:
        if away.is_set():
            raise ServerUnavailableError(path, "the database server cannot be reached (test)")
        applied.append(1)

    for _ in range(2):
        saver.outbox.submit(write, "edit")
    qtbot.waitUntil(lambda: status.label.text().startswith("Server unreachable — 2 edits kept"))
    asked: list[int] = []
    answers = ["keep", "wait", "discard"]

    def ask(_parent: Any, pending: int, _text: str) -> str:
        asked.append(pending)
        return answers.pop(0)

    assert not saver.confirm_close(None, ask)  # keep trying: the study stays open
    assert saver.outbox.pending() == 2 and asked == [2]
    assert saver.confirm_close(None, ask)  # waited: still away, asked again, then discarded
    assert asked == [2, 2, 2] and saver.outbox.pending() == 0 and applied == []
    saver.outbox.submit(lambda: applied.append(2), "after")
    assert saver.outbox.wait_idle(30)
    assert saver.confirm_close(None, lambda *_: pytest.fail("nothing left to ask about"))
    assert applied == [2]
    saver.close()
    study.close()


def test_closing_while_a_write_is_still_saving_waits_for_it_without_asking(
    qtbot: Any, tmp_path: Path
) -> None:
    """A write just queued (a film's pixel hash, the last autosave) lands before the study
    closes, without a question: the prompt appeared and, unanswered, hung a whole CI run."""
    path = tmp_path / "s.cobbdesk"
    Study.create(path, actor="A").close()
    study = Study.open(path, actor="A")
    status = SaveStatus()
    qtbot.addWidget(status)
    saver = StudySaver(study, status)
    release, applied = threading.Event(), []

    def slow_write() -> None:  # still being saved when the window closes
        release.wait(5)
        applied.append(1)

    saver.outbox.submit(slow_write, "edit")
    QTimer.singleShot(300, release.set)
    assert saver.confirm_close(None, lambda *_: pytest.fail("a saving write is not asked about"))
    assert applied == [1] and saver.outbox.pending() == 0
    saver.close()
    study.close()


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    qtbot.addWidget(win)
    return win


def test_server_down_at_open_says_so_and_retry_opens_it(
    window: MainWindow, qtbot: Any, pg_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_cluster.new_study_url()
    Study.create(url, actor="A").close()
    real_open, calls, asked = Study.open, [0], []

    def open_flaky(location: Any, *args: Any, **kw: Any) -> Study:
        calls[0] += 1
        if calls[0] == 1:
            raise ServerUnavailableError(location, "the database server cannot be reached (x)")
        return real_open(location, *args, **kw)

    monkeypatch.setattr(Study, "open", open_flaky)
    monkeypatch.setattr(connecting, "ask_retry", lambda _p, text: asked.append(text) or True)
    assert window.session.open_study(url)
    assert calls == [2] and len(asked) == 1 and "cannot be reached" in asked[0]
    assert window.session.saver is not None
    assert window.session.save_status.label.text() == "All changes saved"
    qtbot.waitUntil(lambda: not window.session.jobs)  # the browser's background reads
    window.session.close_study()
    assert window.session.save_status.label.text() == ""


def test_connecting_paints_and_cancel_abandons_the_attempt(
    window: MainWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, closed = threading.Event(), []

    class Slow:
        def close(self) -> None:
            closed.append(1)

    def slow_open(*_args: Any, **_kw: Any) -> Any:
        release.wait(60)
        return Slow()

    monkeypatch.setattr(Study, "open", slow_open)
    ticks = Ticks()
    QTimer.singleShot(200, lambda: connecting.showing[0].cancel())  # noqa: PLW0108 (looked up later)
    assert not window.session.open_study("postgresql://nobody@/x?unix_sock=/nonexistent/s")
    assert ticks.count > 0 and window.session.study is None
    release.set()
    qtbot.waitUntil(lambda: closed == [1])  # the late study is closed, not leaked
    ticks.timer.stop()
