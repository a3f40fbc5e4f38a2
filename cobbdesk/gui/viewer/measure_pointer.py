"""Mouse and keys of a :class:`~cobbdesk.gui.viewer.measure_tool.MeasureController`: the
:class:`~cobbdesk.gui.viewer.film_view.Tool` protocol (press, move, release in image
coordinates), dragging handles and lines, hover cursors, Escape and Delete.

A mixin of the controller: it uses the controller's ``view``, ``session``, ``measurements``,
``_items``, ``_sketch``, ``_selected``, the ``messageChanged`` / ``angleChanged`` signals and its
``select`` / ``delete_selected`` / ``cancel_placement`` / ``_click`` / ``_handle`` /
``_clear_ghost`` / ``waiting`` methods; it keeps ``_dragging``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent

from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_items import MeasurementItem, SketchItem

HIT_TOLERANCE_PX = 8.0
"""Grab distance for handles and lines, in screen pixels."""


class MeasurePointer:
    """Press, drag, release, hover and keys of a measuring view (see the module docstring)."""

    view: FilmView | None
    session: Any
    measurements: Any
    messageChanged: Any
    angleChanged: Any
    _items: dict[str, MeasurementItem]
    _sketch: SketchItem | None
    _selected: str | None
    _dragging: str | None
    # the controller's (annotations only: no attribute here may shadow it in the MRO)
    select: Callable[[str | None], None]
    delete_selected: Callable[[], None]
    cancel_placement: Callable[[], None]
    waiting: Callable[[], bool]
    _click: Callable[[float, float], None]
    _handle: Callable[[Any], None]
    _clear_ghost: Callable[[], None]

    def _tolerance(self) -> float:
        zoom = self.view.zoom if self.view is not None else 1.0
        return HIT_TOLERANCE_PX / max(zoom, 1e-6)

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> bool:
        if self.session.placing:
            self._click(x, y)
            return True
        self._cancel_drag()
        hit = self.session.press((x, y), self._tolerance())
        if hit is None:
            self.select(None)
            return False
        self._clear_ghost()
        self.select(hit.measurement_id)
        self._dragging = hit.measurement_id
        if not hit.is_handle and self.view is not None:
            self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        return True

    def move(self, x: float, y: float, buttons: Qt.MouseButton) -> bool:
        if self.session.placing:
            if self._sketch is not None:
                self._sketch.set_pointer((x, y))
            return True
        update = self.session.drag_to((x, y)) if self._dragging is not None else None
        if update is not None and self._dragging is not None:
            if self._dragging in self._items:
                self._items[self._dragging].set_measurement(update.preview)
            if update.message:
                self.messageChanged.emit(update.message)
            self.angleChanged.emit(update.angle)
            return True
        self._hover(x, y)
        return False

    def release(self, x: float, y: float) -> bool:
        if self._dragging is None:
            return False
        mid, self._dragging = self._dragging, None
        outcome = self.session.release((x, y))
        if mid in self._items and mid in self.measurements:
            self._items[mid].set_measurement(self.measurements[mid])
        self._handle(outcome)
        if self.view is not None:
            self._hover(x, y)
        return True

    def _cancel_drag(self) -> None:
        if self._dragging is None:
            return
        mid, self._dragging = self._dragging, None
        self.session.cancel_drag()
        if mid in self._items and mid in self.measurements:
            self._items[mid].set_measurement(self.measurements[mid])

    def _hover(self, x: float, y: float) -> None:
        if self.view is None:
            return
        from cobbdesk.core.measure.interaction import hit_test

        hit = hit_test(self.measurements.values(), (x, y), self._tolerance())
        viewport = self.view.viewport()
        if hit is None:
            viewport.unsetCursor()
        else:
            shape = Qt.CursorShape.SizeAllCursor if hit.is_handle else Qt.CursorShape.OpenHandCursor
            viewport.setCursor(shape)

    # --- keys ------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Escape cancels a placement or a drag; Delete/Backspace deletes the selection."""
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        if self.waiting():
            return False  # the question bar takes its keys first
        if key == Qt.Key.Key_Escape and (self.session.placing or self._dragging is not None):
            self.cancel_placement()
            self._cancel_drag()
            return True
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selected is not None:
            self.delete_selected()
            return True
        return False
