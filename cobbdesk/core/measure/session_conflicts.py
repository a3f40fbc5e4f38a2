"""Another rater's change: the part of :class:`~cobbdesk.core.measure.session.MeasurementSession`
that holds a refused edit until the rater keeps theirs, keeps mine or cancels.

A write refused by the store's optimistic concurrency (a
:class:`~cobbdesk.core.store.conflicts.ConflictError` carrying ``conflicts``) is held in
:attr:`pending_conflict` with a retry; nothing changes on screen until the rater decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from cobbdesk.core.measure.changes import MeasurementStore, Outcome, PendingConflict
from cobbdesk.core.measure.measurement import CobbMeasurement

if TYPE_CHECKING:
    from cobbdesk.core.measure.commands import History, MeasurementSet


class ConflictSteps:
    """Mixin of :class:`~cobbdesk.core.measure.session.MeasurementSession` (see module doc)."""

    store: MeasurementStore
    history: History
    pending_conflict: PendingConflict | None

    if TYPE_CHECKING:

        @property
        def measurements(self) -> MeasurementSet:  # provided by MeasurementSession
            """The session's measurements now."""
            ...

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
