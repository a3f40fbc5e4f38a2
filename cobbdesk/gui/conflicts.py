"""The one "changed by someone else" question: Keep theirs / Keep mine / Cancel.

Asked by the lab form (one question per field) and by the measuring tools (one per refused
measurement edit) when another rater saved since the values were read (#12: never a silent
overwrite).  ``text`` says what was seen, what they saved and what the user entered; it must
name no patient identifier.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_theirs_or_mine(parent: QWidget | None, text: str) -> str | None:
    """``"theirs"``, ``"mine"`` or None (Cancel, or the box closed)."""
    box = QMessageBox(parent)
    box.setWindowTitle("Changed by someone else")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setText(text)
    theirs = box.addButton("Keep theirs", QMessageBox.ButtonRole.RejectRole)
    mine = box.addButton("Keep mine", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    clicked = box.clickedButton()
    return "theirs" if clicked is theirs else "mine" if clicked is mine else None
