"""A window showing a study film catches up with saves made in another window of the app (#15).

The viewer and the compare view may show the same study film at once, each through its own
:class:`~cobbdesk.core.measure.session.MeasurementSession`.  Each checks its writes against
the version *it* showed (:class:`~cobbdesk.core.compare.saver.StudyFilmStore`), so a stale
window never overwrites another's edit unseen (it gets the Keep theirs / Keep mine question).
:func:`follow_film` makes that rare: when another window's save of the film lands (published on
the write queue's worker by :mod:`cobbdesk.core.store.film_events`), the call is handed to the
UI thread by a :class:`~cobbdesk.gui.dispatch.UiDispatcher` and the session shows the stored
version and takes it as its baseline — unless it holds an unsaved edit of that measurement
(:meth:`~cobbdesk.core.measure.session.MeasurementSession.saved_elsewhere`); such a save is
shown after that edit is resolved if the window then still shows the version it showed when
the save arrived (Cancel), never over a version it wrote or re-read since (Keep mine / Keep
theirs).  A calibration saved in another window is shown the same way: the film takes the new
spacing and the measurements their respaced versions, so no angle or length on screen stays
computed with the old spacing — or, while the window holds an unsaved edit, it says that the
calibration changed (:attr:`FilmFollower.notice`) and takes it once that edit is resolved.
Each follower names its window (``window``) for what the other windows say about its writes
(:func:`cobbdesk.core.store.film_events.name_window`).  No SQL runs here: the event carries
the measurement (or the calibration and the respaced measurements) as written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.measure.changes import Outcome
from cobbdesk.core.measure.commands import AddMeasurement, DeleteMeasurement, ReplaceMeasurement
from cobbdesk.core.measure.facing import Facing, FacingSource
from cobbdesk.core.measure.formatting import angle_text
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.store import film_events
from cobbdesk.core.store.calibration import Calibration, apply_calibration
from cobbdesk.core.store.film_events import FilmSaved
from cobbdesk.core.store.outbox import attached
from cobbdesk.gui.dispatch import UiDispatcher
from cobbdesk.gui.viewer.measure_tool import MeasureController

logger = logging.getLogger("cobbdesk.gui")


class FilmFollower(QObject):
    """Keeps ``controller``'s session in step with the other windows' saves of ``film_id``
    of ``study`` (see the module docstring) until :meth:`stop` or the controller's end."""

    def __init__(self, controller: MeasureController, study: object, film_id: int,
                 window: str = "") -> None:  # fmt: skip
        super().__init__(controller)
        self.controller, self.film_id, self.window = controller, film_id, window
        self.dispatcher = UiDispatcher(self)
        self.caught_up = 0
        """How many saves of other windows this one has shown (for tests and logs)."""
        self.notice = ""
        """What the window shows while it holds a calibration of another window back ("" none)."""
        self._ui = threading.get_ident()
        self._study = study
        self._missed: dict[str, tuple[FilmSaved, CobbMeasurement | None, object]] = {}
        self._calibration: tuple[FilmSaved, dict[str, CobbMeasurement | None]] | None = None
        self._name()
        controller.measurementsChanged.connect(self._name)
        controller.measurementsChanged.connect(self._missed_ones)
        stop = film_events.watch(study, film_id, self._heard, self._announced)
        self._stop: Callable[[], None] | None = stop
        controller.destroyed.connect(lambda *_: stop())

    def stop(self) -> None:
        """Follow no more (idempotent)."""
        if self._stop is not None:
            self._stop()
            self._stop = None

    def _name(self) -> None:
        """Name this window's store (the controller may have been bound to a new session)."""
        store = getattr(self.controller.session, "store", None)
        if self.window and store is not None:
            film_events.name_window(store, self.window)

    def _own(self, origin: object) -> bool:
        return origin is getattr(self.controller.session, "store", None)

    def _announced(self, origin: object) -> None:
        """A write of the film was submitted (on the UI thread): poll for its landing."""
        if threading.get_ident() == self._ui and not self._own(origin):
            self.dispatcher.expect()

    def _heard(self, event: FilmSaved) -> None:
        """Any thread: hand the event to the UI thread."""
        self.dispatcher.post(self._apply, event)

    def _apply(self, event: FilmSaved) -> None:
        """UI thread: show what another window saved."""
        if self._own(event.origin):
            return
        self.dispatcher.done()
        session = self.controller.session
        if not event.ok:
            return
        changed = False
        if event.calibrated:
            changed = self._recalibrate(event)
        elif event.measurement_id is not None:
            changed = self._show(event)
        elif event.facing is not None and session.facing != Facing(event.facing):
            session.facing = Facing(event.facing)
            session.facing_source = FacingSource(event.facing_source or "user")
            changed = True
        if changed:
            self.caught_up += 1
            logger.info("Film #%d: shows a save made in another window", self.film_id)
            self.controller.bind(session)  # redraw; what is shown is saved

    def _show(self, event: FilmSaved) -> bool:
        """Show another window's save of a measurement, or keep it for later when this
        session holds an unsaved edit of it (:meth:`_missed_ones`)."""
        session, mid = self.controller.session, str(event.measurement_id)
        if session.busy_with(mid):
            store = getattr(session, "store", None)
            seen = getattr(store, "seen", {}).get(mid)
            self._missed[mid] = (event, session.measurements.get(mid), seen)
            return False
        self._missed.pop(mid, None)
        return session.saved_elsewhere(mid, event.measurement)

    def _holding(self) -> bool:
        """True while the session holds an unsaved edit (a refused edit waiting for its
        answer, a snap waiting for confirmation, a drag)."""
        session = self.controller.session
        return (session.pending_conflict is not None or session.pending_snap is not None
                or getattr(session, "_drag", None) is not None)  # fmt: skip

    def _recalibrate(self, event: FilmSaved) -> bool:
        """Another window calibrated the film: take its spacing and respaced measurements,
        or — holding an unsaved edit — say so and take it once the edit is resolved."""
        shown = {m.id: self.controller.session.measurements.get(m.id) for m in event.respaced}
        if self._holding():
            self._calibration = (event, shown)
            self.notice = (f"The film was calibrated in {_writer(event.origin)} "
                           f"({_description(event)}); your unsaved edit still uses the old "
                           "spacing — when saved it is asked about, and Keep mine saves your "
                           "points with the new calibration.")  # fmt: skip
            self.controller.messageChanged.emit(self.notice)
            return False
        return self._take_calibration(event, shown)

    def _take_calibration(self, event: FilmSaved, shown: dict[str, CobbMeasurement | None]) -> bool:
        """Give the film the calibration's spacing and show the respaced measurements the
        window still shows as they were when the calibration arrived."""
        self._calibration, self.notice = None, ""
        calibration = event.calibration
        if calibration is not None:
            apply_calibration(self.controller.film, calibration)
            self.controller.rater = self.controller.rater  # new measurements use the spacing
            if self.controller.view is not None:
                self.controller.view.refresh_shape()  # drawn with the calibrated pixel shape
        session = self.controller.session
        for m in event.respaced:
            if session.measurements.get(m.id) == shown.get(m.id):
                session.saved_elsewhere(m.id, m)
        self.controller.messageChanged.emit(
            f"Calibrated in {_writer(event.origin)}: {_description(event)}"
        )
        return True

    def keep_mine(self, refused: Outcome) -> Outcome:
        """Keep mine, for the question about ``refused`` (an edit the store refused because
        the measurement changed since): written with the film's calibration in force.  When
        a calibration of another window was held back by this edit (:meth:`_recalibrate`) —
        the change the edit met is that calibration's respacing — the film takes it first,
        then the edit's measurements are written with its spacing: the points are what the
        rater placed on the film, and the film's geometry is the calibration now in force
        (the old spacing would store lengths, and with another pixel shape an angle, that
        disagree with the film's calibration: ``verify`` would flag them, the export recompute
        them).  Deletions are kept as they are.  Without a held calibration: the session's
        :meth:`~cobbdesk.core.measure.session.MeasurementSession.keep_mine`."""
        session = self.controller.session
        held = self._calibration
        calibration = held[0].calibration if held is not None else None
        if held is None or calibration is None:
            return session.keep_mine()
        mine = [c.after for c in refused.changes if c.after is not None]
        theirs = session.keep_theirs()  # the stored (respaced) versions: the new baseline
        if not theirs.ok:
            return theirs
        self._take_calibration(*held)
        done = Outcome(True, "", refused.measurement_id)
        for m in mine:
            done = self._write(session, respaced(m, calibration), refused.reason)
            if not done.ok:
                return done
        deleted = [c.measurement_id for c in refused.changes if c.after is None]
        for mid in deleted:
            if mid in session.measurements:
                done = self._execute(session, DeleteMeasurement(mid), refused.reason)
        if done.ok and mine and mine[-1].id in session.measurements:
            angle = angle_text(session.measurements[mine[-1].id].angle)
            done = replace(done, message=f"Kept yours, with the film's calibration "
                           f"({calibration.description}): {angle}")  # fmt: skip
        return done

    def _write(self, session: Any, m: CobbMeasurement, reason: str) -> Outcome:
        command = (ReplaceMeasurement(m, "Keep mine") if m.id in session.measurements
                   else AddMeasurement(m))  # fmt: skip
        return self._execute(session, command, reason)

    @staticmethod
    def _execute(session: Any, command: Any, reason: str) -> Outcome:
        """``command`` through the session's policy with the reason already given to the
        refused edit (not asked twice)."""
        ask, session.ask_reason = session.ask_reason, lambda _changes: reason
        try:
            return session.execute(command)  # type: ignore[no-any-return]
        finally:
            session.ask_reason = ask

    def _missed_ones(self) -> None:
        """After this window's own action: show a save that arrived while it held an edit,
        unless the window has since shown or written another version of that measurement
        (Keep theirs / Keep mine) or still has writes queued; likewise a calibration."""
        if self._calibration is not None and not self._holding() and not self._queue_busy():
            self._take_calibration(*self._calibration)
            self.caught_up += 1
            self.controller.bind(self.controller.session)
            return
        if not self._missed or self._queue_busy():
            return
        session = self.controller.session
        seen = getattr(getattr(session, "store", None), "seen", {})
        changed = False
        for mid, (event, shown, baseline) in list(self._missed.items()):
            if session.busy_with(mid):
                continue
            del self._missed[mid]
            if session.measurements.get(mid) == shown and seen.get(mid) == baseline:
                changed = session.saved_elsewhere(mid, event.measurement) or changed
        if changed:
            self.caught_up += 1
            self.controller.bind(session)

    def _queue_busy(self) -> bool:
        outbox = attached(self._study) if self._study is not None else None
        return outbox is not None and outbox.pending() > 0


