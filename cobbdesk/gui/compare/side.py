"""One side of the compare view: a visit's film with its own measurement tool, or what is
missing (with an "Import…" button), or the film's error.

Only the current rater's measurements are loaded (readers stay independent); the side measures
through the film's :class:`~cobbdesk.core.measure.session.MeasurementSession` with the study as
its store (:func:`~cobbdesk.core.compare.saver.film_session`): the viewer's save policy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import shiboken6
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.compare.model import Slot, counted_measurement
from cobbdesk.core.compare.saver import SavedFilm, film_session
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.measure.changes import Change
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.gui import errors
from cobbdesk.gui.film_follow import follow_film
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_tool import MeasureController

ACTIVE = "#ffc02e"
LANDMARK = QColor("#7dff7a")
SIDE_STYLE = """
#sideTitle { color: #e8e8e8; font-weight: bold; }
QLabel { color: #d0d0d0; }
#placeholder { font-size: 13pt; }
QPushButton { color: #101418; background: #ffc02e; border: none; border-radius: 4px;
              padding: 6px 18px; font-weight: bold; }
QPushButton:hover { background: #ffd466; }
"""
AskReason = Callable[[FilmRecord, Sequence[Change]], str | None]


class LandmarkItem(QGraphicsItem):
    """A constant-size cross marking the alignment landmark."""

    def __init__(self, x: float, y: float) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
        self.setPos(x, y)
        self.setZValue(20)

    def boundingRect(self) -> QRectF:
        return QRectF(-12, -12, 24, 24)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:  # fmt: skip
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for color, width in ((QColor(0, 0, 0, 200), 4.0), (LANDMARK, 2.0)):
            painter.setPen(QPen(color, width))
            painter.drawLine(QPointF(-10, 0), QPointF(10, 0))
            painter.drawLine(QPointF(0, -10), QPointF(0, 10))
            painter.drawEllipse(QPointF(0, 0), 5.0, 5.0)


class PointPicker:
    """A FilmView tool that reports one left click (image coordinates)."""

    def __init__(self, picked: Callable[[float, float], None]) -> None:
        self._picked = picked

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> bool:
        self._picked(x, y)
        return True

    def move(self, x: float, y: float, buttons: Qt.MouseButton) -> bool:
        return False

    def release(self, x: float, y: float) -> bool:
        return True


class CompareSide(QFrame):
    """A visit's film, measured with its own :class:`MeasureController`."""

    activated = Signal()  # the user pressed a mouse button on this side's film
    importRequested = Signal()
    retryRequested = Signal()  # read the film's saved measurements again
    anglesChanged = Signal()  # saved measurements changed (or a drag moved the counted one)
    messageChanged = Signal(str)

    def __init__(self, study: Study, rater: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study, self.rater = study, rater
        self.slot: Slot | None = None
        self.film: Film | None = None
        self.error = ""
        self.controller: MeasureController | None = None
        self.ask_reason: AskReason = lambda record, changes: None
        self.live_angle: float | None = None
        self.landmark: tuple[float, float] | None = None
        self._landmark_item: LandmarkItem | None = None
        self.setObjectName("compareSide")
        self.title = QLabel()
        self.title.setObjectName("sideTitle")
        self.view = FilmView()
        self.view.viewport().installEventFilter(self)
        self.view.filmChanged.connect(self._draw_landmark)
        self.placeholder = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.placeholder.setObjectName("placeholder")
        self.import_button = QPushButton("Import…")
        self.import_button.setToolTip("Import this patient's missing or replacement film")
        self.import_button.clicked.connect(self.importRequested)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setToolTip("Read this film's saved measurements again")
        self.retry_button.clicked.connect(self.retryRequested)
        self.retry_button.hide()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self._placeholder_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(3, 3, 3, 3)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)
        self.set_active(False)

    def _placeholder_page(self) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        column.addStretch(1)
        column.addWidget(self.placeholder)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.import_button)
        row.addWidget(self.retry_button)
        row.addStretch(1)
        column.addLayout(row)
        column.addStretch(1)
        return page

    # --- what the side shows --------------------------------------------------------------
    def set_active(self, active: bool) -> None:
        color = ACTIVE if active else "#30363f"
        self.setStyleSheet(f"#compareSide {{ border: 2px solid {color}; background: #101418; }}"
                           + SIDE_STYLE)  # fmt: skip

    def show_slot(self, slot: Slot, missing: str) -> None:
        """Start showing ``slot``: its film follows via :meth:`set_film` / :meth:`set_error`."""
        self.clear()
        self.slot = slot
        if missing:
            self._show_message(
                f"{missing}.\nImport the film to compare the two visits.", can_import=True
            )
        else:
            self._show_message("Loading…", can_import=False)

    def show_loading(self) -> None:
        """Say "Loading…" until the film and its saved measurements are there (no edits)."""
        slot = self.slot
        self.clear()
        self.slot = slot
        self._show_message("Loading…", can_import=False)

    def clear(self) -> None:
        self._drop_controller()
        self.slot, self.film, self.error, self.live_angle = None, None, "", None
        self.landmark, self._landmark_item = None, None
        self.view.set_film(None)

    def _show_message(self, text: str, *, can_import: bool, can_retry: bool = False) -> None:
        self.placeholder.setText(text)
        self.import_button.setVisible(can_import)
        self.retry_button.setVisible(can_retry)
        self.stack.setCurrentIndex(1)

    def set_error(self, message: str) -> None:
        self.error = message
        self._show_message(f"This film cannot be shown:\n{message}", can_import=True)
        self.anglesChanged.emit()

    def set_read_error(self, message: str) -> None:
        """The film's saved measurements could not be read: say why, offer Retry."""
        self.error = message
        self._show_message(f"The measurements of this film could not be read:\n{message}",
                           can_import=False, can_retry=True)  # fmt: skip
        self.anglesChanged.emit()

    def set_film(self, film: Film, saved: SavedFilm) -> None:
        """Show ``film`` with the rater's ``saved`` measurements of it (read off the UI
        thread: nothing is read here)."""
        assert self.slot is not None and self.slot.film is not None
        self.stack.setCurrentIndex(0)
        self.film = film
        self.view.set_film(film)
        rect = self.view.scene().sceneRect()  # room to pan a smaller film alongside a larger
        w, h = rect.width(), rect.height()
        self.view.scene().setSceneRect(rect.adjusted(-2 * w, -2 * h, 2 * w, 2 * h))
        record = self.slot.film
        controller = self.controller = MeasureController(film, self.rater, self)
        try:
            controller.bind(film_session(
                self.study, record, film, self.rater, only_rater=True,
                ask_reason=lambda changes: self.ask_reason(record, changes), saved_film=saved,
            ))  # fmt: skip
        except CobbdeskError as exc:
            errors.report(self, exc, "Reading saved measurements")
        else:
            follow_film(controller, self.study, record.id,  # the viewer's saves of this film
                        window="Compare view")  # fmt: skip
        controller.measurementsChanged.connect(self._measurements_changed)
        controller.angleChanged.connect(self._dragged)
        controller.messageChanged.connect(self.messageChanged)
        controller.promptChanged.connect(self.messageChanged)
        controller.attach(self.view)
        self.anglesChanged.emit()

    def _drop_controller(self) -> None:
        if self.controller is not None:
            self.controller.detach()
            self.controller.deleteLater()
        self.controller = None

    # --- angles and saving ------------------------------------------------------------------
    def counted(self) -> CobbMeasurement | None:
        """The measurement this side contributes to the difference (see core.compare)."""
        if self.controller is None:
            return None
        return counted_measurement(self.controller.measurements.values(), self.rater)

    def angle(self) -> float | None:
        if self.live_angle is not None:
            return self.live_angle
        counted = self.counted()
        return counted.angle if counted is not None else None

    def _dragged(self, angle: float) -> None:
        counted = self.counted()
        controller = self.controller
        if controller is not None and counted is not None and controller.selected_id == counted.id:
            self.live_angle = angle
            self.anglesChanged.emit()

    def _measurements_changed(self) -> None:
        """Every accepted edit is already in the study (the session stored it first)."""
        self.live_angle = None
        self.anglesChanged.emit()

    # --- blinding, alignment, activation ----------------------------------------------------
    def set_overlays_visible(self, visible: bool) -> None:
        """Blinded reading hides the other visit's measurements (the tool is detached)."""
        if self.controller is None:
            return
        if visible and self.controller.view is None:
            self.controller.attach(self.view)
        elif not visible and self.controller.view is not None:
            self.controller.detach()

    def pick_landmark(self, picked: Callable[[], None] | None) -> None:
        """Next left click sets the alignment landmark (None: back to measuring)."""
        if picked is None:
            self.view.tool = self.controller if self.controller is not None else None
            self.view.viewport().unsetCursor()
            return

        def done(x: float, y: float) -> None:
            self.set_landmark((x, y))
            picked()

        self.view.tool = PointPicker(done)
        self.view.viewport().setCursor(Qt.CursorShape.CrossCursor)

    def set_landmark(self, point: tuple[float, float] | None) -> None:
        self.landmark = point
        self._draw_landmark()

    def _draw_landmark(self) -> None:
        item, self._landmark_item = self._landmark_item, None
        if item is not None and shiboken6.isValid(item) and item.scene() is self.view.scene():
            self.view.scene().removeItem(item)
        if self.landmark is not None and self.view.item is not None:
            self._landmark_item = LandmarkItem(*self.landmark)
            self.view.scene().addItem(self._landmark_item)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress:
            self.activated.emit()
        return False
