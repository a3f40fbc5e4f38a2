"""The questions a measuring session asks through the film view's :class:`ChoiceBar` (which
way the patient faces; whether to apply a large snap) and the snap notes drawn on the lines.

A mixin of :class:`~cobbdesk.gui.viewer.measure_tool.MeasureController`: it uses the
controller's ``session``, ``bar``, ``film``, ``measurements``, ``messageChanged`` and its
``_handle`` / ``_changed`` / ``_show_ghost`` methods.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt

from cobbdesk.core.measure.measurement import CobbMeasurement, LineName
from cobbdesk.gui.viewer.prompts import ChoiceBar, facing_question

if TYPE_CHECKING:
    from cobbdesk.core.measure.facing import Facing


class SessionQuestions:
    """Facing and snap questions of a :class:`MeasureController` (see the module docstring)."""

    session: Any
    bar: ChoiceBar | None
    film: Any
    messageChanged: Any

    def _handle(self, outcome: Any) -> None:  # pragma: no cover - the controller's
        raise NotImplementedError

    def _changed(self) -> None:  # pragma: no cover - the controller's
        raise NotImplementedError

    def _show_ghost(self, clicked: CobbMeasurement) -> None:  # pragma: no cover
        raise NotImplementedError

    # --- facing and snap questions -------------------------------------------------------
    def _ask_facing(self) -> None:
        from cobbdesk.core.measure.facing import Facing
        from cobbdesk.core.measure.session import suggested_facing

        estimate = suggested_facing(self.film)
        if self.bar is None:
            self.messageChanged.emit("Which way does the patient face? (attach a view)")
            return
        self.bar.ask(facing_question(estimate), [
            ("\u25c0 Anterior is left", Qt.Key.Key_Left, lambda: self.set_facing(Facing.LEFT)),
            ("Anterior is right \u25b6", Qt.Key.Key_Right, lambda: self.set_facing(Facing.RIGHT)),
        ])  # fmt: skip
        if estimate.facing is not None:
            self.bar.buttons[0 if estimate.facing is Facing.LEFT else 1].setDefault(True)

    def set_facing(self, facing: Facing | str, reason: str = "") -> None:
        """The user's answer: stored with source "user"; a waiting measurement is finished."""
        from cobbdesk.core.measure.facing import FacingSource

        self._close_bar()
        self._handle(self.session.set_facing(facing, FacingSource.USER, reason))

    def _ask_snap(self, summary: str) -> None:
        if self.bar is None:
            return
        threshold = self.session.snap_threshold_deg
        self.bar.ask(
            f"<b>Snapping would move your lines more than {threshold:g}°:</b> {summary}",
            [("Apply snap", Qt.Key.Key_Return, self.confirm_snap),
             ("Keep my points", Qt.Key.Key_Escape, self.reject_snap)],
        )  # fmt: skip
        pending = self.session.pending_snap
        if pending is not None:  # show where the snap would put the lines
            self._show_ghost(pending.measurement)

    def _close_bar(self) -> None:
        if self.bar is not None and self.bar.isVisible():
            self.bar.hide()

    def confirm_snap(self) -> None:
        self._close_bar()
        clicked = self.session.measurements.get(self.session.pending_snap.measurement.id) \
            if self.session.pending_snap is not None else None  # fmt: skip
        self._handle(self.session.confirm_snap())
        if clicked is not None:
            self._show_ghost(clicked)

    def reject_snap(self) -> None:
        self._close_bar()
        self.session.reject_snap()
        self.messageChanged.emit("Kept your points (not snapped)")
        self._changed()

    def waiting(self) -> bool:
        """True while the bar asks a question (facing or snap)."""
        return self.bar is not None and self.bar.isVisible()

    def _notes(self, m: CobbMeasurement) -> dict[LineName, str]:
        """How far snapping moved each line that is still snapped."""
        moves = self.session.snap_report.get(m.id)
        if moves is None:
            return {}
        notes = {}
        for name, move, snapped in zip(LineName, moves, (m.upper_snapped, m.lower_snapped),
                                       strict=True):  # fmt: skip
            if snapped:
                notes[name] = f"snapped {move.angle_deg:.1f}°, {move.shift:.1f} {move.units}"
        return notes
