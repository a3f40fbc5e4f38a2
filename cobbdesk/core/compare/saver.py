"""A study film as the :class:`~cobbdesk.core.measure.changes.MeasurementStore` of a session.

The viewer and the compare view both measure through a
:class:`~cobbdesk.core.measure.session.MeasurementSession` whose store is a
:class:`StudyFilmStore`: one save policy (reasons, restores, facing) for one audit trail.
:func:`film_session` builds that session from the film's record and decoded film.

When the study has a write queue (:func:`cobbdesk.core.store.outbox.attached`, the GUI's), every
write goes through it: the caller waits for the first attempt only (a conflict or a refused
value comes back as from the store); a write that finds the server away is kept, retried in
order and made safe to repeat (:func:`~cobbdesk.core.store.outbox.measurement_write`), and the
session goes on as if it were stored.  A later failure of such a write reaches the queue's
``on_failure`` with a :class:`FilmWrite` as the ticket's subject.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import ServerUnavailableError
from cobbdesk.core.measure.changes import MeasurementStore
from cobbdesk.core.measure.facing import Facing, FacingSource, facing_from_orientation
from cobbdesk.core.measure.interaction import FilmContext
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.measure.session import AskReason, MeasurementSession
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.core.store.calibration import Calibration, apply_calibration
from cobbdesk.core.store.outbox import First, attached, measurement_write

T = TypeVar("T")


@dataclass(frozen=True)
class FilmWrite:
    """The subject of a queued film write: the film, the measurement (None: the facing) and
    the store call itself (``call``; repeated with a fresh baseline for "keep mine")."""

    film_id: int
    measurement_id: str | None
    call: Callable[[], object]


@dataclass(frozen=True)
class StudyFilmStore:
    """Writes one film's measurements and facing to the study (each call one transaction;
    through the study's write queue when it has one, see the module docstring)."""

    study: Study
    film_id: int

    def _send(self, what: str, measurement_id: str | None, call: Callable[[], T]) -> T | None:
        outbox = attached(self.study)
        if outbox is None:
            return call()
        write = measurement_write(self.study, measurement_id, call) if measurement_id else call
        subject = FilmWrite(self.film_id, measurement_id, call)
        return outbox.call(write, f"{what} on film #{self.film_id}", subject=subject)[1]

    def save(self, m: CobbMeasurement, reason: str) -> None:
        """Insert ``m`` on this film or update it (:meth:`Study.save_measurement`).

        Changing a saved measurement needs a non-blank ``reason`` (:class:`ValidationError`);
        :class:`~cobbdesk.core.store.conflicts.ConflictError` when another rater changed it since.
        """
        self._send("saving a measurement", m.id,
                   lambda: self.study.save_measurement(self.film_id, m, reason=reason))  # fmt: skip

    def delete(self, measurement_id: str, reason: str) -> None:
        """Soft-delete the measurement (:meth:`Study.delete_measurement`; needs a reason)."""
        self._send("deleting a measurement", measurement_id,
                   lambda: self.study.delete_measurement(measurement_id, reason))  # fmt: skip

    def restore(self, m: CobbMeasurement, reason: str) -> None:
        """Undo the soft deletion of ``m`` on this film (:meth:`Study.restore_measurement`)."""
        self._send("restoring a measurement", m.id,
                   lambda: self.study.restore_measurement(self.film_id, m, reason))  # fmt: skip

    def set_facing(self, facing: Facing, source: FacingSource, reason: str) -> None:
        """Store the film's facing and its source, audited (:meth:`Study.set_facing`)."""
        self._send("setting the facing", None,
                   lambda: self.study.set_facing(self.film_id, facing, source, reason))  # fmt: skip

    def current(self, measurement_id: str) -> CobbMeasurement | None:
        """The measurement as stored now (None: deleted), made the baseline of the next
        write (another rater's change is then kept or overwritten knowingly).  Read after
        every queued write; ServerUnavailableError when the server is away."""
        outbox = attached(self.study)
        if outbox is None:
            return self.study.reread_measurement(measurement_id)
        first, found = outbox.call(lambda: self.study.reread_measurement(measurement_id),
                                   f"re-reading a measurement of film #{self.film_id}")  # fmt: skip
        if first is First.KEPT:
            raise ServerUnavailableError(self.study.path, "the server did not answer; the "
                                         "measurement could not be re-read. Try again")  # fmt: skip
        return found


@dataclass(frozen=True)
class SavedFilm:
    """What a study holds for one film besides its record: the saved measurements and the
    calibration in force (None: the header's spacing)."""

    measurements: list[CobbMeasurement]
    calibration: Calibration | None


def read_saved(study: Study, record: FilmRecord) -> SavedFilm:
    """The film's :class:`SavedFilm` (two reads; any thread: the GUI reads it off the UI
    thread while the film decodes).  Raises the store's errors."""
    return SavedFilm(study.measurements(record.id), study.film_calibration(record.id))


def film_session(
    study: Study,
    record: FilmRecord,
    film: Film,
    rater: str,
    *,
    only_rater: bool = False,
    ask_reason: AskReason | None = None,
    saved_film: SavedFilm | None = None,
) -> MeasurementSession:
    """A session on a study film holding its saved measurements (only ``rater``'s on request:
    the compare view keeps readers independent), from ``saved_film`` when it was read already
    (:func:`read_saved`).  Raises the store's errors."""
    known = saved_film if saved_film is not None else read_saved(study, record)
    saved = known.measurements
    if only_rater:
        saved = [m for m in saved if m.rater == rater]
    calibration = known.calibration
    if calibration is not None:  # the user's calibration replaces the header's spacing
        apply_calibration(film, calibration)
    store: MeasurementStore = StudyFilmStore(study, record.id)
    session = MeasurementSession(
        FilmContext.from_film(film, rater), store, saved,
        facing=record.facing, facing_source=record.facing_source, ask_reason=ask_reason,
    )  # fmt: skip
    session.pixels, session.bone_bright = film.pixels, not film.inverted
    session.header_facing = facing_from_orientation(film.patient_orientation)
    return session


def film_session_of(study: Study, record: FilmRecord, reason: str = "", *,
                    saved: list[CobbMeasurement] | None = None) -> MeasurementSession:  # fmt: skip
    """A session on a study film that is not decoded (to change its facing from the browser:
    only the store, the facing and the measurements are needed).  Every change it asks a
    reason for gets ``reason``.  ``saved``: the film's measurements when already read (else
    read here)."""
    film = FilmContext(rows=record.pixel_rows or 1, columns=record.pixel_columns or 1,
                       sop_instance_uid=record.sop_instance_uid)  # fmt: skip
    return MeasurementSession(
        film, StudyFilmStore(study, record.id),
        saved if saved is not None else study.measurements(record.id),
        facing=record.facing, facing_source=record.facing_source,
        ask_reason=lambda changes: reason or None,
    )  # fmt: skip
