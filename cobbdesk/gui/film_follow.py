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
theirs).  No SQL runs here: the event carries the measurement as written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject

from cobbdesk.core.measure.facing import Facing, FacingSource
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.store import film_events
from cobbdesk.core.store.film_events import FilmSaved
from cobbdesk.core.store.outbox import attached
from cobbdesk.gui.dispatch import UiDispatcher
from cobbdesk.gui.viewer.measure_tool import MeasureController

logger = logging.getLogger("cobbdesk.gui")


class FilmFollower(QObject):
    """Keeps ``controller``'s session in step with the other windows' saves of ``film_id``
    of ``study`` (see the module docstring) until :meth:`stop` or the controller's end."""

    def __init__(self, controller: MeasureController, study: object, film_id: int) -> None:
        super().__init__(controller)
        self.controller, self.film_id = controller, film_id
        self.dispatcher = UiDispatcher(self)
        self.caught_up = 0
        """How many saves of other windows this one has shown (for tests and logs)."""
        self._ui = threading.get_ident()
        self._study = study
        self._missed: dict[str, tuple[FilmSaved, CobbMeasurement | None, object]] = {}
        controller.measurementsChanged.connect(self._missed_ones)
        stop = film_events.watch(study, film_id, self._heard, self._announced)
        self._stop: Callable[[], None] | None = stop
        controller.destroyed.connect(lambda *_: stop())

    def stop(self) -> None:
        """Follow no more (idempotent)."""
        if self._stop is not None:
            self._stop()
            self._stop = None

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
        if event.measurement_id is not None:
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

    def _missed_ones(self) -> None:
        """After this window's own action: show a save that arrived while it held an edit,
        unless the window has since shown or written another version of that measurement
        (Keep theirs / Keep mine) or still has writes queued."""
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


def follow_film(controller: MeasureController, study: object, film_id: int) -> FilmFollower:
    """Make ``controller`` (bound to a study film session) follow the other windows' saves of
    ``film_id``; the follower lives as long as the controller (UI thread only).  A controller
    follows one film: following another (or again) replaces its follower."""
    existing = getattr(controller, "film_follower", None)
    if isinstance(existing, FilmFollower):
        existing.stop()
    follower = FilmFollower(controller, study, film_id)
    controller.film_follower = follower  # type: ignore[attr-defined]
    return follower


__all__ = ["FilmFollower", "follow_film"]