def respaced(m: CobbMeasurement, calibration: Calibration) -> CobbMeasurement:
    """``m`` with ``calibration``'s spacing ``(row_mm, col_mm)``, as the store respaces a
    film's saved measurements when it is calibrated (source "user calibration"; no pixel
    aspect: the spacing carries the pixel shape, PS3.3 C.7.6.3.1.7)."""
    return replace(m, spacing=calibration.spacing_mm, spacing_source=SpacingSource.USER,
                   pixel_aspect=None)  # fmt: skip


def _writer(origin: object) -> str:
    name = film_events.window_name(origin) if origin is not None else ""
    return f"your other window ({name})" if name else "another window"


def _description(event: FilmSaved) -> str:
    return str(getattr(event.calibration, "description", "") or "new spacing")


def follow_film(controller: MeasureController, study: object, film_id: int,
                window: str = "viewer") -> FilmFollower:  # fmt: skip
    """Make ``controller`` (bound to a study film session) follow the other windows' saves of
    ``film_id``; the follower lives as long as the controller (UI thread only).  A controller
    follows one film: following another (or again) replaces its follower.  ``window`` names
    it in what the other windows say ("viewer", "Compare view")."""
    existing = getattr(controller, "film_follower", None)
    if isinstance(existing, FilmFollower):
        existing.stop()
    follower = FilmFollower(controller, study, film_id, window)
    controller.film_follower = follower  # type: ignore[attr-defined]
    return follower


__all__ = ["FilmFollower", "follow_film", "respaced"]
