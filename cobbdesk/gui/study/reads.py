"""Reading the open study off the UI thread, with a visible state (#15 "the GUI never freezes on
the network", #17 "long work never runs on the UI thread").

A mixin of :class:`~cobbdesk.gui.study.session.StudySession`:

* the browser's patient list (:func:`~cobbdesk.core.store.overview.patient_list`) is read on
  the session's *reads* worker while the browser says "Loading patients…", then painted;
  completeness and film flags follow on the *checks* worker.  Work that must not compete
  with that first paint (a study file's ``quick_check``, the redaction index) starts after it:
  :meth:`StudyReads.after_rows_painted`, the one first-paint trigger;
* a patient's visits and films (:meth:`StudyReads._read_patient`) are read on the reads
  worker when its browser row is first painted or expanded; the row shows "Loading…" or
  "Not available — <one line>" meanwhile (:mod:`~cobbdesk.gui.study.model_async`);
* film flags (:func:`film_flags_of`, set-based SQL) are recomputed on the checks worker after
  every save, one job at a time: requests while one runs are served by one more job when it
  ends (a burst of saves costs two jobs, not one per save);
* a study film's saved measurements and calibration (:func:`~cobbdesk.core.compare.saver.
  read_saved`) are read on the reads worker while the film decodes; a film decoded first waits,
  shown but refusing edits ("loading its saved measurements…"), until they arrive.

Two single-thread pools: interactive reads never queue behind a long check or an import.
Results come back on the UI thread (:class:`~cobbdesk.gui.study.jobs.BackgroundJob`) and are
dropped when the study closed (and, for browser reads, when a newer refresh started).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer

from cobbdesk.core.compare.saver import SavedFilm, read_saved
from cobbdesk.core.errors import CobbdeskError, StoreError
from cobbdesk.core.measure.facing import Facing, FacingSource
from cobbdesk.core.measure.interaction import FilmContext
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.measure.session import MeasurementSession
from cobbdesk.core.redact import redact
from cobbdesk.core.store import FilmRecord, PatientOverview, Study
from cobbdesk.core.store.overview import PatientRow, patient_completeness, patient_list
from cobbdesk.gui import errors
from cobbdesk.gui.dispatch import OneAtATime
from cobbdesk.gui.study.jobs import BackgroundJob
from cobbdesk.gui.study.model import StudySource
from cobbdesk.gui.study.model_async import Arrived

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost as MainWindow
    from cobbdesk.gui.study.browser import StudyBrowser
    from cobbdesk.gui.study.progress_view import RatersPanel

    OpenFilm = Any

logger = logging.getLogger("cobbdesk.gui.study")
LOADING_PATIENTS = "Loading patients…"
LOADING_FILM = " — loading measurements…"
CHECK_FALLBACK_MS = 1000
"""The file check starts this long after the list arrived when the browser never painted."""


class LoadingStore:
    """The store of a study film shown before its saved measurements arrived: every write is
    refused (one line naming the film), so nothing is measured that the study would not keep."""

    def __init__(self, film_id: int) -> None:
        self.film_id = film_id
        self.problem = "its saved measurements are still loading; a moment, please"

    def _refuse(self) -> None:
        raise StoreError(None, f"film #{self.film_id}: {self.problem}")

    def save(self, m: CobbMeasurement, reason: str) -> None:
        self._refuse()

    def delete(self, measurement_id: str, reason: str) -> None:
        self._refuse()

    def restore(self, m: CobbMeasurement, reason: str) -> None:
        self._refuse()

    def set_facing(self, facing: Facing, source: FacingSource, reason: str) -> None:
        self._refuse()


class _FirstPaint(QObject):
    """Calls ``then`` once, on the first paint of ``widget`` or after ``fallback_ms``."""

    def __init__(self, widget: QObject, then: Callable[[], None], fallback_ms: int) -> None:
        super().__init__(widget)
        self.then, self.widget = then, widget
        widget.installEventFilter(self)
        QTimer.singleShot(fallback_ms, self, self._fire)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self, self._fire)  # after this paint
        return False

    def _fire(self) -> None:
        if self.then is not None:
            then, self.then = self.then, None  # type: ignore[assignment]
            self.widget.removeEventFilter(self)
            then()
            self.deleteLater()


class StudyReads:
    """Browser and film reads off the UI thread, for
    :class:`~cobbdesk.gui.study.session.StudySession` (a mixin)."""

    window: MainWindow
    study: Study | None
    browser: StudyBrowser
    raters: RatersPanel
    jobs: list[BackgroundJob]
    _pool: ThreadPoolExecutor  # checks, imports, relinks
    _reads: ThreadPoolExecutor  # interactive reads: the patient list, a film's saved state
    _generation: int
    _pending: dict[Path, FilmRecord]
    _flag_runs: OneAtATime

    def _init_reads(self) -> None:
        self._reads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cobbdesk-reads")
        self._film_reads: dict[Path, SavedFilm | BaseException] = {}
        self._waiting: dict[Path, tuple[FilmRecord, OpenFilm]] = {}
        self._flag_runs = OneAtATime(self._run_flags)
        self._after_paint: list[Callable[[], None]] = []  # see after_rows_painted

    def _in_background(self, study: Study, compute: Callable[[Study], Any],
                       apply: Callable[[Any], None], *, what: str = "Checking the saved angles",
                       reads: bool = False, browser: bool = True,
                       done: Callable[[], None] | None = None) -> None:  # fmt: skip
        """``apply(compute(study))``: compute on a worker thread (``reads``: the interactive
        one), apply on the UI thread unless the study closed or (``browser``) a newer refresh
        began; errors are reported as ``what``.  ``done`` runs on the UI thread in any case."""

        def job(_progress: Any, _cancel: Any) -> Any:  # worker thread
            try:
                return compute(study)
            finally:
                study.release_if_closed()  # the study closed while this ran

        worker = BackgroundJob(job, self)  # type: ignore[arg-type]
        generation = self._generation

        def finish(result: Any = None, error: BaseException | None = None) -> None:
            self.jobs.remove(worker)
            try:
                if self.study is not study or (browser and self._generation != generation):
                    return
                if error is not None:
                    errors.report(self.window, error, what)
                else:
                    apply(result)
            finally:
                if done is not None:
                    done()

        worker.finished.connect(finish)
        worker.failed.connect(lambda e: finish(error=e))
        self.jobs.append(worker)
        (self._reads if reads else self._pool).submit(worker.run)

    # --- the browser ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the flat patient list on a worker ("Loading patients…" meanwhile), paint it
        (visits and films load when shown); completeness and film flags follow."""
        study = self.study
        if study is None:
            return
        self._generation += 1  # jobs of an earlier refresh or study are ignored
        self.browser.summary.setText(LOADING_PATIENTS)
        self.raters.show_study(study)
        self._in_background(study, patient_list, lambda rows: self._listed(study, rows),
                            what="Reading the patient list", reads=True)  # fmt: skip

    def _listed(self, study: Study, rows: list[PatientRow]) -> None:
        source = StudySource(study)
        self.browser.set_rows(rows, source, lambda pid, arrived: self._read_patient(
            study, source, pid, arrived))  # fmt: skip
        self._in_background(study, patient_completeness, self.browser.set_completeness)
        self.refresh_flags()
        if study.file_check is not None and not study.file_check.started:
            self.after_rows_painted(study.file_check.start)  # competes for the disk and cores
        if self._after_paint:
            _FirstPaint(self.browser.tree.viewport(), self._rows_painted, CHECK_FALLBACK_MS)

    def _read_patient(self, study: Study, source: StudySource, patient_id: int,
                      arrived: Arrived) -> None:  # fmt: skip
        """A browser row's visits and films (``source.patient``) on the reads worker; the
        overview or the failure's one line goes to ``arrived`` on the UI thread (dropped when
        the study closed; the model drops it when its rows were refilled)."""
        self._in_background(study, lambda _s: _patient_or_line(source, patient_id), arrived,
                            reads=True, browser=False)  # fmt: skip

    def after_rows_painted(self, then: Callable[[], None]) -> None:
        """Call ``then`` once, on the UI thread, after the browser has painted the next
        patient list to arrive (or :data:`CHECK_FALLBACK_MS` after it arrived when the browser
        never paints) — the one first-paint trigger of the study window: the file's
        quick_check and the redaction index start there, not competing with that paint.
        Callers check that their study is still the open one."""
        self._after_paint.append(then)

    def _rows_painted(self) -> None:
        waiting, self._after_paint = self._after_paint, []
        for then in waiting:
            then()

    def refresh_flags(self) -> None:
        """Recompute the browser's film flags on the checks worker (set-based SQL): one job at
        a time; requests while one runs are served by one more job when it ends."""
        if self.study is not None:
            self._flag_runs.request()

    def _run_flags(self) -> None:
        study = self.study
        if study is None:
            self._flag_runs.finished()
            return
        self._in_background(study, film_flags_of, self.browser.model.set_flags,
                            done=self._flag_runs.finished)  # fmt: skip

    # --- study films --------------------------------------------------------------------------
    def _read_film(self, record: FilmRecord, path: Path) -> None:
        """Read the film's saved measurements and calibration on the reads worker."""
        study = self.study
        if study is None:
            return
        self._film_reads.pop(path, None)

        def arrived(result: SavedFilm | BaseException) -> None:
            if self.study is not study:
                return
            waiting = self._waiting.pop(path, None)
            if waiting is None:
                self._film_reads[path] = result  # the film is still decoding
            else:
                self._attach_read(waiting[0], waiting[1], result)

        self._in_background(study, lambda s: _read_or_error(s, record), arrived,
                            browser=False, reads=True)  # fmt: skip

    def _attach_when_read(self, record: FilmRecord, entry: OpenFilm) -> bool:
        """The film has decoded: attach its saved state now, or show it refusing edits
        ("loading…") until the read arrives.  False: not a study film after all."""
        read = self._film_reads.pop(entry.path, None)
        if read is not None:
            return self._attach_read(record, entry, read)
        self._waiting[entry.path] = (record, entry)
        loading = MeasurementSession(
            FilmContext.from_film(entry.film, self.window.rater), LoadingStore(record.id), []
        )
        entry.controller.bind(loading)
        entry.controller.set_clean()
        QTimer.singleShot(0, lambda: self._film_status(entry))  # after the window's own text
        return True

    def _attach_read(self, record: FilmRecord, entry: OpenFilm,
                     read: SavedFilm | BaseException) -> bool:  # fmt: skip
        if isinstance(read, BaseException):
            errors.report(self.window, read, f"Reading the measurements of film #{record.id}")
            store = entry.controller.session.store if entry.controller is not None else None
            if isinstance(store, LoadingStore):  # stays refusing edits: reopen the film
                store.problem = "its saved measurements could not be read; open it again"
            return False
        attached = self._attach(record, entry, read)
        self._film_status(entry)
        return attached

    def _film_status(self, entry: OpenFilm) -> None:
        """The film list's line of ``entry``: "— loading measurements…" while it waits."""
        films = self.window.films
        if entry not in films:
            return
        item = self.window.film_list.item(films.index(entry))
        text = item.text().removesuffix(LOADING_FILM)
        waiting = entry.path in self._waiting
        item.setText(text + LOADING_FILM if waiting else text)
        if waiting:
            film_id = self._waiting[entry.path][0].id
            self.window.status.showMessage(f"Film #{film_id}: loading its measurements…", 4000)

    def _attach(self, record: FilmRecord, entry: OpenFilm, read: SavedFilm) -> bool:
        raise NotImplementedError  # provided by StudySession


def _read_or_error(study: Study, record: FilmRecord) -> SavedFilm | BaseException:
    """Worker thread: the film's saved state, or the error (reported when the film shows)."""
    try:
        return read_saved(study, record)
    except Exception as exc:
        return exc


def _patient_or_line(source: StudySource, patient_id: int) -> PatientOverview | str | None:
    """Worker thread: the patient's overview, or why it could not be read (one line, no
    patient identifier: :func:`~cobbdesk.core.redact.redact`; other errors are logged)."""
    try:
        return source.patient(patient_id)
    except CobbdeskError as exc:
        return redact(exc.message).splitlines()[0] if exc.message else type(exc).__name__
    except Exception as exc:
        logger.error("Reading patient #%d failed", patient_id, exc_info=exc)
        return f"internal error ({type(exc).__name__}); the details are in the log"


def film_flags_of(study: Study) -> dict[int, list[str]]:
    """Worker thread: film id → flags (implausible or stale angles, region mismatches), from
    set-based SQL (:func:`~cobbdesk.core.store.flag_checks.flag_inputs`)."""
    from cobbdesk.core.compare.flags import film_flags
    from cobbdesk.core.store.flag_checks import flag_inputs

    return film_flags(*flag_inputs(study))
