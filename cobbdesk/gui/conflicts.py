"""The one "changed by someone else" question: Keep theirs / Keep mine / Cancel.

Asked by the lab form (one question per field) and by the measuring tools (one per refused
measurement edit) when another rater — or another window of this app — saved since the values
were read (#12: never a silent overwrite).  ``text`` says what was seen, what they saved and
what the user entered, and who "they" are (:func:`measurement_conflict_text`); it must name
no patient identifier.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget


def measurement_conflict_text(conflicts: Iterable[Any], writer: Any, rater: str) -> str:
    """The question for a refused measurement edit of ``rater``: the changed fields
    (``conflicts``: the store's ``FieldConflict`` tuples) and who changed them (``writer``: the
    store's :class:`~cobbdesk.core.store.conflicts.Writer`, None when unknown) — "Your other
    window (Compare view) saved …", "Another rater (dr_b) saved …"."""
    from cobbdesk.core.measure.changes import writer_phrase  # numpy: not at first paint

    names = ", ".join(sorted({c.field for c in conflicts}))
    who = writer_phrase(writer, rater)
    who += "," if ", in another" in who else ""  # "You, in another window, saved …"
    own = bool(writer is not None and writer.yours(rater))
    since = "this window showed it" if own else "this film was opened"
    theirs = "the version saved there" if own else "their version"
    mine = "this window's" if own else "yours"
    return (f"{who[:1].upper()}{who[1:]} saved this measurement ({names}) or deleted it since "
            f"{since}. Keep {theirs}, or save {mine} over it?")  # fmt: skip


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
