"""The reading window's and the plans dialog's database work, off the UI thread (#15).

Reads run on the window's :class:`~cobbdesk.gui.compare.reads.StudyReader` (worker thread):
the worklist (:func:`read_items`) and, for the film at a position, its record, whether its
file is there, its calibration and the rater's own reading of it in this round
(:func:`read_film_state`, the blinded view's only values: nothing of another rater, round or
visit is read).  Writes — readings (:class:`QueuedReadingStore`), skips, new plans, opened
rounds — go through the open study's write queue
(:func:`~cobbdesk.gui.compare.reads.queued`): ordered with the other edits, kept and retried
when the server is away.  Every such write is safe to repeat after a lost acknowledgement
(the store finds the row already as wanted) except the restore of a deleted reading (undo of
"Measure again"), which then reports the reading as already there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cobbdesk.core.measure.facing import Facing, FacingSource
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.reading.plan import ADJUDICATION_ROUND, Plan
from cobbdesk.core.reading.readings import ReadingStore, own_readings
from cobbdesk.core.reading.rounds import WorklistItem
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.core.store.calibration import Calibration
from cobbdesk.gui.compare.reads import queued

T = TypeVar("T")


@dataclass(frozen=True)
class FilmState:
    """What the reading window needs of the film at a position before it decodes."""

    record: FilmRecord
    exists: bool
    """The film's file is where the study expects it."""
    calibration: Calibration | None
    own: list[CobbMeasurement]
    """The rater's own live reading of this film in this round (at most one)."""


def read_items(study: Study, plan: Plan, rater: str, round_no: int) -> list[WorklistItem]:
    """Worker thread: the rater × round worklist (or the adjudication list), as stored now."""
    from cobbdesk.core.reading.adjudication import adjudication_list
    from cobbdesk.core.reading.rounds import worklist

    if round_no == ADJUDICATION_ROUND:
        return adjudication_list(study, plan)
    return worklist(study, plan, rater, round_no)


def read_film_state(study: Study, plan: Plan, rater: str, round_no: int,
                    film_id: int) -> FilmState:  # fmt: skip
    """Worker thread: the :class:`FilmState` of ``film_id``; raises the store's errors."""
    from cobbdesk.core.importing.films import study_film_path

    record = study.film(film_id)  # an older study's relative path: from the study's folder
    path = study_film_path(study, record.path)
    record = record._replace(path=str(path))
    return FilmState(record, path.is_file(), study.film_calibration(film_id),
                     own_readings(study, plan, rater, round_no, film_id))  # fmt: skip


@dataclass(frozen=True)
class QueuedReadingStore:
    """A :class:`~cobbdesk.core.reading.readings.ReadingStore` whose every write goes through
    the study's write queue (``where``: the worklist position, for messages — never an
    identifier).  A write kept for the server is retried in order; the session goes on as if
    it were stored (as the viewer's :class:`~cobbdesk.core.compare.saver.StudyFilmStore`)."""

    store: ReadingStore
    where: str

    def _send(self, what: str, call: Callable[[], T]) -> T | None:
        return queued(self.store.study, call, f"{what} at {self.where}")[1]

    def save(self, m: CobbMeasurement, reason: str) -> None:
        """:meth:`ReadingStore.save` through the queue (its refusals are raised)."""
        self._send("saving a reading", lambda: self.store.save(m, reason))

    def delete(self, measurement_id: str, reason: str) -> None:
        """:meth:`ReadingStore.delete` through the queue."""
        self._send("removing a reading", lambda: self.store.delete(measurement_id, reason))

    def restore(self, m: CobbMeasurement, reason: str) -> None:
        """:meth:`ReadingStore.restore` through the queue (its refusals are raised)."""
        self._send("restoring a reading", lambda: self.store.restore(m, reason))

    def set_facing(self, facing: Facing, source: FacingSource, reason: str) -> None:
        """:meth:`ReadingStore.set_facing` (the film's facing) through the queue."""
        self._send("setting the facing", lambda: self.store.set_facing(facing, source, reason))


__all__ = ["FilmState", "QueuedReadingStore", "read_film_state", "read_items"]
