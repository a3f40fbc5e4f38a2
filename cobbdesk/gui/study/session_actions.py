"""Film corrections, visit comparison, labs, rater and audit of an open study.

A mixin of :class:`~cobbdesk.gui.study.session.StudySession` (with its ``FilmLink``), split
out of it unchanged: the browser's context-menu actions on a film (region, visit, facing,
with a reason), the compare window, lab entry and the study's rater and audit check.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QInputDialog
from shiboken6 import isValid

from cobbdesk.core.compare.saver import film_session_of
from cobbdesk.core.errors import CobbdeskError, ServerUnavailableError, ValidationError
from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.core.store.outbox import First
from cobbdesk.core.store.overview import patient_of, patient_overview
from cobbdesk.gui import errors
from cobbdesk.gui.study import lab_form
from cobbdesk.gui.study.model import visit_label
from cobbdesk.gui.study.saving import StudySaver, queued
from cobbdesk.gui.viewer import prompts
from cobbdesk.gui.viewer.measure_tool import MeasureController
from cobbdesk.gui.workers import FilmLoader

if TYPE_CHECKING:
    from cobbdesk.core.store.audit import Verification
    from cobbdesk.gui.compare.window import CompareWindow
    from cobbdesk.gui.host import WindowHost as MainWindow
    from cobbdesk.gui.study.browser import StudyBrowser
    from cobbdesk.gui.study.jobs import BackgroundJob, Job

logger = logging.getLogger("cobbdesk.gui.study")
NO_PATIENT = "Open a study film or select a patient in the study browser first."


@dataclass
class FilmLink:
    """A study film open in the window and the controller measuring it."""

    record: FilmRecord
    controller: MeasureController


class StudyActions:
    """Film changes, compare, labs, rater and audit for
    :class:`~cobbdesk.gui.study.session.StudySession` (a mixin)."""

    window: MainWindow
    study: Study | None
    browser: StudyBrowser
    links: dict[Path, FilmLink]
    reason_prompt: lab_form.ReasonPrompt | None
    saver: StudySaver | None
    _compare_loader: FilmLoader | None
    compare_windows: list[CompareWindow]

    def refresh(self) -> None:  # provided by StudySession
        raise NotImplementedError

    def import_films_dialog(self) -> None:  # provided by StudyJobs
        raise NotImplementedError

    def _inform(self, title: str, text: str) -> None:  # provided by StudyJobs
        raise NotImplementedError

    def start_job(self, title: str, job: Job, done: Callable[[Any], None]) -> BackgroundJob:
        raise NotImplementedError  # provided by StudyJobs

    def _in_background(self, study: Study, compute: Callable[[Study], Any],
                       apply: Callable[[Any], None], **how: Any) -> None:  # fmt: skip
        raise NotImplementedError  # provided by StudyReads

    # --- film properties ------------------------------------------------------------------
    def change_film(self, record: FilmRecord, what: str, value: str) -> bool:
        """Change a film's region, visit or facing, with a reason (audited).  A facing change
        goes through the film's measuring session, so its measurements are relabelled and
        stored with the same reason.  Every database call goes through the study's write
        queue (:func:`~cobbdesk.gui.study.saving.queued`): off the UI thread, "Saving…"."""
        if self.study is None:
            return False
        if what == "visit" and not value:
            value, ok = QInputDialog.getText(self.window, "Move film", "Visit label (e.g. week 6):")
            if not ok or not value.strip():
                return False
        prompt = self.reason_prompt or prompts.ask_reason
        reason = prompt(self.window, f"Change the {what} of film #{record.id} to {value}")
        if not reason:
            self.window.status.showMessage("Film not changed: a reason is needed.", 8000)
            return False
        try:
            message, stored = self._change(record, what, value, reason)
        except CobbdeskError as exc:
            errors.report(self.window, exc, f"Changing film #{record.id}")
            return False
        if stored:  # kept for the server: the browser refreshes when the write lands
            self.refresh()
        self.window.status.showMessage(message, 8000)
        logger.info("Film #%d: %s changed", record.id, what)
        return True

    def _change(self, record: FilmRecord, what: str, value: str, reason: str) -> tuple[str, bool]:
        """(the status message, stored now) of the change; raises the store's refusal."""
        study = self.study
        assert study is not None
        if what != "facing":
            first, change = queued(self.saver, lambda: study.change_film(
                record.id, reason=reason, **{what: value}), f"changing the {what} of film "
                f"#{record.id}")  # fmt: skip
            if first is First.KEPT or change is None:
                kept = f"Film #{record.id}: {what} change kept; saved when the server answers."
                return kept, False
            extra = f"; {change.mismatched} measurement(s) now flagged" if change.mismatched else ""
            if change.rivals:  # exports keep one angle per visit and region
                extra += (f"; its visit now holds {len(change.rivals) + 1} measured "
                          f"{change.film.region.value} films: exports keep the most recent "
                          "— move or delete the extra one")  # fmt: skip
            return f"Film #{record.id}: {what} changed{extra}.", True
        link = next((k for k in self.links.values() if k.record.id == record.id), None)
        session = link.controller.session if link is not None else film_session_of(
            study, record, reason, saved=self._saved_measurements(study, record))  # fmt: skip
        session.ask_reason = lambda changes: reason
        outcome = session.set_facing(value, "user", reason)
        if link is not None:
            link.controller.load(session.measurements)  # redraw relabelled lines
        if not outcome.ok:
            raise ValidationError(None, outcome.message)
        return f"Film #{record.id}: facing set to anterior {value}.", True

    def _saved_measurements(self, study: Study, record: FilmRecord) -> list[CobbMeasurement]:
        """The film's saved measurements, read on the write queue (after every queued write
        of it; off the UI thread); ServerUnavailableError when the server did not answer."""
        first, saved = queued(self.saver, lambda: study.measurements(record.id),
                              f"reading the measurements of film #{record.id}")  # fmt: skip
        if first is First.KEPT or saved is None:
            raise ServerUnavailableError(study.path, f"film #{record.id}: its measurements "
                                         "could not be read (no answer); try again")  # fmt: skip
        return saved

    # --- compare -----------------------------------------------------------------------------
    def compare(self, patient_id: int | None = None) -> CompareWindow | None:
        """Admission and month 3 of a patient side by side (the browser's selection by
        default, else the patient of the study film on screen).  Opens at once: the window
        reads the study off the UI thread ("Loading…"), and finds the patient of the shown
        film's visit itself (no query here)."""
        from cobbdesk.gui.compare.window import open_compare

        if patient_id is None:
            patient_id = self.browser.selected_patient_id()
        visit_id = self.shown_visit_id() if patient_id is None else None
        if self.study is None or (patient_id is None and visit_id is None):
            errors.present(self.window, "Compare visits", NO_PATIENT)
            return None
        if self._compare_loader is None:  # its own loader: the window's list ignores its films
            self._compare_loader = FilmLoader(isolated=True, parent=self)
        window = open_compare(self.study, self.window.rater, self._compare_loader, patient_id,
                              "cervical", parent=self.window, visit_id=visit_id)  # fmt: skip
        window.view.reason_prompt = self.reason_prompt
        window.view.importRequested.connect(lambda _patient: self.import_films_dialog())
        # after the close: closed by the study's own closing, the study is gone by then
        window.closed.connect(lambda: QTimer.singleShot(0, self, self.refresh))  # type: ignore[arg-type]
        window.view.blindedChanged.connect(self.window.cover_for_blinding)
        window.closed.connect(lambda: self.window.cover_for_blinding(False))
        self.compare_windows.append(window)
        return window

    def shown_visit_id(self) -> int | None:
        """The visit of the study film on screen (None: no study film shown); no query."""
        current = self.window.current
        link = self.links.get(current.path) if current is not None else None
        return link.record.visit_id if link is not None else None

    # --- labs, rater, audit ---------------------------------------------------------------------
    def enter_labs(self, visit_id: int | None = None) -> lab_form.LabForm | None:
        """The visit's lab form: open at once, disabled with "Loading…" until its saved values
        and title are read off the UI thread (:func:`labs_and_title`)."""
        visit_id = visit_id if visit_id is not None else self.browser.selected_visit_id()
        if self.study is None or visit_id is None:
            errors.present(self.window, "Enter labs", "Select a visit in the study browser first.")
            return None
        form = lab_form.LabForm(self.study, visit_id, f"visit #{visit_id}", self.window,
                                reason_prompt=self.reason_prompt, loading=True)  # fmt: skip
        form.accepted.connect(lambda: None if form.kept else self._labs_saved(visit_id))
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.open()

        def arrived(found: tuple[dict[str, Any], str]) -> None:
            if isValid(form) and form.loading:
                form.show_saved(*found)

        self._in_background(self.study, lambda s: labs_and_title(s, visit_id), arrived,
                            what="Reading lab values", reads=True, browser=False)  # fmt: skip
        return form

    def _labs_saved(self, visit_id: int) -> None:
        """The browser's labs mark of the visit, from the stored values (read off the UI thread)."""
        if self.study is None:
            return
        logger.info("Visit #%d: labs saved", visit_id)
        self._in_background(self.study, lambda s: lab_count(s, visit_id),
                            lambda count: self.browser.model.set_labs(visit_id, count),
                            what="Reading lab values", reads=True, browser=False)  # fmt: skip

    def rater_choices(self, seen: set[str] | frozenset[str] = frozenset()) -> list[str]:
        """The window's rater, the raters who measured in the study (``seen``), the login."""
        names = [self.window.rater, *sorted(seen), getpass.getuser()]
        return list(dict.fromkeys(n for n in names if n))

    def choose_rater(self) -> None:
        """Ask who is measuring, offering the study's raters (read off the UI thread first)."""
        if self.study is None:
            self._ask_rater(set())
            return
        self._in_background(self.study, raters_of, self._ask_rater, what="Reading the raters",
                            reads=True, browser=False)  # fmt: skip

    def _ask_rater(self, seen: set[str]) -> None:
        name, ok = QInputDialog.getItem(
            self.window, "Rater", "Who is measuring?", self.rater_choices(seen), 0, True
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

    def verify_audit(self) -> BackgroundJob | None:
        """Recompute the audit's hash chain off the UI thread (progress dialog with Cancel,
        :meth:`~cobbdesk.gui.study.jobs.StudyJobs.start_job`); the result is shown when done
        and kept in :attr:`audit_result` (True intact, False damaged, None cancelled)."""
        study = self.study
        if study is None:
            return None
        self.audit_result: bool | None = None
        return self.start_job("Verifying the audit trail…",
                              lambda _p, cancel: verify_audit_of(study, cancel),
                              lambda result: self._audit_verified(study, result))  # fmt: skip

    def _audit_verified(self, study: Study, result: Verification | None) -> None:
        if result is None or self.study is not study:
            self.window.status.showMessage("Audit verification cancelled.", 8000)
            return
        if result.ok:
            self._inform("Audit trail", f"The audit trail is intact: {result.rows:,} entries.")
        else:
            errors.present(self.window, "Audit trail damaged", result.problem)
        logger.info("Audit verification: %s", "ok" if result.ok else result.problem)
        self.audit_result = result.ok


def verify_audit_of(study: Study, cancel: Callable[[], bool]) -> Verification | None:
    """Worker thread: the audit chain's verification (:meth:`Study.verify_audit`); None when
    cancelled: ``cancel`` is asked between chunks of rows, so Cancel stops the reading."""
    result = study.verify_audit(cancel)
    return None if result.cancelled or cancel() else result


def labs_and_title(study: Study, visit_id: int) -> tuple[dict[str, Any], str]:
    """Worker thread: the visit's saved lab values and its title (:func:`visit_title`)."""
    return study.labs(visit_id), visit_title(study, visit_id)


def visit_title(study: Study, visit_id: int) -> str:
    """Worker thread: the visit's title (study ID · visit; never a name), ``visit #N`` when
    the visit is gone."""
    patient_id = patient_of(study, visit_id=visit_id)
    found = patient_overview(study, patient_id) if patient_id is not None else None
    visit = next((v for v in found.visits if v.visit.id == visit_id), None) if found else None
    if found is None or visit is None:
        return f"visit #{visit_id}"
    return f"{found.patient.study_id} · {visit_label(visit)}"


def lab_count(study: Study, visit_id: int) -> int:
    """Worker thread: how many labs of the visit hold a value (the derived NLR not counted)."""
    return sum(1 for k, v in study.labs(visit_id).items() if k != "nlr" and v is not None)


def raters_of(study: Study) -> set[str]:
    """Worker thread: the raters of the study's measurements."""
    return {m.rater for m in study.measurements()}
