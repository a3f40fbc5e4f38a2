"""Study > Reading plans…: the study's plans with their progress, a new plan, opening a
rater's round (the washout enforced; an override needs a reason and is audited), adjudication.

The progress table shows counts only (done, skipped, remaining per rater and round), never a
value.  While a reading window is open, the main window behind it hides its film view, its
measurement table, its study browser and its film list (file names can carry patient names):
nothing there may show a value or an identifier the reading is blinded to.

Nothing here waits on the study (#15): the plans and the selected plan's progress are read on
the dialog's worker ("Loading…", the buttons disabled until the plans are there, one line and
Retry on failure); a new plan and an opened round are written through the study's write queue
(:func:`~cobbdesk.gui.compare.reads.queued`), whose first attempt's refusal (a name taken, a
washout) is shown at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.reading.plan import ADJUDICATION_ROUND, Plan
from cobbdesk.core.store import Study
from cobbdesk.core.store.outbox import First
from cobbdesk.gui import errors
from cobbdesk.gui.compare.reads import LoadingBar, StudyReader, queued
from cobbdesk.gui.reading.create_dialog import CreatePlanDialog
from cobbdesk.gui.reading.reading_window import ReadingWindow, round_text
from cobbdesk.gui.viewer import prompts

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost

PROGRESS_COLUMNS = ("Rater", "Round", "Done", "Skipped", "Remaining", "Total", "Opened")
COVERED_DOCKS = ("Films", "Raters")
"""Docks of the main window hidden while reading, besides those ``cover_for_blinding`` hides."""


class PlansDialog(QDialog):
    """The study's reading plans (module docstring).  Tests set :attr:`reason_prompt` (the
    washout override's and the reading window's reason) and :attr:`isolated` (films decoded
    in a thread instead of a worker process)."""

    def __init__(self, parent: QWidget | None, study: Study) -> None:
        super().__init__(parent)
        self.study = study
        self.reason_prompt: prompts.ReasonPrompt | None = None
        self.isolated = True
        self.windows: list[ReadingWindow] = []
        self.washout_box: QMessageBox | None = None
        self.create_dialog: CreatePlanDialog | None = None
        self._hidden: list[QDockWidget] = []
        self._plans: list[Plan] = []
        self.loaded = False
        self.reader = StudyReader(study, self, "plans")
        self.bar = LoadingBar(self.retry)
        self._again: Callable[[], None] | None = None
        self.setWindowTitle("Reading plans")
        self.resize(760, 520)
        self._build()
        self.refresh()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.plans = QListWidget()
        self.plans.setMaximumHeight(110)
        self.plans.currentRowChanged.connect(lambda _row: self.show_plan())
        self.description = QLabel("")
        self.description.setWordWrap(True)
        self.progress = QTableWidget(0, len(PROGRESS_COLUMNS))
        self.progress.setHorizontalHeaderLabels(list(PROGRESS_COLUMNS))
        self.progress.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.progress.verticalHeader().hide()
        self.progress.horizontalHeader().setStretchLastSection(True)  # no grey band
        row = QHBoxLayout()
        self.rater = QComboBox()
        self.round = QSpinBox()
        self.round.setRange(1, 1)
        self.round.setPrefix("round ")
        self.open_button = QPushButton("Open as rater")
        self.open_button.clicked.connect(lambda _=False: self.open_as_rater())
        self.adjudicate_button = QPushButton("Adjudicate")
        self.adjudicate_button.clicked.connect(lambda _=False: self.adjudicate())
        self.new_button = QPushButton("New plan…")
        self.new_button.clicked.connect(lambda _=False: self.new_plan())
        for widget in (QLabel("Rater"), self.rater, self.round, self.open_button,
                       self.adjudicate_button):  # fmt: skip
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.new_button)
        for part in (self.bar, QLabel("Plans"), self.plans, self.description, self.progress):
            layout.addWidget(part)
        layout.addLayout(row)

    # --- reads (off the UI thread) ------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """A read of the study is running."""
        return self.reader.running > 0

    def _read(self, what: str, compute: Callable[[Study], Any],
              then: Callable[[Any], None]) -> None:  # fmt: skip
        """``then(compute(study))``: read on the worker ("what…" shown); a failure shows its
        one line with Retry, which reads again."""
        self._again = lambda: self._read(what, compute, then)
        self.bar.loading(f"{what}…")

        def done(result: Any, error: BaseException | None) -> None:
            if error is not None:
                self.bar.failed(f"{what} failed", error)
                return
            if not self.busy:
                self.bar.ready()
            then(result)

        self.reader.run(compute, done)

    def retry(self) -> None:
        """Repeat the read that failed."""
        again, self._again = self._again, None
        if again is not None:
            again()

    # --- plans and progress ------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Re-read the plans off the UI thread (keeping the selection, or selecting
        ``select``); the buttons wait for them."""
        from cobbdesk.core.reading.plan import list_plans

        keep = select or (self.plans.currentItem().text() if self.plans.currentItem() else None)
        self.loaded = False
        for widget in (self.open_button, self.adjudicate_button, self.new_button, self.rater,
                       self.round):  # fmt: skip
            widget.setEnabled(False)
        self._read("Loading the reading plans", list_plans, lambda plans: self._listed(plans, keep))

    def _listed(self, plans: list[Plan], keep: str | None) -> None:
        self._plans, self.loaded = plans, True
        self.plans.blockSignals(True)
        self.plans.clear()
        self.plans.addItems([p.name for p in self._plans])
        names = [p.name for p in self._plans]
        self.plans.setCurrentRow(names.index(keep) if keep in names else len(names) - 1)
        self.plans.blockSignals(False)
        self.new_button.setEnabled(True)
        self.show_plan()

    def selected_plan(self) -> Plan | None:
        row = self.plans.currentRow()
        return self._plans[row] if 0 <= row < len(self._plans) else None

    def show_plan(self) -> None:
        """Description of the selected plan, raters and rounds to open; its progress (counts
        only) follows from a read off the UI thread."""
        plan = self.selected_plan()
        for widget in (self.open_button, self.rater, self.round):
            widget.setEnabled(plan is not None and self.loaded)
        self.adjudicate_button.setEnabled(plan is not None and self.loaded
                                          and bool(plan.adjudicator)
                                          and plan.adjudicate_above_deg is not None)  # fmt: skip
        self.progress.setRowCount(0)
        if plan is None:
            self.description.setText("No reading plan yet: New plan… creates one.")
            return
        self.description.setText(plan.describe())
        if [self.rater.itemText(i) for i in range(self.rater.count())] != list(plan.raters):
            self.rater.clear()
            self.rater.addItems(list(plan.raters))
        self.round.setRange(1, plan.rounds)
        self._read("Loading the progress", lambda study: _status_or_error(study, plan),
                   lambda found: self._show_status(plan, found))  # fmt: skip

    def _show_status(self, plan: Plan, found: Any) -> None:
        if self.selected_plan() != plan:
            return  # another plan was selected meanwhile
        if isinstance(found, ValidationError):
            self.description.setText(f"{plan.describe()}\n{found.message}")
            return
        self.progress.setRowCount(len(found))
        for r, s in enumerate(found):
            values = (s.rater, round_text(s.round), s.read, s.skipped, s.remaining, s.total,
                      "yes" if s.opened else "no")  # fmt: skip
            for c, value in enumerate(values):
                self.progress.setItem(r, c, QTableWidgetItem(str(value)))

    def new_plan(self) -> CreatePlanDialog:
        """The form of a new plan; accepted, the plan is created (a refusal is shown and the
        form stays open)."""
        dialog = CreatePlanDialog(self)
        dialog.buttons.accepted.disconnect()
        dialog.buttons.accepted.connect(lambda: self.create_from(dialog))
        self.create_dialog = dialog
        dialog.open()
        return dialog

    def create_from(self, dialog: CreatePlanDialog) -> Plan | None:
        """Create the plan of ``dialog`` through the study's write queue; a refusal is shown
        and the form stays open.  None when refused or kept for the server."""
        from cobbdesk.core.reading.plan import create_plan

        study, spec = self.study, dialog.spec()
        try:
            first, plan = queued(study, lambda: create_plan(study, spec),
                                 "creating a reading plan")  # fmt: skip
        except CobbdeskError as exc:
            errors.report(self, exc, "Creating a reading plan")
            return None
        dialog.accept()
        if first is First.KEPT or plan is None:
            self.description.setText(f"Plan {spec.name} is kept and created when the server "
                                     "answers; Retry lists it then.")  # fmt: skip
            return None
        self.refresh(select=plan.name)
        return plan

    # --- opening a round -----------------------------------------------------------------------
    def open_as_rater(self, rater: str | None = None, round_no: int | None = None) -> Any:
        """Open the chosen rater's round (the washout applies: a refusal offers an override)."""
        from cobbdesk.core.reading.rounds import WashoutError

        plan = self.selected_plan()
        if plan is None:
            return None
        rater = rater or self.rater.currentText()
        round_no = round_no if round_no is not None else self.round.value()
        try:
            self._open_round(plan, rater, round_no)
        except WashoutError as exc:
            self._offer_override(plan, rater, round_no, exc.message)
            return None
        except CobbdeskError as exc:
            errors.report(self, exc, "Opening a reading round")
            return None
        return self._reading(plan, rater, round_no)

    def _offer_override(self, plan: Plan, rater: str, round_no: int, why: str) -> None:
        text = why.replace(" (an override needs a reason)", "")
        box = QMessageBox(QMessageBox.Icon.Warning, "Washout", text,
                          QMessageBox.StandardButton.Cancel, self)  # fmt: skip
        box.setInformativeText("Opening the round early is recorded in the audit trail with "
                               "your reason.")  # fmt: skip
        override = box.addButton("Override with a reason…", QMessageBox.ButtonRole.ActionRole)
        box.buttonClicked.connect(
            lambda button: self.override(plan, rater, round_no) if button is override else None
        )
        box.setModal(False)
        self.washout_box = box
        box.open()

    def override(self, plan: Plan, rater: str, round_no: int) -> ReadingWindow | None:
        """Open the round before its washout has passed, with the user's reason (audited)."""
        prompt = self.reason_prompt or prompts.ask_reason
        reason = prompt(self, f"Open {round_text(round_no)} of plan {plan.name} for {rater} "
                              "before the washout has passed.")  # fmt: skip
        if not reason or not reason.strip():
            errors.present(self, "Washout", "Not opened: an override needs a reason.")
            return None
        try:
            self._open_round(plan, rater, round_no, reason)
        except CobbdeskError as exc:
            errors.report(self, exc, "Opening a reading round")
            return None
        return self._reading(plan, rater, round_no)

    def adjudicate(self) -> ReadingWindow | None:
        """The adjudicator's list: films whose raters differ by more than the threshold."""
        from cobbdesk.core.reading.adjudication import adjudicator_of

        plan = self.selected_plan()
        if plan is None:
            return None
        try:
            adjudicator = adjudicator_of(plan)
            self._open_round(plan, adjudicator, ADJUDICATION_ROUND)
        except CobbdeskError as exc:
            errors.report(self, exc, "Adjudication")
            return None
        return self._reading(plan, adjudicator, ADJUDICATION_ROUND)

    def _open_round(self, plan: Plan, rater: str, round_no: int, reason: str = "") -> None:
        """Open the round through the study's write queue (a kept one opens when the server
        answers, before any reading of it is saved: the queue keeps the order)."""
        from cobbdesk.core.reading.rounds import open_round

        study = self.study
        queued(study, lambda: open_round(study, plan, rater, round_no, override_reason=reason),
               f"opening {round_text(round_no)} of plan {plan.name}")  # fmt: skip

    def _reading(self, plan: Plan, rater: str, round_no: int) -> ReadingWindow:
        from cobbdesk.gui.workers import FilmLoader

        loader = None if self.isolated else FilmLoader(isolated=False, parent=self)
        window = ReadingWindow(self.study, plan, rater, round_no, loader, self.parentWidget())
        window.reason_prompt = self.reason_prompt
        window.closed.connect(lambda: self._closed(window))
        window.roundComplete.connect(self.show_plan)
        self.windows.append(window)
        self._cover(True)
        window.show()
        self.show_plan()
        return window

    def _closed(self, window: ReadingWindow) -> None:
        if window in self.windows:
            self.windows.remove(window)
        if not self.windows:
            self._cover(False)
        self.show_plan()

    def _cover(self, on: bool) -> None:
        """Hide (and show again) what the main window behind could reveal (module docstring)."""
        host: Any = self.parentWidget()
        if host is None or not hasattr(host, "cover_for_blinding"):
            return
        if on:
            host.cover_for_blinding(True, "reading")  # saves the layout first: restored as it was
        if on and not self._hidden:
            docks = [host.findChild(QDockWidget, n) for n in COVERED_DOCKS]
            self._hidden = [d for d in docks if d is not None and d.isVisible()]
            for dock in self._hidden:
                dock.hide()
        elif not on:
            for dock in self._hidden:
                dock.show()
            self._hidden = []
            host.cover_for_blinding(False, "reading")  # last: the saved layout, exactly
        if on:
            host.statusBar().showMessage("Hidden while a reading window is open.")


def _status_or_error(study: Study, plan: Plan) -> Any:
    """Worker thread: the plan's round statuses (counts only), or the plan's refusal (a
    ValidationError, shown under its description); a store fault (server away…) is raised:
    shown with Retry."""
    from cobbdesk.core.reading.adjudication import plan_status

    try:
        return plan_status(study, plan)
    except ValidationError as exc:
        return exc


def open_plans_dialog(window: WindowHost) -> PlansDialog | None:
    """Study > Reading plans… (nothing without an open study)."""
    study = window.session.study
    if study is None:
        errors.present(window, "Reading plans", "Open a study first (Study > Open study…).")
        return None
    dialog = PlansDialog(window, study)  # type: ignore[arg-type]
    dialog.setModal(False)  # the reading windows it opens must take input
    dialog.show()
    return dialog


__all__ = ["PlansDialog", "open_plans_dialog"]
