"""Measure ▸ Calibrate…: click both ends of an object of known length, type its length in mm.

The tool borrows the view's left button for two clicks (Escape or a third party cancels),
then asks the length.  With a study open and the film in it, the calibration is stored with
its provenance and applied to the film's saved measurements
(:meth:`~cobbdesk.core.store.calibration.CalibrationRecords.calibrate_film`; a reason is asked
when one is needed); otherwise it applies to the open film only, until it is closed.  Either
way the film's spacing source becomes "user calibration" in the status bar, new measurements
and exports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QLineF, QObject, Qt
from PySide6.QtGui import QKeyEvent, QPen
from PySide6.QtWidgets import QGraphicsLineItem, QInputDialog, QWidget

from cobbdesk.core.compare.saver import calibrate_film
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.measure.measurement import CobbMeasurement, utc_now
from cobbdesk.core.store.calibration import (
    Calibration,
    apply_calibration,
    calibration_spacing,
    film_shape,
)
from cobbdesk.core.store.film_events import announce
from cobbdesk.core.store.outbox import First, attached
from cobbdesk.gui import errors
from cobbdesk.gui.viewer.status import spacing_text

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost as MainWindow
    from cobbdesk.gui.viewer.film_view import FilmView

Point = tuple[float, float]
AskLength = Callable[[QWidget, float], float | None]
PROMPTS = ("Calibrate: click one end of the ruler or ball", "Calibrate: click the other end")


def ask_length(parent: QWidget, length_px: float) -> float | None:
    """The object's length in mm, or None when cancelled."""
    value, ok = QInputDialog.getDouble(
        parent, "Calibrate", f"Length of the line you drew ({length_px:.1f} px), in mm:",
        100.0, 0.1, 5000.0, 2,
    )  # fmt: skip
    return value if ok else None


