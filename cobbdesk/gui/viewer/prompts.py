"""Non-modal questions over a film view (facing, snap confirmation) and the reason prompt.

A :class:`ChoiceBar` is a strip across the top of the film view with a question and two
buttons, each with a key; it never blocks the window.  :func:`reason_text` is what every view
shows when a saved measurement is about to change (the rule is the core's
:meth:`~cobbdesk.core.measure.session.MeasurementSession.needs_reason`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from cobbdesk.core.measure.changes import Change
    from cobbdesk.core.measure.facing import FacingEstimate

BAR_STYLE = """
#choiceBar { background: rgba(16, 20, 26, 235); border: 2px solid #ffc02e; border-radius: 6px; }
#choiceBar QLabel { color: #f0f0f0; font-size: 11pt; }
#choiceBar QPushButton { color: #101418; background: #ffc02e; border: none; border-radius: 4px;
                         padding: 6px 14px; font-weight: bold; font-size: 11pt; }
#choiceBar QPushButton:hover { background: #ffd466; }
"""
Choice = tuple[str, Qt.Key, Callable[[], None]]  # button text, key, action
ReasonPrompt = Callable[[QWidget | None, str], "str | None"]


class ChoiceBar(QFrame):
    """A question with two or more buttons across the top of ``parent`` (keys work while the
    bar is shown and the view has focus)."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("choiceBar")
        self.setStyleSheet(BAR_STYLE)
        self.label = QLabel(wordWrap=True)
        column = QVBoxLayout(self)
        column.setContentsMargins(12, 8, 12, 8)
        column.addWidget(self.label)
        self.row = QHBoxLayout()
        self.row.addStretch(1)
        column.addLayout(self.row)
        self.buttons: list[QPushButton] = []
        self._keys: dict[int, Callable[[], None]] = {}
        parent.installEventFilter(self)
        self.hide()

    def ask(self, question: str, choices: Sequence[Choice]) -> None:
        """Show ``question`` with one button per choice; answering hides the bar."""
        for button in self.buttons:
            self.row.removeWidget(button)
            button.deleteLater()
        self.buttons, self._keys = [], {}
        self.label.setText(question)
        for text, key, action in choices:
            shown = QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)
            button = QPushButton(f"{text}  [{shown}]")
            button.clicked.connect(lambda _=False, a=action: self._answer(a))
            self.row.addWidget(button)
            self.buttons.append(button)
            self._keys[int(key)] = action
        self._place()
        self.show()
        self.raise_()

    def _answer(self, action: Callable[[], None]) -> None:
        self.hide()
        action()

    def _place(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            width = min(parent.width() - 16, 900)
            self.setFixedWidth(max(width, 320))
            self.setFixedHeight(self.heightForWidth(self.width()) if self.hasHeightForWidth()
                                else self.sizeHint().height())  # fmt: skip
            self.move((parent.width() - self.width()) // 2, 8)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        if (self.isVisible() and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() in self._keys):  # fmt: skip
            self._answer(self._keys[event.key()])
            return True
        return False


def facing_question(estimate: FacingEstimate) -> str:
    """The facing prompt's text, naming the suggestion and what it rests on."""
    head = "<b>Which way does the patient face?</b> (needed once per film: it decides which "
    head += "end of each endplate line is anterior)"
    if estimate.facing is None:
        return f"{head}<br>No suggestion ({estimate.reason})."
    side = estimate.facing.value
    return (
        f"{head}<br>Suggested: anterior to the <b>{side}</b> — {estimate.reason} "
        f"(confidence {estimate.confidence:.0%})."
    )


def reason_text(film_label: str, changes: Sequence[Change]) -> str:
    """``"You are changing saved measurement(s) of film #3:\\n• dr_b's C2-C7 (saved …):
    +28.1° lordosis → +50.9° lordosis\\nNot yours: …"``: each change names whose measurement
    it is, which, its saved angle and time (:attr:`Change.text`); a measurement of another
    rater is pointed out (two measurements may overlap on the film)."""
    lines = "\n".join(f"• {change.text}" for change in changes)
    others = sorted({c.owner or "an unnamed rater" for c in changes if c.others})
    note = (f"\nNot yours: this changes the measurement of {', '.join(others)}."
            if others else "")  # fmt: skip
    return f"You are changing saved measurement(s) of {film_label}:\n{lines}{note}"


def _reason_dialog(parent: QWidget | None, what: str) -> str | None:
    text, ok = QInputDialog.getText(
        parent, "Reason for the change", f"{what}\n\nReason (kept in the audit trail):"
    )
    return text.strip() if ok and text.strip() else None


#: Asks why a saved measurement changes; None means the user declined.  Every view uses it
#: (the viewer and the compare view); tests pass their own ``reason_prompt`` instead.
ask_reason: ReasonPrompt = _reason_dialog
