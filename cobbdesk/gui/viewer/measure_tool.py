"""MeasureController: the per-film measurement tool behind a FilmView.

It translates the view's left-button events (already in image coordinates) and keys into calls
on the film's :class:`~cobbdesk.core.measure.session.MeasurementSession`, which owns the
measurements, the undo history, facing, snapping, the guards and the save policy; the
controller only keeps one :class:`MeasurementItem` per measurement in the scene and shows the
session's questions (facing, snap confirmation) in a :class:`ChoiceBar` over the view.

Its parts are mixins: :class:`~cobbdesk.gui.viewer.questions.SessionQuestions` (the questions),
:class:`~cobbdesk.gui.viewer.measure_overlays.MeasureOverlays` (the items in the scene) and
:class:`~cobbdesk.gui.viewer.measure_pointer.MeasurePointer` (mouse and keys).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.measure.commands import Command, MeasurementSet
from cobbdesk.core.measure.interaction import FilmContext, PlacementStep
from cobbdesk.core.measure.measurement import CobbMeasurement, Template
from cobbdesk.gui import settings
from cobbdesk.gui.conflicts import ask_theirs_or_mine, measurement_conflict_text
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_items import MeasurementItem, SketchItem
from cobbdesk.gui.viewer.measure_overlays import MeasureOverlays
from cobbdesk.gui.viewer.measure_pointer import MeasurePointer
from cobbdesk.gui.viewer.prompts import ChoiceBar
from cobbdesk.gui.viewer.questions import SessionQuestions

if TYPE_CHECKING:  # numpy and OpenCV (facing estimate, snapping) load with the first film
    from cobbdesk.core.measure.changes import Outcome
    from cobbdesk.core.measure.session import MeasurementSession

#: Keep theirs / Keep mine / Cancel for a refused measurement edit; replaced in tests.
ask_conflict = ask_theirs_or_mine
GHOST_MS = 4000
"""How long the clicked points stay visible after snapping moved them."""


class MeasureController(MeasureOverlays, MeasurePointer, SessionQuestions, QObject):
    """Measures one film through its session: placement, selection, drags, deletion, undo.

    Implements the :class:`~cobbdesk.gui.viewer.film_view.Tool` protocol once :meth:`attach`\\ ed.
    """

    promptChanged = Signal(str)  # guided prompt of the running placement ("" when none)
    messageChanged = Signal(str)  # refusals and snapping summaries, for the status bar
    selectionChanged = Signal(object)  # str | None
    angleChanged = Signal(float)  # live angle while dragging
    measurementsChanged = Signal()  # after every change, undo/redo included
    historyChanged = Signal()  # undo/redo availability or text changed

    def __init__(self, film: Film, rater: str, parent: QObject | None = None) -> None:
        from cobbdesk.core.measure.changes import MemoryStore
        from cobbdesk.core.measure.facing import facing_from_orientation
        from cobbdesk.core.measure.session import MeasurementSession

        super().__init__(parent)
        self.film = film
        self.session = MeasurementSession(FilmContext.from_film(film, rater), MemoryStore())
        self.session.pixels, self.session.bone_bright = film.pixels, not film.inverted
        self.session.header_facing = facing_from_orientation(film.patient_orientation)
        self.session.snap_threshold_deg = settings.snap_threshold_deg()
        self.view: FilmView | None = None
        self.bar: ChoiceBar | None = None
        self._clean = self.session.measurements
        self._selected: str | None = None
        self._items: dict[str, MeasurementItem] = {}
        self._sketch: SketchItem | None = None
        self._ghost: SketchItem | None = None
        self._placed: list[tuple[float, float]] = []
        self._dragging: str | None = None
        self._ghost_timer = QTimer(self, singleShot=True, interval=GHOST_MS)
        self._ghost_timer.timeout.connect(self._clear_ghost)

    # --- state --------------------------------------------------------------------------
    @property
    def rater(self) -> str:
        """Who new measurements belong to."""
        return self.session.film.rater

    @rater.setter
    def rater(self, rater: str) -> None:
        self.session.film = FilmContext.from_film(self.film, rater)

    @property
    def context(self) -> FilmContext:
        return self.session.film

    @property
    def measurements(self) -> MeasurementSet:
        return self.session.measurements

    @property
    def selected_id(self) -> str | None:
        return self._selected

    @property
    def snapping_enabled(self) -> bool:
        return self.session.snapping

    @property
    def snap_radius_px(self) -> float:
        return self.session.snap_radius_px

    @property
    def placing(self) -> bool:
        return self.session.placing

    def overlay(self, measurement_id: str) -> MeasurementItem | None:
        """The item drawing a measurement in the attached view (None when not shown)."""
        return self._items.get(measurement_id)

    def set_snapping(self, enabled: bool) -> None:
        self.session.snapping = bool(enabled)

    def set_snap_threshold(self, degrees: float) -> None:
        self.session.snap_threshold_deg = float(degrees)

    def bind(self, session: MeasurementSession) -> None:
        """Measure through ``session`` (a study film's) from now on; history starts empty."""
        session.snapping = self.session.snapping
        session.snap_threshold_deg = self.session.snap_threshold_deg
        from cobbdesk.core.measure.facing import facing_from_orientation

        session.pixels, session.bone_bright = self.film.pixels, not self.film.inverted
        session.header_facing = facing_from_orientation(self.film.patient_orientation)
        self.session = session
        self._clean = session.measurements
        self._changed()

    def load(self, measurements: Iterable[CobbMeasurement]) -> None:
        """Start from saved measurements: no undo entry, and the undo history is cleared."""
        self.session.load(measurements)
        self._clean = self.session.measurements
        self._changed()

    # --- undo and saving state -----------------------------------------------------------
    @property
    def can_undo(self) -> bool:
        return self.session.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.session.history.can_redo

    @property
    def undo_text(self) -> str:
        return self.session.history.undo_text

    @property
    def redo_text(self) -> str:
        return self.session.history.redo_text

    def undo(self) -> None:
        self._handle(self.session.undo())

    def redo(self) -> None:
        self._handle(self.session.redo())

    def is_clean(self) -> bool:
        """True when nothing changed since :meth:`load` / :meth:`set_clean` (sidecar films)."""
        return self.session.measurements == self._clean

    def set_clean(self) -> None:
        self._clean = self.session.measurements

    # --- the one path for edits ----------------------------------------------------------
    def push(self, command: Command, *, mergeable: bool = False) -> Outcome:
        """Apply a core command as one undo step, under the session's policy."""
        outcome = self.session.execute(command, merge=mergeable)
        self._handle(outcome)
        return outcome

    def _handle(self, outcome: Outcome) -> None:
        """Show what an action did or why it was refused, and what the session asks."""
        if outcome.message:
            self.messageChanged.emit(outcome.message)
        if outcome.conflicts:
            outcome = self._resolve_conflict(outcome)
        if outcome.needs_facing:
            self._ask_facing()
        if outcome.needs_snap_confirmation:
            self._ask_snap(outcome.message)
        if outcome.ok and outcome.measurement_id in self.measurements:
            self.select(outcome.measurement_id)
        self._changed()

    def _resolve_conflict(self, outcome: Outcome) -> Outcome:
        """Another rater or window changed the measurement: Keep theirs / Keep mine / Cancel
        (the edit stays held by the session until answered; Cancel leaves it as stored)."""
        text = measurement_conflict_text(outcome.conflicts, outcome.written_by, self.rater)
        answer = ask_conflict(self.view, text)
        done: Outcome
        if answer == "theirs":
            done = self.session.keep_theirs()
        elif answer == "mine":  # a film follower writes it with a calibration it held back
            follower = getattr(self, "film_follower", None)
            done = self.session.keep_mine() if follower is None else follower.keep_mine(outcome)
        else:
            self.session.drop_conflict()
            return outcome
        if done.message:
            self.messageChanged.emit(done.message)
        return done

    def _changed(self) -> None:
        self._clear_ghost()  # the clicked-points marker lasts until the next edit
        self._sync_items()
        if self._selected is not None and self._selected not in self.measurements:
            self.select(None)
        self.measurementsChanged.emit()
        self.historyChanged.emit()

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
        if self._selected is not None:
            self._handle(self.session.delete(self._selected))

    # --- view ------------------------------------------------------------------------------
    def attach(self, view: FilmView) -> None:
        """Draw this film's measurements in ``view`` and receive its left-button events."""
        if self.view is not None:
            self.detach()
        self.view = view
        view.tool = self
        view.filmChanged.connect(self._rebuild)
        view.displayChanged.connect(self._on_display_changed)
        view.visibleChanged.connect(self._keep_labels_inside)
        view.installEventFilter(self)
        self.bar = ChoiceBar(view)
        self._rebuild()

    def detach(self) -> None:
        view = self.view
        if view is None:
            return
        self.cancel_placement()
        self._cancel_drag()
        view.filmChanged.disconnect(self._rebuild)
        view.displayChanged.disconnect(self._on_display_changed)
        view.visibleChanged.disconnect(self._keep_labels_inside)
        view.removeEventFilter(self)
        for item in self._overlay_items():
            if shiboken6.isValid(item) and item.scene() is not None:
                item.scene().removeItem(item)
        self._items, self._sketch, self._ghost = {}, None, None
        if view.tool is self:
            view.tool = None
        view.viewport().unsetCursor()
        if self.bar is not None and shiboken6.isValid(self.bar):
            view.removeEventFilter(self.bar)
            self.bar.deleteLater()
        self.bar = None
        self.view = None

    # --- placement -----------------------------------------------------------------------
    def start_placement(self, template: Template | str) -> None:
        """Begin placing a new measurement; each left click places the next corner."""
        self.cancel_placement()
        self._cancel_drag()
        self._clear_ghost()
        self.select(None)
        self._show_step(self.session.start_placement(template))
        if self.view is not None:
            self.view.viewport().setCursor(Qt.CursorShape.CrossCursor)
        unknown = self.session.facing is None and self.session.header_facing is None
        if unknown and not self.waiting():
            self._ask_facing()  # asked at once; the clicks can go on meanwhile

    def cancel_placement(self) -> None:
        if not self.session.placing:
            return
        self.session.cancel_placement()
        self._placed = []
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
        outcome = self.session.click((x, y))
        if outcome.step is not None and not outcome.step.done:
            self._show_step(outcome.step)
            return
        self._placed = []
        if self._sketch is not None:
            self._sketch.set_points([])
        if self.view is not None:
            self.view.viewport().unsetCursor()
        self.promptChanged.emit("")
        self._handle(outcome)
