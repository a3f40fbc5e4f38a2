"""The open study and the main window: browser, autosave, labs, rater, relink, import.

Autosave and reasons (every change is committed the moment it happens, in its own
transaction, so closing the window or a crash loses nothing):

* A new measurement is saved as soon as it is placed (no reason needed).
* While its film stays on screen, a measurement created in this sitting may be adjusted
  (snapping, handle drags, undo/redo) or removed without a prompt; each change is saved at
  once with the automatic reason "adjusted/removed while measuring (session <UTC start>)".
* Once you switch to another film (or re-open the study), the measurement is settled:
  changing or deleting it asks for a reason.  Declining puts the film back to its saved
  state (and clears that film's undo history).
* A measurement deleted and then brought back by Undo/Redo is restored under its own id
  (:meth:`Study.restore_measurement`; the deletion and the restore are both audited).

The window title names the study file only; patients appear by study ID everywhere except
in the browser's "Show identifiers" mode.  Log lines name films by number, never patients.
"""

from __future__ import annotations

import getpass
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QFileDialog, QInputDialog
from sqlalchemy import select

from cobbdesk import __version__
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.measure.measurement import CobbMeasurement, utc_now
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.core.store.schema import measurements as measurements_table
from cobbdesk.gui import errors, settings
from cobbdesk.gui.study import lab_form
from cobbdesk.gui.study.browser import StudyBrowser
from cobbdesk.gui.study.jobs import BackgroundJob, StudyJobs, same_film
from cobbdesk.gui.study.model import visit_label
from cobbdesk.gui.viewer.measure_tool import MeasureController
from cobbdesk.gui.workers import FilmLoader

if TYPE_CHECKING:
    from cobbdesk.gui.compare.window import CompareWindow
    from cobbdesk.gui.main_window import MainWindow, OpenFilm

logger = logging.getLogger("cobbdesk.gui.study")
STUDY_FILTER = "CobbDesk study (*.cobbdesk)"


@dataclass
class FilmLink:
    """A study film open in the window: what the store holds for it, by viewer id."""

    record: FilmRecord
    controller: MeasureController
    saved: dict[str, CobbMeasurement]
    fresh: set[str] = field(default_factory=set)  # created while on screen: no reason needed
    deleted: set[str] = field(default_factory=set)
    asking: bool = False


