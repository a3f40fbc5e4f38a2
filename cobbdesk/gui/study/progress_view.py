"""The "Raters" panel: every rater's progress beside the study browser, blinded by reading plans.

It shows :func:`~cobbdesk.core.reading.progress.team_progress` for the window's rater (and, on
a server, the database role it logged in as): clinical measurements per rater (films measured,
patients with both visits measured per region, last change) and each reading plan's rounds.
Where a plan blinds the viewer, only the viewer's own rounds appear, with the line "Other
raters' progress hidden by plan X" — the hidden rows are never read from the database.

The panel is refreshed whenever the study browser is (:meth:`StudySession.refresh`: on opening
and when the audit-head poll of :mod:`~cobbdesk.gui.study.watch` sees another change) and when
the rater changes.  The query runs on the panel's own worker thread; results come back through
a :class:`~cobbdesk.gui.dispatch.UiDispatcher`, and one of an earlier refresh is dropped.
"""

from __future__ import annotations

import html
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTextBrowser, QVBoxLayout, QWidget

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.gui.dispatch import OneAtATime, UiDispatcher

if TYPE_CHECKING:
    from cobbdesk.core.reading.progress import PlanProgress, TeamProgress
    from cobbdesk.core.store import Study

DOCK_NAME = "Raters"
_EMPTY = "<p>No study open.</p>"
_STYLE = "<style>td, th { padding: 1px 4px; white-space: nowrap; } th { text-align: left; }</style>"


def viewer_of(study: Study) -> frozenset[str]:
    """The names the window's user is known by in the study: the rater name, and on a server
    the database role (on a file, the OS login is not a rater identity)."""
    from cobbdesk.core.reading.progress import viewer_names

    return viewer_names(study.actor.rater, study.actor.user if study.server else "")


def compute(study: Study) -> TeamProgress:
    """Worker thread: the team's progress as the study's current viewer may see it."""
    from cobbdesk.core.reading.progress import team_progress

    return team_progress(study, viewer_of(study))


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """An HTML table; "\n" in a cell is a line break (cells never break inside a word)."""
    head = "".join(f"<th>{html.escape(h).replace(chr(10), '<br>')}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(c).replace(chr(10), '<br>')}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _when(moment: datetime | None) -> str:
    """Local date and time on two lines (the narrowest column that still reads)."""
    return moment.astimezone().strftime("%Y-%m-%d\n%H:%M") if moment is not None else "—"


def _plan_html(plan: PlanProgress) -> str:
    parts = [f"<h4>Plan {html.escape(plan.plan)}</h4>"]
    rows = [
        (r.rater, "adjud." if r.round == 0 else str(r.round), f"{r.done} of {r.total}",
         str(r.skipped), "open" if r.opened else "not open")
        for r in plan.rounds
    ]  # fmt: skip
    if rows:
        parts.append(_table(("Rater", "Round", "Read", "Skipped", "State"), rows))
    if plan.hidden:
        note = plan.note[0].upper() + plan.note[1:]
        parts.append(f"<p><i>{html.escape(note)} (blinded).</i></p>")
    return "".join(parts)


def progress_html(team: TeamProgress) -> str:
    """The panel's page: the clinical table, then each plan (module docstring)."""
    parts = [_STYLE, "<h4>Clinical measurements</h4>"]
    if team.clinical:
        rows = [
            (r.rater, str(r.films_measured), str(r.both_visits.get("cervical", 0)),
             str(r.both_visits.get("lumbar", 0)), _when(r.last_activity))
            for r in team.clinical
        ]  # fmt: skip
        header = ("Rater", "Films", "Cervical\npairs", "Lumbar\npairs", "Last\nchange")
        parts.append(_table(header, rows))
        parts.append("<p><small>Films: films with a measurement by the rater. Pairs: patients "
                     "whose admission and month-3 films of the region are both measured."
                     "</small></p>")  # fmt: skip
    else:
        parts.append("<p>No clinical measurements yet.</p>")
    for plan in team.plans:
        parts.append(_plan_html(plan))
    return "".join(parts)


class RatersPanel(QWidget):
    """The panel (module docstring); :meth:`show_study` with the open study (None: closed)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = QTextBrowser()
        self.view.setOpenLinks(False)
        self.view.setHtml(_EMPTY)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.study: Study | None = None
        self.dock: QDockWidget | None = None
        self.placed = False  # the dock was shown (or restored) once: keep where the user put it
        self._generation = 0
        self._runs = OneAtATime(self._run)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cobbdesk-raters")
        self._dispatch = UiDispatcher(self)

    def text(self) -> str:
        """What the panel shows, as plain text (tests)."""
        return self.view.toPlainText()

    def show_study(self, study: Study | None) -> None:
        """Show ``study``'s progress (recomputed off the UI thread); None clears the panel."""
        if study is not self.study:
            self._generation += 1
            self.study = study
        if study is None:
            self.view.setHtml(_EMPTY)
            return
        self._reveal()
        self.refresh()

    def refresh(self) -> None:
        """Recompute for the current study (one read at a time; a request while one runs
        is served once it ends)."""
        if self.study is not None:
            self._runs.request()

    def _run(self) -> None:
        study = self.study
        if study is None:
            self._runs.finished()
            return
        generation = self._generation
        self._dispatch.expect()

        def work() -> None:  # worker thread: no Qt
            try:
                result: Any = compute(study)
            except Exception as exc:
                result = exc
            finally:
                study.release_if_closed()  # the study closed while this ran
            self._dispatch.post(self._arrived, generation, result)

        self._pool.submit(work)

    def _arrived(self, generation: int, result: Any) -> None:
        self._dispatch.done()
        if generation == self._generation and self.study is not None:
            if isinstance(result, CobbdeskError):
                self.view.setHtml(f"<p>Progress not available: {html.escape(result.message)}</p>")
            elif isinstance(result, Exception):
                self.view.setHtml(f"<p>Progress not available ({type(result).__name__}).</p>")
            else:
                self.view.setHtml(progress_html(result))
        self._runs.finished(again=generation != self._generation and self.study is not None)

    def _reveal(self) -> None:
        """First study: show the dock, tabbed behind the study browser unless restored."""
        dock = self.dock
        if dock is None or self.placed:
            return
        self.placed = True
        window = dock.parentWidget()
        beside = window.findChild(QDockWidget, "Study") if window is not None else None
        if isinstance(window, QMainWindow) and beside is not None:
            window.tabifyDockWidget(beside, dock)
            dock.show()
            beside.raise_()
        else:
            dock.show()

    def shutdown(self) -> None:
        """Stop the worker thread (waits for a running read)."""
        self._generation += 1
        self._pool.shutdown(wait=True, cancel_futures=True)


def mount_panel(window: QMainWindow, panel: RatersPanel) -> QDockWidget:
    """Put ``panel`` in a "Raters" dock of ``window`` (hidden until a study opens; a dock
    layout saved with it is restored)."""
    dock = QDockWidget(DOCK_NAME, window)
    dock.setObjectName(DOCK_NAME)
    dock.setWidget(panel)
    panel.dock = dock
    if window.restoreDockWidget(dock):  # before addDockWidget: True only for a saved layout
        panel.placed = True  # the layout the user left
        return dock
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    dock.hide()
    return dock
