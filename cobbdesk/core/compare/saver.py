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

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import ServerUnavailableError
from cobbdesk.core.measure.changes import MeasurementStore
from cobbdesk.core.measure.facing import Facing, FacingSource, facing_from_orientation
from cobbdesk.core.measure.interaction import FilmContext
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.measure.session import AskReason, MeasurementSession
from cobbdesk.core.store import FilmRecord, Study, film_aspect
from cobbdesk.core.store.calibration import Calibration, apply_calibration
from cobbdesk.core.store.clinical import Baseline, shown_state
from cobbdesk.core.store.conflicts import ConflictError
from cobbdesk.core.store.film_events import FilmSaved, announce, publish
from cobbdesk.core.store.outbox import RETRIABLE, First, attached, measurement_write
from cobbdesk.core.store.writers import measurement_writer

T = TypeVar("T")
logger = logging.getLogger("cobbdesk.store")


@dataclass(frozen=True)
class FilmWrite:
    """The subject of a queued film write: the film, the measurement (None: the facing), the
    store call itself (``call``; repeated with a fresh baseline for "keep mine") and the
    baseline table it writes through (``seen``: its window's, see :class:`StudyFilmStore`)."""

    film_id: int
    measurement_id: str | None
    call: Callable[[], object]
    seen: Baseline | None = None


@dataclass(frozen=True, eq=False)
class StudyFilmStore:
    """Writes one film's measurements and facing to the study (each call one transaction;
    through the study's write queue when it has one, see the module docstring).

    ``seen`` is this store's own conflict baseline (measurement id → the stored columns as its
    window showed them, :meth:`shown`): each window checks its writes against what *it*
    showed, so a window showing a stale version gets the conflict question instead of
    overwriting, unseen, what another window of the same app saved (#15).  Every write that
    lands (or fails) is published to the film's other windows
    (:mod:`cobbdesk.core.store.film_events`) with this store as its ``origin``."""

    study: Study
    film_id: int
    seen: Baseline = field(default_factory=dict)

    def shown(self, measurements: Iterable[CobbMeasurement]) -> None:
        """The window now shows ``measurements`` as saved: they become its baseline (the
        entries of measurements no longer shown are dropped)."""
        fresh = {m.id: shown_state(m) for m in measurements}
        self.seen.update(fresh)  # never empty in between: the write queue's worker reads it
        for gone in [k for k in list(self.seen) if k not in fresh]:
            self.seen.pop(gone, None)

    def shown_one(self, measurement_id: str, m: CobbMeasurement | None) -> None:
        """The window now shows ``m`` (None: no longer shows it) as saved."""
        if m is None:
            self.seen.pop(measurement_id, None)
        else:
            self.seen[measurement_id] = shown_state(m)

    def _send(self, what: str, measurement_id: str | None, call: Callable[[], T],
              event: FilmSaved) -> T | None:  # fmt: skip
        announce(self.study, self.film_id, self)
        landed = _publishing(self.study, call, event)
        outbox = attached(self.study)
        if outbox is None:
            return landed()
        write = (measurement_write(self.study, measurement_id, landed, seen=self.seen)
                 if measurement_id else landed)  # fmt: skip
        subject = FilmWrite(self.film_id, measurement_id, call, self.seen)
        return outbox.call(write, f"{what} on film #{self.film_id}", subject=subject)[1]

    def _event(self, mid: str | None, m: CobbMeasurement | None, **more: object) -> FilmSaved:
        return FilmSaved(self.film_id, mid, m, origin=self, **more)  # type: ignore[arg-type]

    def save(self, m: CobbMeasurement, reason: str) -> None:
        """Insert ``m`` on this film or update it (:meth:`Study.save_measurement`).

        Changing a saved measurement needs a non-blank ``reason`` (:class:`ValidationError`);
        :class:`~cobbdesk.core.store.conflicts.ConflictError` when another rater (or another
        window) changed it since this store's window showed it.
        """
        self._send("saving a measurement", m.id,
                   lambda: self.study.save_measurement(self.film_id, m, reason=reason,
                                                       seen=self.seen),
                   self._event(m.id, m))  # fmt: skip

    def delete(self, measurement_id: str, reason: str) -> None:
        """Soft-delete the measurement (:meth:`Study.delete_measurement`; needs a reason)."""
        self._send("deleting a measurement", measurement_id,
                   lambda: self.study.delete_measurement(measurement_id, reason, seen=self.seen),
                   self._event(measurement_id, None))  # fmt: skip

    def restore(self, m: CobbMeasurement, reason: str) -> None:
        """Undo the soft deletion of ``m`` on this film (:meth:`Study.restore_measurement`)."""
        self._send("restoring a measurement", m.id,
                   lambda: self.study.restore_measurement(self.film_id, m, reason,
                                                          seen=self.seen),
                   self._event(m.id, m))  # fmt: skip

    def set_facing(self, facing: Facing, source: FacingSource, reason: str) -> None:
        """Store the film's facing and its source, audited (:meth:`Study.set_facing`)."""
        self._send("setting the facing", None,
                   lambda: self.study.set_facing(self.film_id, facing, source, reason),
                   self._event(None, None, facing=Facing(facing).value,
                               facing_source=FacingSource(source).value))  # fmt: skip

    def current(self, measurement_id: str) -> CobbMeasurement | None:
        """The measurement as stored now (None: deleted), made the baseline of the next
        write (another rater's change is then kept or overwritten knowingly).  Read after
        every queued write; ServerUnavailableError when the server is away."""
        outbox = attached(self.study)
        if outbox is None:
            return self.study.reread_measurement(measurement_id, seen=self.seen)
        first, found = outbox.call(lambda: self.study.reread_measurement(measurement_id,
                                                                         seen=self.seen),
                                   f"re-reading a measurement of film #{self.film_id}")  # fmt: skip
        if first is First.KEPT:
            raise ServerUnavailableError(self.study.path, "the server did not answer; the "
                                         "measurement could not be re-read. Try again")  # fmt: skip
        return found