class CalibrateTool(QObject):
    """Two clicks on ``view`` (the :class:`FilmView` tool protocol), then ``done(p1, p2)``."""

    def __init__(self, view: FilmView, film: Film, done: Callable[[Point, Point], None]) -> None:
        super().__init__(view)
        self.view, self.film, self.done = view, film, done
        self.points: list[Point] = []
        self._previous = view.tool
        self._line = QGraphicsLineItem()
        pen = QPen(Qt.GlobalColor.yellow, 0)
        pen.setCosmetic(True)
        self._line.setPen(pen)
        view.tool = self
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Escape cancels the calibration."""
        if isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Escape:
            self.finish()
            return True
        return False

    def press(self, x: float, y: float, _modifiers: Qt.KeyboardModifier) -> bool:
        if not (-0.5 <= x <= self.film.columns - 0.5 and -0.5 <= y <= self.film.rows - 0.5):
            return True  # outside the film: ignored
        self.points.append((x, y))
        if len(self.points) == 1 and self.view.scene() is not None:
            self.view.scene().addItem(self._line)
            self._line.setLine(QLineF(x, y, x, y))
        if len(self.points) == 2:
            p1, p2 = self.points
            self.finish()
            self.done(p1, p2)
        return True

    def move(self, x: float, y: float, _buttons: Qt.MouseButton) -> bool:
        if len(self.points) == 1:
            (x1, y1) = self.points[0]
            self._line.setLine(QLineF(x1, y1, x, y))
        return False

    def release(self, _x: float, _y: float) -> bool:
        return True

    def finish(self) -> None:
        """Give the view its tool back and remove the rubber band."""
        self.view.removeEventFilter(self)
        if self.view.tool is self:
            self.view.tool = self._previous
        if self._line.scene() is not None:
            self._line.scene().removeItem(self._line)


def start(window: MainWindow, ask: AskLength = ask_length) -> CalibrateTool | None:
    """Measure ▸ Calibrate…: start the two clicks on the film on screen."""
    film = window.view.film
    if film is None:
        window.status.showMessage("Open a film first, then calibrate it.", 6000)
        return None

    def done(p1: Point, p2: Point) -> None:
        window.status.clearMessage()
        length = ask(window, math.dist(p1, p2))
        if length is not None:
            calibrate(window, film, (p1, p2), length)

    tool = CalibrateTool(window.view, film, done)
    window.status.showMessage(f"{PROMPTS[0]}; then {PROMPTS[1].split(': ')[1]} (Esc: cancel)")
    return tool


def calibrate(
    window: MainWindow, film: Film, points: tuple[Point, Point], length_mm: float
) -> None:
    """Store (study film) or apply (other films) the calibration; report failures."""
    try:
        calibration = _in_study(window, film, points, length_mm)
        if calibration is None:
            spacing = calibration_spacing(*points, length_mm, film_shape(film))
            calibration = Calibration(
                0, 0, "ruler", *points, length_mm, spacing, window.rater, utc_now()
            )
            note = " (not saved: no study is open for this film)"
        else:
            note = " (saved to the study)"
        apply_calibration(film, calibration)
    except CobbdeskError as exc:
        errors.report(window, exc, "Calibrating the film")
        return
    entry = window.current
    if entry is not None and entry.controller is not None and entry.film is film:
        entry.controller.rater = entry.controller.rater  # new measurements use the spacing
    if window.view.film is film:
        window.view.refresh_shape()  # a new shape (e.g. a photo's) is drawn with it at once
    window.status.spacing.setText(spacing_text(film))
    window.status.showMessage(f"Calibrated: {calibration.description}{note}", 8000)


def _in_study(
    window: MainWindow, film: Film, points: tuple[Point, Point], length_mm: float
) -> Calibration | None:
    session = getattr(window, "_session", None)
    study = getattr(session, "study", None)
    link = session.links.get(film.path) if session is not None and study is not None else None
    if link is None or study is None:
        return None
    film_id, shape = link.record.id, film_shape(film)
    origin = getattr(link.controller.session, "store", None) if link.controller else None

    def write(reason: str = "") -> Callable[[], object]:
        def store() -> tuple[list[CobbMeasurement], Calibration | None]:
            return calibrate_film(study, film_id, points, length_mm, pixel_shape=shape,
                                  reason=reason, origin=origin)  # fmt: skip

        announce(study, film_id, origin)  # the other windows showing the film are told
        return store

    try:
        found = _queued(study, write(), film_id)
    except ValidationError as exc:
        if "needs a reason" not in exc.problem:
            raise
        shown = link.controller.measurements.values() if link.controller is not None else ()
        spacing = calibration_spacing(*points, length_mm, shape)
        changes = respaced_text(shown, spacing, window.rater) or "."
        reason = _ask_reason(window, session, exc.problem + changes)
        if not reason:
            raise ValidationError(None, "not calibrated: a reason is needed") from None
        found = _queued(study, write(reason), film_id)
    if found is None:  # kept for the server: applied here, stored when it answers
        spacing = calibration_spacing(*points, length_mm, shape)
        return Calibration(0, film_id, "ruler", *points, length_mm, spacing, window.rater,
                           utc_now())  # fmt: skip
    measurements, calibration = found
    if link.controller is not None:
        link.controller.load(measurements)
    return calibration


def _queued(study: Any, store: Callable[[], object], film_id: int) -> Any:
    """``store()`` on the study's write queue (off the UI thread; the status bar shows
    "Saving…"), or directly without one; None when it was kept for the server."""
    outbox = attached(study)
    if outbox is None:
        return store()
    first, found = outbox.call(store, f"calibrating film #{film_id}")
    return None if first is First.KEPT else found


def respaced_text(shown: Iterable[CobbMeasurement], spacing: tuple[float, float],
                  rater: str) -> str:  # fmt: skip
    """What a calibration to ``spacing`` changes among the measurements on screen (whose each
    one is — the film may hold other raters' — its angle and save time), for the reason
    prompt; "" when none changes."""
    from cobbdesk.core.measure.changes import measurement_label

    changed = [m for m in shown if m.spacing != spacing]
    if not changed:
        return ""
    new = f"{spacing[0]:.4g} × {spacing[1]:.4g} mm"
    lines = [f"\n• {measurement_label(m, rater)}: spacing {_spacing(m.spacing)} → {new}"
             for m in changed]  # fmt: skip
    others = sorted({m.rater or "an unnamed rater" for m in changed if m.rater != rater})
    note = f"\nNot yours: this changes the measurements of {', '.join(others)}." if others else ""
    return f" — the spacing of these saved measurements changes:{''.join(lines)}{note}"


def _spacing(spacing: tuple[float, float] | None) -> str:
    return "none (px)" if spacing is None else f"{spacing[0]:.4g} × {spacing[1]:.4g} mm"


def _ask_reason(window: MainWindow, session: object, problem: str) -> str:
    from cobbdesk.gui.viewer import prompts

    prompt = getattr(session, "reason_prompt", None) or prompts.ask_reason
    return str(prompt(window, f"Calibrating film: {problem}") or "").strip()
