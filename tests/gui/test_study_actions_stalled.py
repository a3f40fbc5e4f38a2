"""A stalled database call of a study-window action keeps the window running and says so (#15).

The call is blocked on its worker (the store method replaced by one that waits for the test's
release, :class:`~tests.gui.test_study_reads_off_ui.Gate`): meanwhile a QTimer of the UI
thread keeps ticking and the window shows the state ("Saving…", "… kept", "Loading
patients…"); after the release the result is the store's.  Verify audit trail's Cancel stops
the check itself: no audit rows are read after it.
"""

# ruff: noqa: F811  (the fixtures ``where`` and ``window`` are imported from the actions tests)
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QProgressDialog, QPushButton
from sqlalchemy import event

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import Region, Study
from cobbdesk.core.store import audit as audit_log
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study.photo_dialog import LOADING_PATIENTS, PhotoTargetDialog
from tests.gui.test_study_actions_off_ui import (  # noqa: F401  (fixtures)
    _env,
    context_action,
    film_index,
    other,
    settle,
    where,
    window,
)
from tests.gui.test_study_reads_off_ui import Gate, Ticker


class Sampler:
    """Records a text of the UI every 5 ms (only while the UI thread's loop runs)."""

    def __init__(self, read: Any) -> None:
        self.seen: list[str] = []
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(lambda: self.seen.append(read()))
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


def _method(gate: Gate) -> Any:
    def method(self: Study, *args: Any, **kwargs: Any) -> Any:
        return gate(self, *args, **kwargs)

    return method


def test_a_stalled_region_change_keeps_the_window_running_and_saving_shown(
    qtbot: Any, window: MainWindow, where: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = window.session
    assert session.saver is not None
    session.saver.outbox.first_wait_s = 0.5  # (2 s in the app)
    session.reason_prompt = lambda parent, what: "film is lumbar"
    with other(where) as check:
        film_id = next(f.id for f in check.films() if f.region is Region.CERVICAL)
    gate = Gate(Study.change_film)
    monkeypatch.setattr(Study, "change_film", _method(gate))
    index = film_index(qtbot, window, "cervical")
    ticker, status = Ticker(), Sampler(session.save_status.label.text)
    before = ticker.ticks
    context_action(qtbot, window, index, ("Change region", "Lumbar"))  # returns when kept
    assert gate.entered.is_set() and ticker.ticks >= before + 10  # the loop kept running
    status.stop()
    assert "Saving…" in status.seen
    assert window.status.currentMessage().startswith(f"Film #{film_id}: region change kept")
    with other(where) as check:
        assert check.film(film_id).region is Region.CERVICAL  # not written yet
    ticker.keeps_ticking(qtbot, lambda: session.save_status.label.text() == "Saving…")
    gate.release.set()
    qtbot.waitUntil(lambda: session.save_status.label.text() == "All changes saved",
                    timeout=10_000)  # fmt: skip
    with other(where) as check:
        assert check.film(film_id).region is Region.LUMBAR and check.verify_audit().ok


def test_a_stalled_patient_list_in_the_photo_dialog(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(Study.patients)
    monkeypatch.setattr(Study, "patients", _method(gate))
    ticker = Ticker()
    dialog = PhotoTargetDialog(window, window.session.study, 1)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    assert gate.entered.wait(10)
    placeholder = dialog.patient.lineEdit().placeholderText
    ticker.keeps_ticking(qtbot, lambda: dialog.loading and placeholder() == LOADING_PATIENTS)
    assert not dialog.patient.isEnabled() and dialog.patient.count() == 0
    gate.release.set()
    qtbot.waitUntil(lambda: not dialog.loading, timeout=5000)
    assert [dialog.patient.itemText(i) for i in range(dialog.patient.count())] == [
        p.study_id for p in gate.real(window.session.study)]  # fmt: skip
    assert dialog.patient.isEnabled() and dialog.patient.currentText() == ""


def test_a_failed_patient_list_leaves_the_photo_dialog_usable(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(self: Study) -> Any:
        raise StoreError(None, "server connection lost")

    monkeypatch.setattr(Study, "patients", failing)
    dialog = PhotoTargetDialog(window, window.session.study, 1)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.loading, timeout=5000)
    assert dialog.patient.isEnabled() and dialog.patient.count() == 0
    assert "could not be listed (server connection lost)" in dialog.problem.text()
    dialog.patient.setEditText("P0002")
    dialog.accept()
    assert dialog.target is not None and dialog.target.patient == "P0002"


def _progress(window: MainWindow) -> QProgressDialog | None:
    shown = [d for d in window.findChildren(QProgressDialog) if d.isVisible()]
    return shown[0] if shown else None


def test_cancel_stops_the_audit_verification_itself(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancel is seen between chunks of audit rows: the reading stops at the next chunk (the
    check used to run to its end, its result discarded)."""
    session = window.session
    study = session.study
    assert study is not None
    total = study.verify_audit().rows
    monkeypatch.setattr(audit_log, "VERIFY_CHUNK", 2)
    assert total // 2 + 1 >= 4  # uncancelled, the check reads at least 4 chunks
    reads: list[str] = []
    second, release = threading.Event(), threading.Event()

    def on_read(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if "FROM audit" in statement and threading.current_thread() is not threading.main_thread():
            reads.append(statement)
            if len(reads) == 2:  # the worker holds here until the user has cancelled
                second.set()
                release.wait(15)

    event.listen(study.engine, "before_cursor_execute", on_read)
    try:
        job = session.verify_audit()
        assert job is not None and second.wait(10)
        qtbot.waitUntil(lambda: _progress(window) is not None, timeout=5000)
        _progress(window).findChild(QPushButton).click()  # type: ignore[union-attr]  # Cancel
        release.set()
        qtbot.waitUntil(lambda: job not in session.jobs, timeout=5000)
    finally:
        event.remove(study.engine, "before_cursor_execute", on_read)
    assert len(reads) == 2  # nothing read after Cancel
    assert session.audit_result is None
    assert window.status.currentMessage() == "Audit verification cancelled."


def test_a_stalled_study_open_shows_opening_and_keeps_the_window_running(
    qtbot: Any, window: MainWindow, where: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QProgressDialog

    from cobbdesk.gui.study import connecting

    session = window.session
    session.close_study()
    real_open = Study.open
    gate = Gate(real_open)
    monkeypatch.setattr(Study, "open", staticmethod(gate))
    ticker, seen = Ticker(), []

    def look() -> None:  # runs on the UI thread while open_study waits for the worker
        dialogs = [d for d in window.findChildren(QProgressDialog) if d.isVisible()]
        seen.append(dialogs[0].labelText() if dialogs else "")
        if (dialogs and ticker.ticks >= before + 10) or len(seen) > 400:
            gate.release.set()
        else:
            QTimer.singleShot(10, look)

    before = ticker.ticks
    QTimer.singleShot(10, look)
    assert session.open_study(where)  # returns once opened
    assert gate.calls == 1 and ticker.ticks >= before + 10  # the loop ran while it waited
    label = "Opening trial.cobbdesk…" if isinstance(where, Path) else "Connecting to "
    assert any(text.startswith(label) for text in seen), seen[-3:]
    assert not connecting.showing
    settle(qtbot, window)
    assert session.browser.model.rowCount() == 2
