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

The window title names the study file only; patients appear by study ID everywhere except
in the browser's "Show identifiers" mode.  Log lines name films by number, never patients.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFileDialog

from cobbdesk import __version__
from cobbdesk.core.compare.saver import SavedFilm, film_session
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import ValidationError
from cobbdesk.core.importing.films import same_film, stored_film_path
from cobbdesk.core.importing.relink import from_saved, mismatch
from cobbdesk.core.measure.changes import Change
from cobbdesk.core.measure.interaction import FilmContext
from cobbdesk.core.measure.measurement import utc_now
from cobbdesk.core.measure.session import MeasurementSession
from cobbdesk.core.store import FilmRecord, Study, pg_url
from cobbdesk.core.store.overview import patient_completeness
from cobbdesk.gui import errors, settings
from cobbdesk.gui.film_follow import follow_film
from cobbdesk.gui.study import connecting, lab_form
from cobbdesk.gui.study.browser import StudyBrowser
from cobbdesk.gui.study.jobs import BackgroundJob, StudyJobs
from cobbdesk.gui.study.open_dialog import STUDY_FILTER
from cobbdesk.gui.study.progress_view import RatersPanel, mount_panel
from cobbdesk.gui.study.reads import LoadingStore, StudyReads, film_flags_of
from cobbdesk.gui.study.saving import CloseAsk, SaveStatus, StudySaver
from cobbdesk.gui.study.session_actions import FilmLink, StudyActions, visit_title
from cobbdesk.gui.study.watch import StudyWatcher
from cobbdesk.gui.viewer import prompts
from cobbdesk.gui.workers import FilmLoader

if TYPE_CHECKING:
    from cobbdesk.gui.compare.window import CompareWindow
    from cobbdesk.gui.host import WindowHost as MainWindow

    OpenFilm = Any  # the window's film entry (path, film, controller, error)

logger = logging.getLogger("cobbdesk.gui.study")
UNREACHABLE = "Study not reachable"


