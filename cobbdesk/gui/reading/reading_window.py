"""The reading view: one rater's worklist of one round, one film at a time, blinded.

It is the viewer without the study browser, the film list or the measurement table of the
main window: the film of the current worklist position, the plan's template already started
(only that template), snapping as the plan says, and nothing of another rater, another round
or the other visit — the session holds only the rater's own reading of this film in this
round (:func:`~cobbdesk.core.reading.readings.own_readings`) and writes through a
:class:`~cobbdesk.core.reading.readings.ReadingStore` (never the clinical measurements).

The window title carries the progress, ``Reading plan rel — rater A, round 1 — 17 of 96``
(no patient ID, visit, date or file name anywhere in the window).  "Next" goes to the next
film still to read (a film must be read or skipped first), "Skip with reason…" stores a skip,
and when nothing is left the window says the round is complete.

Nothing here waits on the study (#15): the worklist and the film's record, calibration and own
reading are read on the window's worker (:mod:`~cobbdesk.gui.reading.reads`; "Loading…" with
the buttons disabled, one line and Retry on failure), and every write (readings, skips) goes
through the study's write queue.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QTableWidgetItem, QWidget

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.measure.formatting import angle_text
from cobbdesk.core.measure.measurement import Template
from cobbdesk.core.reading.plan import ADJUDICATION_ROUND, Plan
from cobbdesk.core.reading.rounds import WorklistItem
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.core.store.outbox import First
from cobbdesk.gui import errors
from cobbdesk.gui.compare.reads import LoadingBar, StudyReader, queued
from cobbdesk.gui.reading.reading_panel import ReadingPanel
from cobbdesk.gui.reading.reads import FilmState, read_film_state, read_items
from cobbdesk.gui.viewer import prompts
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_tool import MeasureController
from cobbdesk.gui.workers import FilmLoader

SKIP_QUESTION = (
    "Why is this film skipped? (e.g. unreadable film, C7 not visible behind the shoulders; "
    "kept with the plan)"
)


def round_text(round_no: int) -> str:
    return "adjudication" if round_no == ADJUDICATION_ROUND else f"round {round_no}"


def reading_title(plan: Plan, rater: str, round_no: int, where: str) -> str:
    """``Reading plan rel — rater A, round 1 — 17 of 96`` (``where``: the last part)."""
    return f"Reading plan {plan.name} — rater {rater}, {round_text(round_no)} — {where}"


class ReadingWindow(QMainWindow):
    """One rater × round of a plan (module docstring); ``reason_prompt`` answers the skip and
    adjustment questions in tests."""

    roundComplete = Signal()
    closed = Signal()

    def __init__(  # noqa: PLR0917 - the reading's address
        self, study: Study, plan: Plan, rater: str, round_no: int,
        loader: FilmLoader | None = None, parent: QWidget | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.study, self.plan, self.rater, self.round_no = study, plan, rater, round_no
        self.reason_prompt: prompts.ReasonPrompt | None = None
        self.loader = loader or FilmLoader(isolated=True, parent=self)
        self._own_loader = loader is None
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self._failed)
        self.items: list[WorklistItem] = []
        self.current: WorklistItem | None = None
        self.record: FilmRecord | None = None
        self.controller: MeasureController | None = None
        self.complete = False
        self._loading: str | None = None
        self._state: FilmState | None = None
        self.reader = StudyReader(study, self, "reading")
        self.bar = LoadingBar(self.retry)
        self._again: Callable[[], None] | None = None
        self.view = FilmView(self)
        self.view.refit_on_resize = True
        self._build()
        self.resize(1300, 900)
        self.go_next(start=True)

    # --- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        central = QWidget()
        row = QHBoxLayout(central)
        row.addWidget(self.view, 1)
        heading = f"Plan {self.plan.name} · rater {self.rater} · {round_text(self.round_no)}"
        panel = ReadingPanel(heading, self.plan.snapping, self.bar)
        self.heading, self.progress, self.template = panel.heading, panel.progress, panel.template
        self.snapping, self.prompt, self.message = panel.snapping, panel.prompt, panel.message
        self.table, self.again, self.done = panel.table, panel.again, panel.done
        self.next_button, self.skip_button = panel.next_button, panel.skip_button
        self.again.clicked.connect(self.measure_again)
        self.next_button.clicked.connect(lambda _=False: self.go_next())
        self.skip_button.clicked.connect(lambda _=False: self.skip())
        row.addWidget(panel)
        self.setCentralWidget(central)

    # --- reads (off the UI thread) ------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """A read of the study is running (the buttons are disabled meanwhile)."""
        return self.reader.running > 0

    def _read(self, what: str, compute: Callable[[Study], Any],
              then: Callable[[Any], None]) -> None:  # fmt: skip
        """``then(compute(study))``: read on the worker ("what…" shown, buttons disabled);
        a failure shows its one line with Retry, which reads again."""
        self._again = lambda: self._read(what, compute, then)
        self.bar.loading(f"{what}…")

        def done(result: Any, error: BaseException | None) -> None:
            if error is not None:
                self.bar.failed(f"{what} failed", error)
            else:
                self.bar.ready()
                then(result)
            self._enable()

        self.reader.run(compute, done)
        self._enable()

    def retry(self) -> None:
        """Repeat the read that failed."""
        again, self._again = self._again, None
        if again is not None:
            again()

    def _enable(self) -> None:
        idle = not self.busy and not self.complete
        self.next_button.setEnabled(idle)
        self.skip_button.setEnabled(idle and self.current is not None)
        self.again.setEnabled(idle and self.controller is not None)

    # --- the worklist --------------------------------------------------------------------------
    def _has_reading(self) -> bool:
        return self.controller is not None and len(self.controller.measurements) > 0

    def go_next(self, start: bool = False) -> bool:
        """Read the worklist as stored now and show the next film still to read after the
        current one (wrapping); the current film must be read or skipped first.  False when
        refused, True when the worklist is being read."""
        if not start and self.current is not None and not self._has_reading():
            self._say("Measure this film, or skip it with a reason, before the next one.")
            return False
        plan, rater, round_no = self.plan, self.rater, self.round_no
        self._read("Loading the worklist", lambda s: read_items(s, plan, rater, round_no),
                   self._next_of)  # fmt: skip
        return True

    def _next_of(self, items: list[WorklistItem]) -> None:
        self.items = items
        if self.current is not None:
            self.current = next((i for i in items if i.film_id == self.current.film_id),
                                self.current)  # fmt: skip
        after = self.current.position if self.current is not None else 0
        left = [i for i in items if i.state == "to read"]
        following = [i for i in left if i.position > after] + [
            i for i in left if i.position <= after]  # fmt: skip
        if not following:
            self._complete()
        else:
            self.show_item(following[0])

    def show_item(self, item: WorklistItem) -> None:
        """Show the film at ``item`` (the title shows its position): its record, calibration
        and own reading are read first, then the film decodes."""
        self._detach()
        self.current, self.record, self._state = item, None, None
        where = f"{item.position} of {len(self.items)}"
        self.setWindowTitle(reading_title(self.plan, self.rater, self.round_no, where))
        self.progress.setText(where)
        self.template.setText(f"Template {item.template.replace('-', '–')} (the plan's)")
        self.message.clear()
        self.table.setRowCount(0)
        plan, rater, round_no = self.plan, self.rater, self.round_no
        self._read("Loading the film",
                   lambda s: read_film_state(s, plan, rater, round_no, item.film_id),
                   lambda state: self._film_state(item, state))  # fmt: skip

    def _film_state(self, item: WorklistItem, state: FilmState) -> None:
        if item is not self.current:
            return
        self.record, self._state = state.record, state
        if not state.exists:
            self._say(f"The film at position {item.position} is not where the study expects it: "
                      "skip it with a reason, or relink it in the study first.")  # fmt: skip
            return
        self._loading = str(Path(state.record.path))
        self.prompt.setText("Loading the film…")
        self.loader.load(Path(state.record.path))

    def _failed(self, path: str, _message: str) -> None:
        if path == self._loading and self.current is not None:
            self._loading = None
            self._say(f"The film at position {self.current.position} cannot be opened: skip it "
                      "with a reason.")  # fmt: skip

    def _loaded(self, path: str, film: Film) -> None:
        if path != self._loading or self.current is None or self.record is None:
            return
        self._loading = None
        from cobbdesk.core.importing.relink import from_saved, mismatch

        own = self._state.own if self._state is not None else []
        if mismatch(from_saved(self.record, own), film) is not None:  # values unsaid: blinded
            self._say(f"The file at position {self.current.position} is not the study's film "
                      "(other pixels, UID or header than the study recorded): skip it with a "
                      "reason.")  # fmt: skip
            return
        try:
            self.controller = self._controller(film)
        except CobbdeskError as exc:
            errors.report(self, exc, f"Opening position {self.current.position}")
            return
        self.view.set_film(film)
        self.controller.attach(self.view)
        self._refresh_reading()
        if not self._has_reading():
            self.controller.start_placement(Template(self.current.template))
        self._enable()

    def _controller(self, film: Film) -> MeasureController:
        """A controller measuring through the rater's own reading of this film only (read with
        the film's state; no read here), writing through the study's write queue."""
        from cobbdesk.core.measure.interaction import FilmContext
        from cobbdesk.core.measure.session import MeasurementSession
        from cobbdesk.core.reading.readings import ReadingStore
        from cobbdesk.core.store.calibration import apply_calibration
        from cobbdesk.gui.reading.reads import QueuedReadingStore

        assert self.record is not None and self.current is not None and self._state is not None
        if self._state.calibration is not None:
            apply_calibration(film, self._state.calibration)
        where = f"position {self.current.position} of plan {self.plan.name}"
        store = QueuedReadingStore(ReadingStore(self.study, self.plan, self.rater, self.round_no,
                                                self.record.id), where)  # fmt: skip
        session = MeasurementSession(
            FilmContext.from_film(film, self.rater), store, list(self._state.own),
            facing=self.record.facing,
            facing_source=self.record.facing_source, ask_reason=self._ask_reason,
        )  # fmt: skip
        controller = MeasureController(film, self.rater, self)
        controller.set_snapping(self.plan.snapping)
        controller.bind(session)
        controller.measurementsChanged.connect(self._refresh_reading)
        controller.promptChanged.connect(self.prompt.setText)
        controller.messageChanged.connect(self._say)
        return controller

    def _ask_reason(self, changes: object) -> str | None:
        assert self.current is not None
        prompt = self.reason_prompt or prompts.ask_reason
        what = prompts.reason_text(f"position {self.current.position}", changes)  # type: ignore[arg-type]
        return prompt(self, what)

    def _refresh_reading(self) -> None:
        """The table shows the rater's own reading of this film in this round (nothing else)."""
        if self.controller is None:
            return
        readings = list(self.controller.measurements.values())
        self.table.setRowCount(len(readings))
        for row, m in enumerate(readings):
            angle = angle_text(m.angle, calibrated=m.spacing is not None)
            self.table.setItem(row, 0, QTableWidgetItem(m.template.value.replace("-", "–")))
            self.table.setItem(row, 1, QTableWidgetItem(angle))
        if readings:
            self.prompt.setText("Saved. Adjust the lines if needed, then Next.")

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.statusBar().showMessage(text, 8000)

    # --- actions -------------------------------------------------------------------------------
    def measure_again(self) -> None:
        """Remove this film's reading (a reason is asked once it is settled) and start over."""
        if self.controller is None or self.current is None:
            return
        for mid in list(self.controller.measurements):
            self.controller.select(mid)
            self.controller.delete_selected()
        if not self._has_reading():
            self.controller.start_placement(Template(self.current.template))

    def skip(self, reason: str | None = None) -> bool:
        """Skip the current film with a reason (asked when not given); then the next film."""
        from cobbdesk.core.reading.readings import skip_film

        if self.current is None or self.complete:
            return False
        if self._has_reading():
            self._say("This film is read: remove the reading (Measure again) to skip it.")
            return False
        if reason is None:
            prompt = self.reason_prompt or prompts.ask_reason
            reason = prompt(self, SKIP_QUESTION)
        if not reason or not reason.strip():
            self._say("Not skipped: a skip needs a reason.")
            return False
        study, plan, rater, round_no = self.study, self.plan, self.rater, self.round_no
        film_id, position = self.current.film_id, self.current.position
        try:  # through the study's write queue (off the UI thread)
            first, _ = queued(study, lambda: skip_film(study, plan, rater, round_no, film_id,
                                                       reason),
                              f"skipping position {position} of plan {plan.name}")  # fmt: skip
        except CobbdeskError as exc:
            errors.report(self, exc, f"Skipping position {position}")
            return False
        self._detach()
        self.go_next(start=True)
        if first is First.KEPT:
            self._say(f"The skip of position {position} is kept and saved when the server "
                      "answers.")  # fmt: skip
        return True

    def _complete(self) -> None:
        self._detach()
        self.current = None
        self.complete = True
        self.view.set_film(None)
        read = sum(i.state == "read" for i in self.items)
        skipped = sum(i.state == "skipped" for i in self.items)
        self.setWindowTitle(reading_title(self.plan, self.rater, self.round_no, "round complete"))
        self.progress.setText(f"{len(self.items)} of {len(self.items)}")
        self.template.clear()
        self.prompt.clear()
        self.table.setRowCount(0)
        self.done.setText(f"Round complete: {read} read, {skipped} skipped. You can close this "
                          "window.")  # fmt: skip
        self._enable()  # all off: the round is complete
        self.statusBar().showMessage("Round complete.")
        self.roundComplete.emit()

    def _detach(self) -> None:
        if self.controller is not None:
            self.controller.detach()
            self.controller.deleteLater()
        self.controller = None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.reader.close()
        self._detach()
        if self._own_loader:
            self.loader.close()
        super().closeEvent(event)
        self.closed.emit()


__all__ = ["SKIP_QUESTION", "ReadingWindow", "reading_title", "round_text"]
