"""Another rater's change: the part of :class:`~cobbdesk.core.measure.session.MeasurementSession`
that holds a refused edit until the rater keeps theirs, keeps mine or cancels.

A write refused by the store's optimistic concurrency (a
:class:`~cobbdesk.core.store.conflicts.ConflictError` carrying ``conflicts``) is held in
:attr:`pending_conflict` with a retry; nothing changes on screen until the rater decides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from cobbdesk.core.measure.changes import MeasurementStore, Outcome, PendingConflict
from cobbdesk.core.measure.measurement import CobbMeasurement

if TYPE_CHECKING:
    from cobbdesk.core.measure.commands import History, MeasurementSet, ReplaceMeasurement


class ConflictSteps:
    """Mixin of :class:`~cobbdesk.core.measure.session.MeasurementSession` (see module doc)."""

    store: MeasurementStore
    history: History
    pending_conflict: PendingConflict | None
    pending_snap: ReplaceMeasurement | None

    if TYPE_CHECKING:

        @property
        def measurements(self) -> MeasurementSet:  # provided by MeasurementSession
            """The session's measurements now."""
            ...

    def _show_saved(self, measurements: Iterable[CobbMeasurement]) -> None:
        """What the session shows is the store's conflict baseline (a study film's store
        checks each write against the version *this* window showed, not another's)."""
        shown = getattr(self.store, "shown", None)
        if shown is not None:
            shown(list(measurements))

    def busy_with(self, measurement_id: str) -> bool:
        """True while the session holds an unsaved edit that may touch ``measurement_id``:
        a refused edit waiting for Keep theirs/mine, a snap waiting for confirmation, or a
        drag in progress (which measurement it moves is not known until released)."""
        pending = self.pending_conflict
        snap = self.pending_snap
        return bool(
            (pending is not None and measurement_id in pending.measurement_ids)
            or (snap is not None and snap.measurement.id == measurement_id)
            or getattr(self, "_drag", None) is not None
        )

    def saved_elsewhere(self, measurement_id: str, stored: CobbMeasurement | None) -> bool:
        """Another window of this app saved ``measurement_id`` (``stored``: as stored now,
        None: deleted): show it and make it the baseline, unless the session holds an unsaved
        edit of it (:meth:`busy_with`; that edit then meets the conflict question).  The undo
        history restarts (an older step would undo the other window's edit unseen).
        Returns True when the session changed."""
        if self.busy_with(measurement_id):
            return False
        state = self.measurements
        if stored is None:
            if measurement_id not in state:
                return False
            state = state.removed(measurement_id)
        elif measurement_id in state:
            if state[measurement_id] == stored:
                self._show_one(measurement_id, stored)
                return False
            state = state.replaced(stored)
        elif self._shows(stored):
            state = state.inserted(stored)
        else:
            return False
        self.history.clear(state)
        self._show_one(measurement_id, stored)
        return True

    def _shows(self, m: CobbMeasurement) -> bool:
        rater = getattr(getattr(self, "film", None), "rater", "")
        return not getattr(self, "only_rater", False) or m.rater == rater

    def _show_one(self, measurement_id: str, m: CobbMeasurement | None) -> None:
        shown_one = getattr(self.store, "shown_one", None)
        if shown_one is not None:
            shown_one(measurement_id, m)

    def _hold(self, outcome: Outcome, retry: Callable[[str], Outcome]) -> None:
        ids = tuple(dict.fromkeys(c.measurement_id for c in outcome.changes))
        self.pending_conflict = PendingConflict(ids, outcome.conflicts, outcome.reason, retry)

    def keep_theirs(self) -> Outcome:
        """Drop the held edit; show what the other rater stored (undo history restarts)."""
        pending, self.pending_conflict = self.pending_conflict, None
        if pending is None:
            return Outcome(False, "no conflict is waiting")
        state = self.measurements
        for mid in pending.measurement_ids:
            theirs = self._current(mid)
            if theirs is None:
                state = state.removed(mid) if mid in state else state
            else:
                state = state.replaced(theirs) if mid in state else state.inserted(theirs)
        self.history.clear(state)
        return Outcome(True, "Kept the other rater's version", pending.measurement_ids[0])

    def keep_mine(self) -> Outcome:
        """Write the held edit over the other rater's change (same reason as asked)."""
        pending, self.pending_conflict = self.pending_conflict, None
        if pending is None:
            return Outcome(False, "no conflict is waiting")
        for mid in pending.measurement_ids:
            self._current(mid)  # their version becomes the baseline of this write
        return pending.retry(pending.reason)

    def drop_conflict(self) -> None:
        """Cancel: nothing is written; the measurements stay as they were before the edit."""
        self.pending_conflict = None

    def _current(self, measurement_id: str) -> CobbMeasurement | None:
        current = getattr(self.store, "current", None)
        if current is None:
            raise TypeError("this store cannot re-read a measurement")
        found: CobbMeasurement | None = current(measurement_id)
        return found
