"""Background work of an open study, off the UI thread: relinking moved films and importing.

Each job runs in the session's worker thread with a progress dialog and Cancel; its result
(or error) comes back on the UI thread.  Film decoding for relinking goes through the
window's crash-isolated loader.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QProgressDialog

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.importing.films import film_files
from cobbdesk.core.importing.relink import Search, find_relinked, recorded
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.gui import errors
from cobbdesk.gui.study.background import BackgroundJob, Cancel, Job, Progress, off_ui
from cobbdesk.gui.study.saving import queued

if TYPE_CHECKING:
    from cobbdesk.core.importing.photos import PhotoTarget
    from cobbdesk.core.importing.report import ImportReport
    from cobbdesk.gui.host import WindowHost as MainWindow
    from cobbdesk.gui.study.browser import StudyBrowser
    from cobbdesk.gui.study.photo_dialog import PhotoPrompt
    from cobbdesk.gui.study.saving import StudySaver

logger = logging.getLogger("cobbdesk.gui.study")
__all__ = ["BackgroundJob", "Cancel", "Job", "Progress", "StudyJobs", "import_summary", "off_ui",
           "run_import"]  # fmt: skip


class StudyJobs:
    """Relink and import for :class:`~cobbdesk.gui.study.session.StudySession` (a mixin)."""

    window: MainWindow
    study: Study | None
    browser: StudyBrowser
    jobs: list[BackgroundJob]
    _pool: ThreadPoolExecutor
    saver: StudySaver | None
    photo_prompt: PhotoPrompt | None = None  # tests inject the photo dialog's answer

    def open_film(self, record: FilmRecord) -> None:  # provided by StudySession
        raise NotImplementedError

    def refresh(self) -> None:  # provided by StudySession
        raise NotImplementedError

    def start_job(self, title: str, job: Job, done: Callable[[Any], None]) -> BackgroundJob:
        """Run ``job`` off the UI thread with a progress dialog and Cancel."""
        worker = BackgroundJob(job, self)
        dialog = QProgressDialog(title, "Cancel", 0, 0, self.window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.canceled.connect(worker.cancelled.set)

        def progressed(done: int, total: int) -> None:
            dialog.setMaximum(total)
            dialog.setValue(done)

        worker.progressed.connect(progressed)

        def finish(result: Any = None, error: BaseException | None = None) -> None:
            dialog.reset()
            dialog.deleteLater()
            self.jobs.remove(worker)
            if error is not None:
                errors.report(self.window, error, title.rstrip("…"))
            else:
                done(result)

        worker.finished.connect(finish)
        worker.failed.connect(lambda e: finish(error=e))
        self.jobs.append(worker)
        self._pool.submit(worker.run)
        return worker

    def relink_dialog(self, record: FilmRecord) -> None:
        """The film's file is gone: ask for the folder it moved to (searched recursively)."""
        title = f"Film #{record.id} was moved: choose the folder that now holds it"
        chosen = QFileDialog.getExistingDirectory(self.window, title)
        if chosen:
            self.relink(record, [Path(chosen)])

    def relink(self, record: FilmRecord, paths: list[Path]) -> BackgroundJob | None:
        """Find the film among ``paths`` (files or folders) — by pixel hash, or for a film
        never opened by its UID and every header field the study recorded
        (:mod:`~cobbdesk.core.importing.relink`) — then update its path."""
        study = self.study
        if study is None:
            return None
        name = Path(record.path).name
        found, _ = film_files(paths)
        candidates = sorted(found, key=lambda p: p.name != name)  # same name first
        read = self.window.loader.read_blocking
        return self.start_job(
            f"Looking for film #{record.id} among {len(candidates)} file(s)…",
            lambda progress, cancel: find_relinked(
                candidates, recorded(study, record), read, progress, cancel
            ),
            lambda search: self._relinked(record, search, len(candidates)),
        )

    def _relinked(self, record: FilmRecord, search: Search, searched: int) -> None:
        found = search.found
        if found is None or self.study is None:
            why = search.why_not()
            errors.present(
                self.window,
                "Relink failed",
                f"None of {searched} file(s) is film #{record.id}"
                + (f" — {why}" if why else " (no file holds its pixels or its UID).")
            )
            return
        study = self.study
        try:  # on the study's write queue (off the UI thread, "Saving…"); kept when away
            queued(self.saver, lambda: study.update_film(record.id, reason="file moved",
                                                         path=str(found)),
                   f"relinking film #{record.id}")  # fmt: skip
        except CobbdeskError as exc:
            errors.report(self.window, exc, f"Relinking film #{record.id}")
            return
        logger.info("Film #%d relinked (file moved)", record.id)
        moved = record._replace(path=str(found))
        self.browser.model.replace_film(moved)
        self.open_film(moved)

    def import_films_dialog(self) -> None:
        if self.study is None:
            errors.present(self.window, "Import films", "Open or create a study first.")
            return
        folder = QFileDialog.getExistingDirectory(self.window, "Import films into the study")
        if folder:
            self.import_films([Path(folder)])

    def import_films(self, paths: list[Path]) -> BackgroundJob | None:
        """Import the films under ``paths``; photos/scans among them go to the patient,
        visit and region the photo dialog is told (skipped with a hint when declined)."""
        study = self.study
        if study is None:
            return None
        from cobbdesk.gui.study.photo_dialog import ask_photo_target, photo_files

        photos = photo_files(paths)
        target = None
        if photos:
            target = (self.photo_prompt or ask_photo_target)(self.window, study, len(photos))  # type: ignore[arg-type]
        return self.start_job(
            "Importing films into the study…",
            lambda progress, cancel: run_import(study, paths, progress, cancel, target),
            self._imported,
        )

    def _imported(self, report: ImportReport) -> None:
        self.refresh()
        self._inform("Import finished", import_summary(report))

    def _inform(self, title: str, text: str) -> None:
        self.window.status.showMessage(text, 8000)  # its first line: counts only
        errors.inform(self.window, title, text)


def run_import(study: Study, paths: list[Path], progress: Progress, cancel: Cancel,
               photos: PhotoTarget | None = None) -> Any:  # fmt: skip
    """The import (:func:`~...importer.import_paths`), off the UI thread; photos go to
    ``photos`` (skipped with a hint when None)."""
    from cobbdesk.core.importing.importer import import_paths

    return import_paths(study, paths, progress=progress, cancel=cancel, photos=photos)


def import_summary(report: ImportReport) -> str:
    """What an import did, by study ID (the report never holds names)."""
    lines = [
        f"{len(report.imported)} film(s) imported from {report.files} file(s)"
        + (" — cancelled, nothing written" if report.cancelled else ""),
        f"{len(report.duplicates)} already in the study, {len(report.skipped)} not films, "
        f"{len(report.errors)} error(s)",
    ]
    photos = sum(1 for s in report.skipped if "photo/scan" in s.message)
    if photos:
        lines.append(f"{photos} photo(s)/scan(s) of films skipped: no patient, visit and region")
    if report.new_patients:
        lines.append(f"New patients: {', '.join(report.new_patients)}")
    lines += [f"{e.path.name}: {e.message}" for e in report.errors[:10]]
    return "\n".join(lines + report.warnings[:10])
