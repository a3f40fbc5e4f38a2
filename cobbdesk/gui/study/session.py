"""The open study and the main window: browser, autosave, labs, rater, relink, import.

Every study film on screen measures through a
:class:`~cobbdesk.core.measure.session.MeasurementSession` whose store is the study
(:func:`~cobbdesk.core.compare.saver.film_session`), the same policy as the compare view:

* every change is committed the moment it happens, in its own transaction (what is on screen
  is what is stored), so closing the window or a crash loses nothing;
* a measurement made while its film stays on screen may be adjusted or removed without a
  prompt (automatic reason naming the sitting); once another film is shown (or the study is
  re-opened) it is settled, and changing, deleting or restoring it asks for a reason first —
  declining leaves it as it is;
* a measurement deleted and brought back by Undo/Redo is restored under its own id.

Opening study films and binding them to their sessions is
:mod:`~cobbdesk.gui.study.study_films` (a mixin, like the reads, jobs and actions ones).  The
window title names the study file only; patients appear by study ID everywhere except
in the browser's "Show identifiers" mode.  Log lines name films by number, never patients.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFileDialog

from cobbdesk import __version__
from cobbdesk.core import redact
from cobbdesk.core.measure.measurement import utc_now
from cobbdesk.core.store import FilmRecord, Study, pg_url
from cobbdesk.core.store.overview import patient_completeness
from cobbdesk.gui import errors, settings
from cobbdesk.gui.study import connecting, lab_form
from cobbdesk.gui.study.browser import StudyBrowser
from cobbdesk.gui.study.jobs import BackgroundJob, StudyJobs, off_ui
from cobbdesk.gui.study.open_dialog import STUDY_FILTER
from cobbdesk.gui.study.progress_view import RatersPanel, mount_panel
from cobbdesk.gui.study.reads import StudyReads, film_flags_of
from cobbdesk.gui.study.saving import CloseAsk, SaveStatus, StudySaver
from cobbdesk.gui.study.session_actions import FilmLink, StudyActions
from cobbdesk.gui.study.study_films import StudyFilms
from cobbdesk.gui.study.watch import StudyWatcher
from cobbdesk.gui.workers import FilmLoader

if TYPE_CHECKING:
    from cobbdesk.gui.compare.window import CompareWindow
    from cobbdesk.gui.host import WindowHost as MainWindow

logger = logging.getLogger("cobbdesk.gui.study")
UNREACHABLE = "Study not reachable"
INDEX_FALLBACK_MS = 5000
"""The redaction index is built this long after opening when the browser never showed rows."""


class StudySession(StudyFilms, StudyReads, StudyJobs, StudyActions, QObject):
    """Owns the open :class:`Study` (at most one) for a :class:`MainWindow`."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.study: Study | None = None
        self.browser = StudyBrowser()
        self.raters = RatersPanel()  # others' progress, beside the browser (#15)
        self.links: dict[Path, FilmLink] = {}
        self.reason_prompt: lab_form.ReasonPrompt | None = None  # tests inject answers
        self.saver: StudySaver | None = None  # the open study's write queue (#15)
        self.save_status = SaveStatus()
        self.close_prompt: CloseAsk | None = None  # tests inject answers
        window.status.addPermanentWidget(self.save_status)
        self.started = utc_now()
        self.jobs: list[BackgroundJob] = []
        self._generation = 0  # of the browser's background checks (see refresh)
        self.dock: QDockWidget | None = None
        self.restored = False  # the dock was placed by the saved layout (keep its size)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cobbdesk-study")
        self._init_reads()  # the patient list and films' saved state, off the UI thread
        self._pending: dict[Path, FilmRecord] = {}
        self._recent_labels: dict[int, str] = {}  # film id → Open recent label (open study)
        self._watch: StudyWatcher | None = None  # others' changes refresh the browser
        self._opened_line: str | None = None  # "Opened study": logged once the index is built
        self.browser.filmActivated.connect(self.open_film)
        self.browser.labsRequested.connect(self.enter_labs)
        self.browser.compareRequested.connect(self.compare)
        self.browser.filmChangeRequested.connect(self.change_film)
        self._compare_loader: FilmLoader | None = None
        self.compare_windows: list[CompareWindow] = []
        window.view.filmChanged.connect(self._settle)
        window.panel.raterChanged.connect(lambda _: self._sync_rater())

    def mount(self, dock: QDockWidget) -> None:
        """The window's dock holding the browser: hidden until a study is open."""
        self.dock = dock
        dock.hide()
        mount_panel(self.window, self.raters)
        self.window.panel.raterChanged.connect(lambda _: self.raters.refresh())

    # --- opening and closing ----------------------------------------------------------------
    def open_study(self, path: Path | str, create: bool = False) -> bool:
        """Open (or create) the study at ``path``: a file, or a server URL (no password; the
        connection is made off the UI thread, "Connecting…" with Cancel, Retry when the
        server is down).  Edits of the open study not saved yet are asked about first."""
        if not self.confirm_pending():
            return False
        study = self._connect(path, create)
        if study is None:
            return False
        self.close_study()
        self._use_study(study, path)
        self._watch_study(study)
        self._show_dock()
        self._index_after_paint(study)
        return True

    def _connect(self, path: Path | str, create: bool) -> Study | None:
        """The study at ``path``, opened off the UI thread; None when cancelled or failed (the
        failure is reported)."""
        opener = Study.create if create else partial(Study.open, defer_check=True)  # after paint
        rater = self.window.rater
        try:
            if pg_url.is_url(path):
                label = pg_url.parse(path).label
                return connecting.open_in_background(
                    self.window, lambda: _bound(opener(path, actor=rater)), label
                )
            # off the UI thread too: a file on a network share may be slow
            return connecting.open_in_background(
                self.window, lambda: opener(path, actor=rater), Path(path).name, server=False
            )
        except Exception as exc:
            errors.report(self.window, exc, "Creating a study" if create else "Opening a study")
            return None

    def _use_study(self, study: Study, path: Path | str) -> None:
        """``study`` (opened from ``path``) becomes the open one: rater, write queue, recent
        studies, title, browser."""
        self.study, self.started = study, utc_now()
        if study.server is not None and study.rater_role_bound():  # known: read while opening
            self.set_rater(study.actor.user)  # a rater role measures as itself (#15)
        self.saver = StudySaver(study, self.save_status, self)
        self.saver.failed.connect(self._late_failure)
        from cobbdesk.gui.demo import is_demo_path

        if not is_demo_path(Path(path)):  # a demo folder is removed at exit
            settings.add_recent_study(path)  # type: ignore[arg-type]  # a URL is kept as its str
        name = pg_url.parse(path).label if pg_url.is_url(path) else Path(path).name
        self.window.setWindowTitle(f"CobbDesk {__version__} — {name}")
        self._opened_line = name  # logged by _log_opened: a log line now would build the index
        if study.backup_made is not None:
            self.window.status.showMessage(f"Study upgraded; backup {study.backup_made.name}")
        self.browser.model.study_file = None if study.server is not None else study.path
        self.refresh()
        self._recent_labels = {}
        self._read_recent_labels([f for s, f in settings.recent_films() if Path(s) == study.path])

    def _index_after_paint(self, study: Study) -> None:
        """Build the redaction index of ``study``'s identifiers (pending since
        :meth:`Study.open`: :func:`~cobbdesk.core.redact.remember_later`) on a pool thread
        once the browser has painted its rows (beside completeness and flags, not after them:
        a film opened meanwhile logs a line), or after :data:`INDEX_FALLBACK_MS`; then log
        "Opened study".  Anything redacted sooner (a log line, an error dialog) builds it
        first on its own thread: never unredacted."""
        started = False

        def start() -> None:  # UI thread
            nonlocal started
            if started or self.study is not study:
                return
            started = True
            off_ui(
                self,
                redact.materialise,
                lambda _r: self._log_opened() if self.study is study else None,
                lambda e: errors.report(self.window, e, "Preparing the study's redaction"),
            )

        self.after_rows_painted(start)
        QTimer.singleShot(INDEX_FALLBACK_MS, self, start)

    def _log_opened(self) -> None:
        """Log "Opened study NAME" once: after the index is built, or when the study closes."""
        if self._opened_line is not None:
            logger.info("Opened study %s", self._opened_line)
            self._opened_line = None

    def _log_closed(self, name: str) -> None:
        """Log "Opened study" (when not yet) and "Closed study NAME".  While identifiers
        wait for their redaction index (closed before :meth:`_index_after_paint` built it) both
        lines go to a worker thread that builds the index first: the UI thread never builds it
        (0.4–0.7 s at 100,000 patients).  The closed study's identifiers stay pending until
        then, so any text redacted meanwhile, on any thread, is matched with them
        (:func:`~cobbdesk.core.redact.materialise`): never unredacted."""
        opened, self._opened_line = self._opened_line, None

        def log() -> None:
            if opened is not None:
                logger.info("Opened study %s", opened)
            logger.info("Closed study %s", name)

        if not redact.pending():
            log()
            return

        def build_then_log() -> None:  # worker thread: no Qt here
            redact.materialise()
            log()

        threading.Thread(target=build_then_log, name="cobbdesk-redaction-index").start()

    def _watch_study(self, study: Study) -> None:
        """Others' changes refresh the browser; a moved study file pauses saves."""
        assert self.saver is not None
        self._watch = StudyWatcher(study, self)
        self._watch.changed.connect(self.refresh)
        self._watch.unreachable.connect(self._study_unreachable)
        self._watch.reachable.connect(self._study_reachable)
        self.saver.follow(self._watch, self.window)  # a moved study file pauses saves
        self._watch.start()

    def _show_dock(self) -> None:
        if self.dock is not None:
            self.dock.show()
            self.dock.raise_()
            if not self.restored:  # first time: the film keeps most of the window
                width = self.dock.sizeHint().width()  # what the browser needs to read whole
                self.window.resizeDocks([self.dock], [width], Qt.Orientation.Horizontal)
                self.restored = True

    def close_study(self) -> None:
        for window in self.compare_windows:
            window.close()
        self.compare_windows = []
        for link in self.links.values():
            link.controller.measurementsChanged.disconnect(self._on_change)
            link.controller.set_clean()  # everything is in the study already
        # The study's films leave the window with it: their measurements are stored, and a
        # film left on screen would measure into a closed study.
        self.window.close_films(set(self.links) | set(self._pending) | set(self._waiting))
        self.links, self._pending, self._waiting, self._film_reads = {}, {}, {}, {}
        self._after_paint = []  # a closed study's checks and index never start
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        if self.study is not None:
            self._log_closed(self.study.path.name)
            if self.saver is not None:  # asked first (confirm_pending): nothing dropped silently
                self.saver.close()
                self.saver = None
            self.study.close()
            self.study = None
            self.browser.clear()
            self.raters.show_study(None)
            self.window.setWindowTitle(f"CobbDesk {__version__}")

    def _study_unreachable(self, why: str) -> None:
        """The audit-head poll failed: a short message that fits the status bar (the reason,
        which may be long, in its tooltip), cleared by :meth:`_study_reachable`."""
        seconds = self._watch.timer.interval() // 1000 if self._watch is not None else 0
        self.window.status.showMessage(f"{UNREACHABLE} — checking again every {seconds} s")
        self.window.status.setToolTip(why)

    def _study_reachable(self) -> None:
        if self.window.status.currentMessage().startswith(UNREACHABLE):
            self.window.status.clearMessage()
        self.window.status.setToolTip("")

    def confirm_pending(self) -> bool:
        """True when the open study may close: no edit waits for the server, or the user
        waited for it or discarded it; False: keep the study open (and trying)."""
        return self.saver is None or self.saver.confirm_close(self.window, self.close_prompt)

    def shutdown(self) -> None:
        """Window closing: stop background jobs, then close the study."""
        for job in self.jobs:
            job.cancelled.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._reads.shutdown(wait=True, cancel_futures=True)
        self.raters.shutdown()
        self.close_study()
        if self._compare_loader is not None:
            self._compare_loader.close()

    def new_study_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self.window, "New study", "study.cobbdesk", STUDY_FILTER
        )
        if name:
            path = Path(name)
            self.open_study(path if path.suffix else path.with_suffix(".cobbdesk"), create=True)

    def open_study_dialog(self, server: bool = False) -> bool:
        """Study ▸ Open study…: one dialog, a File tab and a Server tab (:mod:`open_dialog`)."""
        from cobbdesk.gui.study.open_dialog import open_study_dialog

        return open_study_dialog(self, self.window, server=server)

    # --- autosave (the session stores every accepted edit) -----------------------------------
    def _on_change(self) -> None:
        controller = self.sender()
        link = next((k for k in self.links.values() if k.controller is controller), None)
        if link is None:
            return
        link.controller.set_clean()
        count = len(link.controller.measurements)
        self.browser.model.set_measured(link.record.id, count)
        if self.saver is not None and self.saver.outbox.pending():
            return  # kept for the server: the save state in the status bar says so
        self.refresh_flags()  # on the checks worker, one job at a time
        self.window.status.showMessage(f"Saved to study (film #{link.record.id}).", 4000)

    def _late_failure(self, ticket: Any, error: BaseException) -> None:
        """A kept edit failed when it reached the server (see :mod:`saving`)."""
        from cobbdesk.gui.study.late_failures import handle_late_failure

        handle_late_failure(self, ticket, error)


def completeness_and_flags(study: Study) -> tuple[dict[int, bool], dict[int, list[str]]]:
    """(patient id → complete, film id → flags) of the browser, in one call (benchmark)."""
    return patient_completeness(study), film_flags_of(study)


def _bound(study: Study) -> Study:
    """``study``, having learnt (on the opening thread) whether its server role is a rater
    role, which then measures under its own name (:meth:`Study.rater_role_bound`)."""
    try:
        study.rater_role_bound()
    except Exception:
        study.close()
        raise
    return study