class StudySession(StudyJobs, QObject):
    """Owns the open :class:`Study` (at most one) for a :class:`MainWindow`."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.study: Study | None = None
        self.browser = StudyBrowser()
        self.links: dict[Path, FilmLink] = {}
        self.reason_prompt: lab_form.ReasonPrompt | None = None  # tests inject answers
        self.started = utc_now()
        self.jobs: list[BackgroundJob] = []
        self.dock: QDockWidget | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cobbdesk-study")
        self._pending: dict[Path, FilmRecord] = {}
        self.browser.filmActivated.connect(self.open_film)
        self.browser.labsRequested.connect(self.enter_labs)
        self.browser.compareRequested.connect(self.compare)
        self._compare_loader: FilmLoader | None = None
        self.compare_windows: list[CompareWindow] = []
        window.view.filmChanged.connect(self._settle)
        window.panel.raterChanged.connect(lambda _: self._sync_rater())

    def mount(self, dock: QDockWidget) -> None:
        """The window's dock holding the browser: hidden until a study is open."""
        self.dock = dock
        dock.hide()

    # --- opening and closing ----------------------------------------------------------------
    def open_study(self, path: Path, create: bool = False) -> bool:
        try:
            opener = Study.create if create else Study.open
            study = opener(path, actor=self.window.rater)
        except Exception as exc:
            errors.report(self.window, exc, "Creating a study" if create else "Opening a study")
            return False
        self.close_study()
        self.study, self.started = study, utc_now()
        settings.add_recent_study(path)
        self.window.setWindowTitle(f"CobbDesk {__version__} — {path.name}")
        logger.info("Opened study %s", path.name)
        if study.backup_made is not None:
            self.window.status.showMessage(f"Study upgraded; backup {study.backup_made.name}")
        self.refresh()
        if self.dock is not None:
            self.dock.show()
            self.dock.raise_()
            self.window.resizeDocks([self.dock], [640], Qt.Orientation.Horizontal)
            self.window.resizeDocks([self.dock], [560], Qt.Orientation.Vertical)
        return True

    def close_study(self) -> None:
        for window in self.compare_windows:
            window.close()
        self.compare_windows = []
        for link in self.links.values():
            link.controller.measurementsChanged.disconnect(self._on_change)
            link.controller.undo_stack.setClean()  # everything is in the study already
        self.links, self._pending = {}, {}
        if self.study is not None:
            logger.info("Closed study %s", self.study.path.name)
            self.study.close()
            self.study = None
            self.browser.clear()
            self.window.setWindowTitle(f"CobbDesk {__version__}")

    def shutdown(self) -> None:
        """Window closing: stop background jobs, then close the study."""
        for job in self.jobs:
            job.cancelled.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.close_study()
        if self._compare_loader is not None:
            self._compare_loader.close()

    def refresh(self) -> None:
        if self.study is not None:
            self.browser.set_overview(self.study.overview())

    def new_study_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self.window, "New study", "study.cobbdesk", STUDY_FILTER
        )
        if name:
            path = Path(name)
            self.open_study(path if path.suffix else path.with_suffix(".cobbdesk"), create=True)

    def open_study_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self.window, "Open study", "", STUDY_FILTER)
        if name:
            self.open_study(Path(name))

    # --- films --------------------------------------------------------------------------------
    def open_film(self, record: FilmRecord) -> None:
        """Show a study film with its saved measurements (relink first if its file moved)."""
        if self.study is None:
            return
        path = Path(record.path)
        if not path.is_file():
            self.relink_dialog(record)
            return
        for row, entry in enumerate(self.window.films):
            if entry.path == path:
                clean = entry.controller is not None and entry.controller.undo_stack.isClean()
                if path not in self.links and clean:
                    self._pending[path] = record
                    self.adopt(entry)
                self.window.film_list.setCurrentRow(row)
                return
        self._pending[path] = record
        self.window.open_paths([path])

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
            return False
        try:
            record = self._hash_on_first_open(record, entry.film)
            saved = self.study.measurements(record.id)
        except Exception as exc:
            errors.report(self.window, exc, f"Reading the measurements of film #{record.id}")
            return False
        entry.controller.load(saved)
        self.links[entry.path] = FilmLink(record, entry.controller, {m.id: m for m in saved})
        entry.controller.measurementsChanged.connect(self._on_change)
        row = self.window.films.index(entry)
        QTimer.singleShot(0, lambda: self.window.film_list.setCurrentRow(row))
        logger.info("Film #%d opened with %d saved measurement(s)", record.id, len(saved))
        return True

    def _hash_on_first_open(self, record: FilmRecord, film: Film) -> FilmRecord:
        """Films imported from headers get their pixel hash (for relinking) when first read."""
        if record.pixel_sha256 is not None or self.study is None:
            return record
        self.study.update_film(
            record.id,
            reason="pixels hashed on first opening",
            pixel_sha256=film.pixel_sha256,
            pixel_rows=film.rows,
            pixel_columns=film.columns,
        )
        return record._replace(pixel_sha256=film.pixel_sha256)

    def _settle(self) -> None:
        """Another film is on screen: what was measured before is now settled."""
        shown = self.window.view.film
        for link in self.links.values():
            if link.controller.film is not shown:
                link.fresh.clear()

    # --- autosave -------------------------------------------------------------------------
    def _on_change(self) -> None:
        controller = self.sender()
        link = next((k for k in self.links.values() if k.controller is controller), None)
        if link is not None:
            self.autosave(link)

    def autosave(self, link: FilmLink) -> None:
        """Save what needs no reason now; ask about settled measurements once the push ends."""
        current = link.controller.measurements
        needs_reason = False
        for mid, m in current.items():
            old = link.saved.get(mid)
            if old is None:
                link.fresh.add(mid)
                self._store(link, m, "")
            elif old != m and mid in link.fresh:
                self._store(link, m, f"adjusted while measuring (session {self.started})")
            needs_reason |= old is not None and old != m and mid not in link.fresh
        for mid in [mid for mid in link.saved if mid not in current]:
            if mid in link.fresh:
                self._delete(link, mid, f"removed while measuring (session {self.started})")
            else:
                needs_reason = True
        if needs_reason and not link.asking:
            link.asking = True
            QTimer.singleShot(0, lambda: self._ask_and_save(link))

    def _ask_and_save(self, link: FilmLink) -> None:
        current = link.controller.measurements
        edits = [m for mid, m in current.items() if mid in link.saved and link.saved[mid] != m]
        gone = [mid for mid in link.saved if mid not in current]
        lines = [
            f"{m.template.value}: {link.saved[m.id].angle:+.1f}° → {m.angle:+.1f}°" for m in edits
        ] + [f"{link.saved[mid].template.value}: deleted" for mid in gone]
        what = f"You are changing saved measurement(s) of film #{link.record.id}:\n"
        prompt = self.reason_prompt or lab_form.ask_reason
        reason = (prompt(self.window, what + "\n".join(lines)) or "") if lines else ""
        link.asking = False
        if lines and not reason:
            link.controller.load(list(link.saved.values()))
            self.window.status.showMessage("Not changed: a saved measurement needs a reason.", 8000)
            return
        for m in edits:
            self._store(link, m, reason)
        for mid in gone:
            self._delete(link, mid, reason)

    def _store(self, link: FilmLink, m: CobbMeasurement, reason: str) -> None:
        assert self.study is not None
        restored = m.id in link.deleted  # brought back by Undo/Redo after its deletion was saved
        try:
            if restored:
                why = reason or f"deletion undone while measuring (session {self.started})"
                self.study.restore_measurement(link.record.id, m, why)
                link.deleted.discard(m.id)
            else:
                self.study.save_measurement(link.record.id, m, reason=reason)
        except Exception as exc:
            errors.report(self.window, exc, f"Saving a measurement of film #{link.record.id}")
            return
        link.saved[m.id] = m
        self._saved(link, f"{'restored' if restored else 'saved'} measurement {m.id[:8]}")

    def _delete(self, link: FilmLink, mid: str, reason: str) -> None:
        assert self.study is not None
        try:
            self.study.delete_measurement(mid, reason)
        except Exception as exc:
            errors.report(self.window, exc, f"Deleting a measurement of film #{link.record.id}")
            return
        del link.saved[mid]
        link.deleted.add(mid)
        self._saved(link, f"deleted measurement {mid[:8]}")

    def _saved(self, link: FilmLink, what: str) -> None:
        logger.info("Film #%d: %s", link.record.id, what)
        self.browser.model.set_measured(link.record.id, len(link.saved))
        self.window.status.showMessage(f"Saved to study ({what}).", 4000)
        stack = link.controller.undo_stack
        QTimer.singleShot(0, lambda: stack.setClean() if self._is_saved(link) else None)

    def _is_saved(self, link: FilmLink) -> bool:
        return dict(link.controller.measurements) == link.saved

    # --- compare -----------------------------------------------------------------------------
    def compare(self, patient_id: int | None = None) -> CompareWindow | None:
        """Admission and month 3 of a patient side by side (the browser's selection by default)."""
        from cobbdesk.gui.compare.window import open_compare

        patient_id = patient_id if patient_id is not None else self.browser.selected_patient_id()
        if self.study is None or patient_id is None:
            errors.present(
                self.window, "Compare visits", "Select a patient in the study browser first."
            )
            return None
        if self._compare_loader is None:  # its own loader: the window's list ignores its films
            self._compare_loader = FilmLoader(isolated=True, parent=self)
        window = open_compare(
            self.study,
            self.window.rater,
            self._compare_loader,
            patient_id,
            "cervical",
            parent=self.window,
        )
        window.view.importRequested.connect(lambda _patient: self.import_films_dialog())
        window.closed.connect(self.refresh)
        self.compare_windows.append(window)
        return window

    # --- labs, rater, audit ---------------------------------------------------------------------
    def enter_labs(self, visit_id: int | None = None) -> lab_form.LabForm | None:
        visit_id = visit_id if visit_id is not None else self.browser.selected_visit_id()
        if self.study is None or visit_id is None:
            errors.present(self.window, "Enter labs", "Select a visit in the study browser first.")
            return None
        form = lab_form.LabForm(
            self.study,
            visit_id,
            self._visit_title(visit_id),
            self.window,
            reason_prompt=self.reason_prompt,
        )
        form.accepted.connect(lambda: self._labs_saved(visit_id))
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.open()
        return form

    def _visit_title(self, visit_id: int) -> str:
        found = self.browser.model.visit(visit_id)
        if found is None:
            return f"visit #{visit_id}"
        return f"{found[0].patient.study_id} · {visit_label(found[1])}"

    def _labs_saved(self, visit_id: int) -> None:
        if self.study is not None:
            labs = self.study.labs(visit_id)
            count = sum(1 for k, v in labs.items() if k != "nlr" and v is not None)
            self.browser.model.set_labs(visit_id, count)
            logger.info("Visit #%d: labs saved", visit_id)

    def rater_choices(self) -> list[str]:
        seen: list[str] = []
        if self.study is not None:
            query = select(measurements_table.c.rater).distinct()
            with self.study.engine.connect() as conn:
                seen = [str(r) for r in conn.execute(query).scalars()]
        names = [self.window.rater, *sorted(seen), getpass.getuser()]
        return list(dict.fromkeys(n for n in names if n))

    def choose_rater(self) -> None:
        name, ok = QInputDialog.getItem(
            self.window, "Rater", "Who is measuring?", self.rater_choices(), 0, True
        )
        if ok and name.strip():
            self.set_rater(name)

    def set_rater(self, name: str) -> None:
        self.window._set_rater(name)  # settings, open films
        self.window.panel.rater.setText(self.window.rater)
        self._sync_rater()

    def _sync_rater(self) -> None:
        if self.study is not None:
            self.study.set_rater(self.window.rater)

    def verify_audit(self) -> bool | None:
        if self.study is None:
            return None
        result = self.study.verify_audit()
        if result.ok:
            self._inform("Audit trail", f"The audit trail is intact: {result.rows:,} entries.")
        else:
            errors.present(self.window, "Audit trail damaged", result.problem)
        logger.info("Audit verification: %s", "ok" if result.ok else result.problem)
        return result.ok