class StudySession(StudyReads, StudyJobs, StudyActions, QObject):
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
        opener = Study.create if create else partial(Study.open, defer_check=True)  # after paint
        rater = self.window.rater
        try:
            if pg_url.is_url(path):
                label = pg_url.parse(path).label
                found = connecting.open_in_background(
                    self.window, lambda: _bound(opener(path, actor=rater)), label
                )
            else:  # off the UI thread too: a file on a network share may be slow
                found = connecting.open_in_background(
                    self.window, lambda: opener(path, actor=rater), Path(path).name, server=False
                )
            if found is None:
                return False
            study = found
        except Exception as exc:
            errors.report(self.window, exc, "Creating a study" if create else "Opening a study")
            return False
        self.close_study()
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
        logger.info("Opened study %s", name)
        if study.backup_made is not None:
            self.window.status.showMessage(f"Study upgraded; backup {study.backup_made.name}")
        self.browser.model.study_file = None if study.server is not None else study.path
        self.refresh()
        self._recent_labels = {}
        self._read_recent_labels([f for s, f in settings.recent_films() if Path(s) == study.path])
        self._watch = StudyWatcher(study, self)
        self._watch.changed.connect(self.refresh)
        self._watch.unreachable.connect(self._study_unreachable)
        self._watch.reachable.connect(self._study_reachable)
        self.saver.follow(self._watch, self.window)  # a moved study file pauses saves
        self._watch.start()
        if self.dock is not None:
            self.dock.show()
            self.dock.raise_()
            if not self.restored:  # first time: the film keeps most of the window
                width = self.dock.sizeHint().width()  # what the browser needs to read whole
                self.window.resizeDocks([self.dock], [width], Qt.Orientation.Horizontal)
                self.restored = True
        return True

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
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        if self.study is not None:
            logger.info("Closed study %s", self.study.path.name)
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

    # --- films --------------------------------------------------------------------------------
    def open_film(self, record: FilmRecord) -> None:
        """Show a study film with its saved measurements (relink first if its file moved)."""
        if self.study is None:
            return
        path = self.film_path(record)
        if not path.is_file():
            self.relink_dialog(record)
            return
        for row, entry in enumerate(self.window.films):
            if entry.path == path:
                clean = entry.controller is not None and entry.controller.is_clean()
                if path not in self.links and path not in self._waiting and clean:
                    self._pending[path] = record
                    self._read_film(record, path)
                    self.adopt(entry)
                self.window.film_list.setCurrentRow(row)
                return
        self._pending[path] = record
        self._read_film(record, path)  # on the reads worker while the film decodes
        from cobbdesk.gui.demo import is_demo_path

        if not is_demo_path(Path(self.study.path)):
            settings.add_recent_film(Path(self.study.path), record.id)
            self._read_recent_labels([record.id])
        self.window.open_paths([path])

    def film_path(self, record: FilmRecord) -> Path:
        """The study film's file, absolute and resolved as the window names opened files (a
        relative path of an older study is found from the study file's folder, never from
        the working folder: :func:`~cobbdesk.core.importing.films.stored_film_path`)."""
        study = self.study
        study_file = None if study is None or study.server is not None else study.path
        return stored_film_path(record.path, study_file)

    def recent_film_label(self, study: Path, film_id: int) -> str:
        """The Open recent entry of a study film: pseudonym, visit and region (never a file
        name), as read off the UI thread when the film was opened or the study listed
        (:meth:`_read_recent_labels`); just the study and the id until then, or when that
        study is not the open one."""
        if self.study is not None and self.study.path == study:
            label = self._recent_labels.get(film_id)
            if label is not None:
                return label
        return f"{study.name}: film #{film_id}"

    def _read_recent_labels(self, film_ids: list[int]) -> None:
        """The Open recent labels of the open study's ``film_ids``, read on the reads worker."""
        study = self.study
        if study is None or not film_ids:
            return
        self._in_background(study, lambda s: recent_labels(s, film_ids),
                            self._recent_labels.update, what="Reading recent films",
                            reads=True, browser=False)  # fmt: skip

    def open_recent(self, study: str, film_id: int) -> None:
        """Open a remembered study film (opening its study first when needed); its record is
        read on the reads worker."""
        path = Path(study)
        if (self.study is None or self.study.path != path) and not self.open_study(path):
            return
        assert self.study is not None
        self._in_background(self.study, lambda s: s.film(film_id), self.open_film,
                            what="Opening a recent film", reads=True, browser=False)  # fmt: skip

    def open_first_unmeasured(self) -> None:
        """Open the study's first film without a measurement (found on the reads worker)."""
        if self.study is not None:
            self._in_background(self.study, first_unmeasured,
                                lambda found: None if found is None else self.open_film(found),
                                what="Finding a film to measure", reads=True)  # fmt: skip

    def pending_paths(self) -> set[Path]:
        """Study films being loaded into the window."""
        return set(self._pending)

    def adopt(self, entry: OpenFilm) -> bool:
        """Called by the window when a film loads: attach the study's measurements to it."""
        record = self._pending.pop(entry.path, None)
        if record is None or self.study is None or entry.controller is None or not entry.film:
            return False
        if not same_film(record, entry.film):
            problem = "this file is not the film in the study (other pixels or UID); relink it"
            errors.present(
                self.window, "Opening a study film failed", f"{entry.path.name}: {problem}"
            )
            return self._refuse_edits(record, entry, problem)
        return self._attach_when_read(record, entry)  # "loading…" until the read arrived

    def _refuse_edits(self, record: FilmRecord, entry: OpenFilm, problem: str) -> bool:
        """A film opened from the study but not linked to it: shown, every edit refused with
        ``problem`` (one line naming the film), so nothing is measured that the study would
        not keep while the status bar says its changes are saved.  True: handled (no
        sidecar is read for it)."""
        store = LoadingStore(record.id)
        store.problem = f"not linked to the study: {problem}"
        context = FilmContext.from_film(entry.film, self.window.rater)
        refusing = MeasurementSession(context, store, [])
        entry.controller.bind(refusing)
        entry.controller.set_clean()
        self.window.status.showMessage(f"Film #{record.id}: {store.problem}", 15000)
        return True

    def _attach(self, record: FilmRecord, entry: OpenFilm, read: SavedFilm) -> bool:
        """Bind the decoded film to its study session built from ``read``."""
        if self.study is None or entry.controller is None:
            return False
        if not self._as_recorded(record, entry, read):  # hashed too: aspect, spacing
            return self._refuse_edits(record, entry, "its header is not the one recorded")
        try:
            record = self._hash_on_first_open(record, entry.film)
            session = film_session(
                self.study,
                record,
                entry.film,
                self.window.rater,
                ask_reason=lambda changes: self._ask(record, changes),
                saved_film=read,
            )
        except Exception as exc:
            errors.report(self.window, exc, f"Reading the measurements of film #{record.id}")
            return self._refuse_edits(record, entry, "its measurements could not be read")
        entry.controller.bind(session)
        entry.controller.set_clean()
        follow_film(entry.controller, self.study, record.id)  # the compare view's saves
        self.links[entry.path] = FilmLink(record, entry.controller)
        entry.controller.measurementsChanged.connect(self._on_change)
        row = self.window.films.index(entry)
        QTimer.singleShot(0, lambda: self.window.film_list.setCurrentRow(row))
        count = len(session.measurements)
        logger.info("Film #%d opened with %d saved measurement(s)", record.id, count)
        stale = session.discrepancies()
        if stale:
            self.window.status.showMessage(
                f"Film #{record.id}: {len(stale)} saved angle(s) differ from their "
                f"recomputation ({stale[0].reason})", 15000)  # fmt: skip
        return True

    def _as_recorded(self, record: FilmRecord, entry: OpenFilm, read: SavedFilm) -> bool:
        """The film is the study's only when it agrees with what the study recorded
        (:func:`~cobbdesk.core.importing.relink.mismatch`: a film never opened by its header,
        Pixel Aspect Ratio carried by the record included; a hashed one by its pixels,
        aspect and spacing); otherwise says which field differs and returns False (no hash
        is stored)."""
        problem = mismatch(from_saved(record, read.measurements), entry.film)
        if problem is None:
            return True
        text = f"{entry.path.name}: not the film in the study ({problem}); relink it"
        errors.present(self.window, "Opening a study film failed", text)
        return False

    def _ask(self, record: FilmRecord, changes: Sequence[Change]) -> str | None:
        """The reason prompt of every view (tests inject :attr:`reason_prompt`)."""
        prompt = self.reason_prompt or prompts.ask_reason
        return prompt(self.window, prompts.reason_text(f"film #{record.id}", changes))

    def _hash_on_first_open(self, record: FilmRecord, film: Film) -> FilmRecord:
        """Films imported from headers get their pixel hash (for relinking) when first read:
        queued on the study's write queue (off the UI thread, in order with the film's other
        writes; a relink queued later lands after it), not waited for."""
        study = self.study
        if record.pixel_sha256 is not None or study is None:
            return record

        def write() -> None:
            study.update_film(record.id, reason="pixels hashed on first opening",
                              pixel_sha256=film.pixel_sha256, pixel_rows=film.rows,
                              pixel_columns=film.columns)  # fmt: skip

        if self.saver is None:
            write()
        else:
            self.saver.outbox.submit(write, f"hashing the pixels of film #{record.id}")
        return record._replace(pixel_sha256=film.pixel_sha256, pixel_rows=film.rows,
                               pixel_columns=film.columns)  # fmt: skip

    def _settle(self) -> None:
        """Another film is on screen: what was measured before is now settled."""
        shown = self.window.view.film
        for link in self.links.values():
            if link.controller.film is not shown:
                link.controller.session.settle()

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


def recent_labels(study: Study, film_ids: list[int]) -> dict[int, str]:
    """Worker thread: film id → "study ID · visit · region" of the Open recent menu (never a
    name or file name); films gone since are left out (the menu shows their id)."""
    found: dict[int, str] = {}
    for film_id in film_ids:
        try:
            film = study.film(film_id)
        except ValidationError:  # deleted since
            continue
        found[film_id] = f"{visit_title(study, film.visit_id)} · {film.region.value}"
    return found


def first_unmeasured(study: Study) -> FilmRecord | None:
    """Worker thread: the first film of the study's overview that holds no measurement."""
    films = (f for p in study.overview() for v in p.visits for fs in v.films.values()
             for f in fs if not v.measured.get(f.id))  # fmt: skip
    return next(films, None)


def _bound(study: Study) -> Study:
    """``study``, having learnt (on the opening thread) whether its server role is a rater
    role, which then measures under its own name (:meth:`Study.rater_role_bound`)."""
    try:
        study.rater_role_bound()
    except Exception:
        study.close()
        raise
    return study
