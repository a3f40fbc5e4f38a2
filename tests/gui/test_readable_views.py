"""Views read completely at 1366×768 (#17): no text drawn over text, no label squeezed below
its text, no header cut, no dialog taller than the screen.  Measured with QFontMetrics and
the widgets' geometry at scale 1 (the 200 % screenshots are checked by eye)."""

from __future__ import annotations

import os
from collections.abc import Iterator

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QWidget

from cobbdesk.core.store.outbox import OutboxState, Phase
from cobbdesk.gui.study.saving import SaveStatus
from cobbdesk.gui.viewer.calibrate_tool import PROMPTS
from cobbdesk.gui.viewer.status import StatusBar

CALIBRATE_PROMPT = f"{PROMPTS[0]}; then {PROMPTS[1].split(': ')[1]} (Esc: cancel)"
CURSOR = "x 1528.4  y 1597.2 px  (382.1, 399.3 mm)   value 31894"
WINDOW = "W/L centre 1,754  width 2,979"
SPACING = "Spacing 0.139 × 0.139 mm (ImagerPixelSpacing)"


@pytest.fixture
def bar(qtbot) -> Iterator[StatusBar]:  # type: ignore[no-untyped-def]
    window = QMainWindow()
    status = StatusBar()
    window.setStatusBar(status)
    window.setCentralWidget(QWidget())
    saving = SaveStatus()
    saving.setObjectName("save_status")
    status.addPermanentWidget(saving)
    saving.show_state(OutboxState())
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    status.spacing.setText(SPACING)
    status.cursor.setText(CURSOR)
    status.window_level.setText(WINDOW)
    yield status  # the window stays referenced while the test runs
    window.close()


def _settle() -> None:
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def _permanent(bar: StatusBar) -> list[QWidget]:
    return [w for w in bar._permanent if w.isVisible()]


def _message_room(bar: StatusBar) -> int:
    """QStatusBar draws its message from x = 6 up to 4 px before the first permanent widget
    shown, clipped there (qstatusbar.cpp, messageRect)."""
    right = min((w.x() for w in _permanent(bar)), default=bar.width() - 12) - 4
    return right - 6


def _squeezed(bar: StatusBar) -> list[str]:
    """Labels of the bar (permanent, and inside the save status) narrower than their text or
    reaching past the bar's right edge."""
    labels = [w for w in _permanent(bar) if isinstance(w, QLabel)]
    labels += [w.label for w in _permanent(bar) if isinstance(w, SaveStatus)]
    bad = []
    for label in labels:
        right = label.mapTo(bar, label.rect().topRight()).x()
        narrow = label.width() < label.fontMetrics().horizontalAdvance(label.text())
        if narrow or right > bar.width():
            bad.append(label.text())
    return bad


def test_a_prompt_reads_whole_beside_the_readouts(bar: StatusBar) -> None:
    bar.showMessage(CALIBRATE_PROMPT)
    _settle()
    assert bar.fontMetrics().horizontalAdvance(CALIBRATE_PROMPT) <= _message_room(bar)
    assert _squeezed(bar) == []
    assert bar.spacing.isVisible()  # the spacing never steps aside
    bar.clearMessage()
    _settle()
    assert bar.cursor.isVisible() and bar.window_level.isVisible()  # back once it is gone
    assert _squeezed(bar) == []


def test_a_long_save_state_is_not_cut_on_the_right(bar: StatusBar) -> None:
    saving = bar.findChild(SaveStatus, "save_status")
    assert saving is not None
    waiting = OutboxState(Phase.WAITING, pending=12, retry_at=None, problem="connection refused",
                          headline="Server unreachable")  # fmt: skip
    saving.show_state(waiting)
    bar.showMessage("Saved to study (film #1).")
    _settle()
    assert _squeezed(bar) == []
    assert bar.fontMetrics().horizontalAdvance(bar.currentMessage()) <= _message_room(bar)


def test_a_readout_that_changes_while_hidden_comes_back(bar: StatusBar) -> None:
    bar.showMessage(CALIBRATE_PROMPT)
    _settle()
    bar.cursor.setText("x 1.0  y 2.0 px")
    bar.clearMessage()
    _settle()
    assert bar.cursor.isVisible() and _squeezed(bar) == []
