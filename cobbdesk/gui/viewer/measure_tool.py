"""MeasureController: the per-film measurement tool behind a FilmView.

It turns the view's left-button events (already in image coordinates) into the core's
steppable generators (:func:`interaction.place_measurement`, :func:`interaction.drag`), keeps the
film's :class:`MeasurementSet` in a :class:`StateHolder` edited only through a QUndoStack of
:class:`CoreCommand`\\ s, and keeps one :class:`MeasurementItem` per measurement in the scene.
All angles, hit-testing, snapping and command semantics come from the core.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QUndoStack

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.measure.commands import Command, MeasurementSet
from cobbdesk.core.measure.interaction import (
    DragUpdate,
    EventKind,
    FilmContext,
    PlacementStep,
    PointerEvent,
    delete_command,
    drag,
    hit_test,
    place_measurement,
)
from cobbdesk.core.measure.measurement import CobbMeasurement, Template
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_items import MeasurementItem, OverlayItem, SketchItem
from cobbdesk.gui.viewer.undo import CoreCommand, StateHolder

if TYPE_CHECKING:  # snapping (OpenCV) loads on first use, not at start-up
    from cobbdesk.core.measure.snapping import SnapResult

HIT_TOLERANCE_PX = 8.0
"""Grab distance for handles and lines, in screen pixels."""
_Overlay = TypeVar("_Overlay", bound=OverlayItem)
GHOST_MS = 4000
"""How long the clicked points stay visible after snapping moved them."""


def snap_summary(m: CobbMeasurement, results: tuple[SnapResult, SnapResult]) -> str:
    """``"Snapped: C2 moved 1.8°, C7 moved 0.4°"`` or why the clicks were kept."""
    names = [level.split(" endplate")[0].replace(" inferior", "").replace(" superior", "")
             for level in m.template.levels]  # fmt: skip
    pairs = list(zip(names, results, strict=True))
    moved = [f"{n} moved {r.angle_change_deg:.1f}°" for n, r in pairs if r.snapped]
    kept = [n for n, r in pairs if not r.snapped]
    if not moved:
        return f"Snapping found no clear edge near {' or '.join(kept)}: kept your points"
    text = "Snapped: " + ", ".join(moved)
    return text + (f"; no clear edge near {kept[0]}: kept your points" if kept else "")


class MeasureController(QObject):
    """Measures one film: placement, selection, drags and deletion, all undoable.

    Implements the :class:`~cobbdesk.gui.viewer.film_view.Tool` protocol once :meth:`attach`\\ ed.
    """

    promptChanged = Signal(str)  # guided prompt of the running placement ("" when none)
    messageChanged = Signal(str)  # refusals and snapping summaries, for the status bar
    selectionChanged = Signal(object)  # str | None
    angleChanged = Signal(float)  # live angle while dragging
    measurementsChanged = Signal()  # after every change, undo/redo included

    def __init__(self, film: Film, rater: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.film = film
        self.context = FilmContext.from_film(film, rater)
        self.holder = StateHolder(self)
        self.undo_stack = QUndoStack(self)
        self.snap_radius_px = 10.0
        self.view: FilmView | None = None
        self._snapping = True
        self._selected: str | None = None
        self._items: dict[str, MeasurementItem] = {}
        self._sketch: SketchItem | None = None
        self._ghost: SketchItem | None = None
        self._placing: Generator[PlacementStep, Any, None] | None = None
        self._placed: list[tuple[float, float]] = []
        self._drag: tuple[str, Generator[DragUpdate, PointerEvent, None]] | None = None
        self._ghost_timer = QTimer(self, singleShot=True, interval=GHOST_MS)
        self._ghost_timer.timeout.connect(self._clear_ghost)
        self.holder.changed.connect(self._on_state_changed)

    # --- state --------------------------------------------------------------------------
    @property
    def rater(self) -> str:
        """Who new measurements belong to."""
        return self.context.rater

    @rater.setter
    def rater(self, rater: str) -> None:
        self.context = FilmContext.from_film(self.film, rater)

    @property
    def measurements(self) -> MeasurementSet:
        return self.holder.state

    @property
    def selected_id(self) -> str | None:
        return self._selected

    @property
    def snapping_enabled(self) -> bool:
        return self._snapping

    @property
    def placing(self) -> bool:
        return self._placing is not None

    def overlay(self, measurement_id: str) -> MeasurementItem | None:
        """The item drawing a measurement in the attached view (None when not shown)."""
        return self._items.get(measurement_id)

    def set_snapping(self, enabled: bool) -> None:
        self._snapping = bool(enabled)

    def load(self, measurements: Iterable[CobbMeasurement]) -> None:
        """Start from saved measurements: no undo entry, and the undo history is cleared."""
        self.undo_stack.clear()
        self.holder.set_state(MeasurementSet(measurements))
        self.undo_stack.setClean()

    def push(self, command: Command, *, mergeable: bool = False) -> None:
        """Apply a core command as one undo step."""
        self.undo_stack.push(CoreCommand(self.holder, command, mergeable=mergeable))

    def select(self, measurement_id: str | None) -> None:
        if measurement_id is not None and measurement_id not in self.measurements:
            measurement_id = None
        if measurement_id == self._selected:
            return
        self._selected = measurement_id
        for mid, item in self._items.items():
            item.set_selected(mid == measurement_id)
        self.selectionChanged.emit(measurement_id)

    def delete_selected(self) -> None:
        command = delete_command(self.measurements, self._selected)
        if command is not None:
            self.push(command)

    def _on_state_changed(self) -> None:
        self._clear_ghost()  # the clicked-points marker lasts until the next edit
        self._sync_items()
        if self._selected is not None and self._selected not in self.measurements:
            self.select(None)
        self.measurementsChanged.emit()

    # --- view and overlay items ----------------------------------------------------------
    def attach(self, view: FilmView) -> None:
        """Draw this film's measurements in ``view`` and receive its left-button events."""
        if self.view is not None:
            self.detach()
        self.view = view
        view.tool = self
        view.filmChanged.connect(self._rebuild)
        view.displayChanged.connect(self._on_display_changed)
        view.installEventFilter(self)
        self._rebuild()

    def detach(self) -> None:
        view = self.view
        if view is None:
            return
        self.cancel_placement()
        self._cancel_drag()
        view.filmChanged.disconnect(self._rebuild)
        view.displayChanged.disconnect(self._on_display_changed)
        view.removeEventFilter(self)
        for item in self._overlay_items():
            if shiboken6.isValid(item) and item.scene() is not None:
                item.scene().removeItem(item)
        self._items, self._sketch, self._ghost = {}, None, None
        if view.tool is self:
            view.tool = None
        view.viewport().unsetCursor()
        self.view = None

    def _overlay_items(self) -> list[MeasurementItem | SketchItem]:
        extra = [i for i in (self._sketch, self._ghost) if i is not None]
        return [*self._items.values(), *extra]

    def _shows_film(self) -> bool:
        film = self.view.film if self.view is not None else None
        return film is not None and film.pixel_sha256 == self.film.pixel_sha256

    def _rebuild(self) -> None:
        """(Re)create every overlay item in the view's current scene (after ``filmChanged``)."""
        self._items, self._sketch, self._ghost = {}, None, None  # the old scene owns the old
        if self.view is None or not self._shows_film():
            return
        self._sketch = self._add(SketchItem())
        self._ghost = self._add(SketchItem(ghost=True))
        self._sync_items()
        if self._placing is not None:
            self._sketch.set_points(self._placed)

    def _add(self, item: _Overlay) -> _Overlay:
        assert self.view is not None
        item.set_view(self.view.transform())
        self.view.scene().addItem(item)
        return item

    def _sync_items(self) -> None:
        if self.view is None or self._sketch is None:
            return
        state = self.measurements
        for mid in [mid for mid in self._items if mid not in state]:
            self.view.scene().removeItem(self._items.pop(mid))
        for mid, m in state.items():
            item = self._items.get(mid)
            if item is None:
                item = self._items[mid] = self._add(
                    MeasurementItem(m, (self.film.columns, self.film.rows))
                )
            elif item.measurement != m:
                item.set_measurement(m)
            item.set_selected(mid == self._selected)

    def _on_display_changed(self) -> None:
        if self.view is not None:
            transform = self.view.transform()
            for item in self._overlay_items():
                item.set_view(transform)

    def _clear_ghost(self) -> None:
        self._ghost_timer.stop()
        if self._ghost is not None:
            self._ghost.set_points([])

    # --- placement -----------------------------------------------------------------------
    def start_placement(self, template: Template | str) -> None:
        """Begin placing a new measurement; each left click places the next corner."""
        self.cancel_placement()
        self._cancel_drag()
        self._clear_ghost()
        self.select(None)
        self._placing = place_measurement(template, self.context)
        self._placed = []
        self._show_step(next(self._placing))
        if self.view is not None:
            self.view.viewport().setCursor(Qt.CursorShape.CrossCursor)

    def cancel_placement(self) -> None:
        if self._placing is None:
            return
        self._placing.close()
        self._placing, self._placed = None, []
        if self._sketch is not None:
            self._sketch.set_points([])
        if self.view is not None:
            self.view.viewport().unsetCursor()
        self.promptChanged.emit("")

    def _show_step(self, step: PlacementStep) -> None:
        self._placed = list(step.points)
        if self._sketch is not None:
            self._sketch.set_points(self._placed, self._sketch.pointer)
        if step.message:
            self.messageChanged.emit(step.message)
        self.promptChanged.emit(step.prompt)

    def _click(self, x: float, y: float) -> None:
        assert self._placing is not None
        step = self._placing.send((x, y))
        self._show_step(step)
        if step.command is None:
            return
        self._placing, self._placed = None, []
        if self._sketch is not None:
            self._sketch.set_points([])
        if self.view is not None:
            self.view.viewport().unsetCursor()
        self.push(step.command)
        self.select(step.command.measurement.id)
        self._snap(step.command.measurement)

    def _snap(self, m: CobbMeasurement) -> None:
        if not self._snapping:
            return
        from cobbdesk.core.measure.snapping import snap_measurement

        command, results = snap_measurement(self.film.pixels, m, radius_px=self.snap_radius_px,
                                            bone_bright=not self.film.inverted)  # fmt: skip
        if command is not None:
            self.push(command)
            self._show_ghost(m)
        self.messageChanged.emit(snap_summary(m, results))

    def _show_ghost(self, clicked: CobbMeasurement) -> None:
        if self._ghost is not None:
            self._ghost.set_points([*clicked.upper.as_tuple(), *clicked.lower.as_tuple()])
            self._ghost_timer.start()

    # --- Tool protocol ---------------------------------------------------------------------
    def _tolerance(self) -> float:
        zoom = self.view.zoom if self.view is not None else 1.0
        return HIT_TOLERANCE_PX / max(zoom, 1e-6)

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> bool:
        if self._placing is not None:
            self._click(x, y)
            return True
        self._cancel_drag()
        hit = hit_test(self.measurements.values(), (x, y), self._tolerance())
        if hit is None:
            self.select(None)
            return False
        self._clear_ghost()
        self.select(hit.measurement_id)
        generator = drag(self.measurements[hit.measurement_id], hit, (x, y), self.context)
        next(generator)
        self._drag = (hit.measurement_id, generator)
        if not hit.is_handle and self.view is not None:
            self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        return True

    def move(self, x: float, y: float, buttons: Qt.MouseButton) -> bool:
        if self._placing is not None:
            if self._sketch is not None:
                self._sketch.set_pointer((x, y))
            return True
        if self._drag is not None:
            mid, generator = self._drag
            update = generator.send(PointerEvent(EventKind.MOVE, (x, y)))
            if mid in self._items:
                self._items[mid].set_measurement(update.preview)
            if update.message:
                self.messageChanged.emit(update.message)
            self.angleChanged.emit(update.angle)
            return True
        self._hover(x, y)
        return False

    def release(self, x: float, y: float) -> bool:
        if self._drag is None:
            return False
        mid, generator = self._drag
        self._drag = None
        final = generator.send(PointerEvent(EventKind.RELEASE, (x, y)))
        generator.close()
        if final.command is not None:
            self.push(final.command)
        elif mid in self._items:
            self._items[mid].set_measurement(self.measurements[mid])
        if self.view is not None:
            self._hover(x, y)
        return True

    def _cancel_drag(self) -> None:
        if self._drag is None:
            return
        mid, generator = self._drag
        self._drag = None
        generator.close()
        if mid in self._items and mid in self.measurements:
            self._items[mid].set_measurement(self.measurements[mid])

    def _hover(self, x: float, y: float) -> None:
        if self.view is None:
            return
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
        if key == Qt.Key.Key_Escape and (self._placing is not None or self._drag is not None):
            self.cancel_placement()
            self._cancel_drag()
            return True
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selected is not None:
            self.delete_selected()
            return True
        return False
