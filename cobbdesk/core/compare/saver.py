"""Saving a film's measurements as they are edited in the compare view (no Qt).

:class:`FilmSaver` keeps what is saved for one film and, after every edit, writes the
difference at once (:func:`~cobbdesk.core.compare.measurement_changes`):

* a new measurement is inserted (no reason needed);
* a changed one is updated with the reason :data:`ADJUST_REASON` ("adjusted in compare view");
* a deleted one needs a reason from ``ask_reason`` (a dialog in the GUI); when it gives None
  the deletion is refused and reported back so the view can undo it.  Undoing a measurement
  made in the same session deletes it with :data:`UNDO_REASON` without asking;
* a measurement that comes back (redo of a deletion, undo of a delete) is restored: the store's
  soft deletion is cleared, with an audit row (``Study.save_measurement`` alone would leave it
  deleted, since the row still exists).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from cobbdesk.core.compare.model import measurement_changes
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.store import Study

ADJUST_REASON = "adjusted in compare view"
UNDO_REASON = "undone in compare view (made in the same session)"
RESTORE_REASON = "restored in compare view (deletion undone)"

AskReason = Callable[[CobbMeasurement], str | None]


class FilmSaver:
    """Writes one film's edits to the study as they happen."""

    def __init__(self, study: Study, film_id: int, saved: Iterable[CobbMeasurement]) -> None:
        self.study, self.film_id = study, film_id
        self.saved: dict[str, CobbMeasurement] = {m.id: m for m in saved}
        self.created: set[str] = set()
        self.deleted: set[str] = set()

    def sync(self, current: Mapping[str, CobbMeasurement], ask_reason: AskReason) -> list[str]:
        """Save the difference to ``current``; returns ids whose deletion was refused."""
        changes = measurement_changes(self.saved, current)
        for m in changes.added:
            if m.id in self.deleted:
                self.study.restore_measurement(self.film_id, m, RESTORE_REASON)
                self.deleted.discard(m.id)
            else:
                self.study.save_measurement(self.film_id, m)
                self.created.add(m.id)
            self.saved[m.id] = m
        for m in changes.adjusted:
            self.study.save_measurement(self.film_id, m, reason=ADJUST_REASON)
            self.saved[m.id] = m
        refused = []
        for m in changes.removed:
            reason = UNDO_REASON if m.id in self.created else ask_reason(m)
            if not (reason or "").strip():
                refused.append(m.id)
                continue
            self.study.delete_measurement(m.id, str(reason))
            self.deleted.add(m.id)
            del self.saved[m.id]
        return refused