def _publishing(study: Study, call: Callable[[], T], event: FilmSaved) -> Callable[[], T]:
    """``call`` that publishes ``event`` when it lands, or the same not ``ok`` when it is
    refused (a retriable fault publishes nothing: the write is kept and tried again)."""

    def write() -> T:
        try:
            result = call()
        except RETRIABLE:
            raise
        except BaseException as exc:
            _name_writer(study, exc, event.measurement_id)
            publish(study, replace(event, ok=False))
            raise
        publish(study, event)
        return result

    return write


def _name_writer(study: Study, exc: BaseException, measurement_id: str | None) -> None:
    """A conflict on a measurement learns who wrote the stored version (its ``writer``:
    another rater, or another window of this app); any failure to tell leaves it unnamed."""
    if not isinstance(exc, ConflictError) or measurement_id is None or exc.writer is not None:
        return
    try:
        exc.writer = measurement_writer(study, measurement_id)
    except Exception:  # the conflict itself is what matters; who it was is a courtesy
        logger.warning("Could not tell who changed measurement %s", measurement_id,
                       exc_info=True)  # fmt: skip


@dataclass(frozen=True)
class SavedFilm:
    """What a study holds for one film besides its record: the saved measurements and the
    calibration in force (None: the header's spacing); ``aspect_unrecorded``: a hashed film
    whose Pixel Aspect Ratio was never read (:mod:`~cobbdesk.core.store.film_aspect`)."""

    measurements: list[CobbMeasurement]
    calibration: Calibration | None
    aspect_unrecorded: bool = False


def read_saved(study: Study, record: FilmRecord) -> SavedFilm:
    """The film's :class:`SavedFilm` (two or three reads; any thread: the GUI reads it off the
    UI thread while the film decodes).  Raises the store's errors."""
    unread = False
    if record.pixel_sha256 is not None and record.pixel_aspect is None:
        with study.engine.connect() as conn:
            unread = film_aspect.aspect_unrecorded(study, conn, record.id)
    return SavedFilm(study.measurements(record.id), study.film_calibration(record.id), unread)


def calibrate_film(
    study: Study,
    film_id: int,
    points: tuple[tuple[float, float], tuple[float, float]],
    length_mm: float,
    *,
    pixel_shape: tuple[float, float] | None,
    reason: str = "",
    origin: object = None,
) -> tuple[list[CobbMeasurement], Calibration | None]:
    """Calibrate the study film (``Study.calibrate_film``: same arguments and errors, see
    :mod:`cobbdesk.core.store.calibration`) and read back its measurements (respaced) and the
    calibration in force.  Once it landed, the other windows showing the film are told
    (:class:`FilmSaved` with ``calibrated``, the calibration and the respaced measurements,
    ``origin`` the calibrating window's store) so none keeps showing the old spacing.  Any
    thread (the GUI runs it on the study's write queue, having
    :func:`~cobbdesk.core.store.film_events.announce`\\ d it on the UI thread)."""
    try:
        study.calibrate_film(film_id, *points, length_mm, pixel_shape=pixel_shape,
                             reason=reason)  # fmt: skip
    except RETRIABLE:
        raise  # kept and tried again: told when it lands
    except BaseException:
        publish(study, FilmSaved(film_id, None, None, origin=origin, ok=False, calibrated=True))
        raise
    saved, calibration = study.measurements(film_id), study.film_calibration(film_id)
    publish(study, FilmSaved(film_id, None, None, origin=origin, calibrated=True,
                             calibration=calibration, respaced=tuple(saved)))  # fmt: skip
    return saved, calibration


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
    session.only_rater = only_rater
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
