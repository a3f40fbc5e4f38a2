"""The main window: film list, film view, measurement panel, status bar, menus.

Opening, loading and closing its films is :mod:`~cobbdesk.gui.window_films` (a mixin); the
layout and the blinding cover are :mod:`~cobbdesk.gui.window_layout`.
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QListWidget, QMainWindow, QMessageBox

from cobbdesk import __version__
from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.measure.measurement_files import save_sidecar, write_measurements_csv
from cobbdesk.gui import errors, settings, window_layout
from cobbdesk.gui.actions import build_actions
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_panel import MeasurePanel
from cobbdesk.gui.viewer.status import StatusBar, cursor_text, spacing_text, window_text
from cobbdesk.gui.window_films import PHOTO_FILTER, STUDY_SUFFIX, OpenFilm, WindowFilms
from cobbdesk.gui.workers import FilmLoader

EMPTY_HINT = (
    "Double-click a film in the study browser to measure it,\n"
    "or open films (Ctrl+O) or drop them here."
)
"""Shown in the middle of the film view while no film is on it."""

if TYPE_CHECKING:
    from cobbdesk.gui.demo import DemoGenerator
    from cobbdesk.gui.study.session import StudySession


class MainWindow(WindowFilms, QMainWindow):
    def __init__(self, rater: str | None = None, loader: FilmLoader | None = None) -> None:
        super().__init__()
        self.session_recent: list[Path] = []  # films opened outside a study (not saved)
        self.setWindowTitle(f"CobbDesk {__version__}")
        window_layout.default_size(self)
        self.setAcceptDrops(True)
        self.confirm_close = True
        self.films: list[OpenFilm] = []
        self.current: OpenFilm | None = None
        self.rater = rater or str(settings.settings().value("rater", "")) or getpass.getuser()
        self.loader = loader or FilmLoader(isolated=True, parent=self)
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self._failed)
        self.demo: DemoGenerator | None = None  # the demo being generated (gui.demo)
        self.demos: list[DemoGenerator] = []  # demo folders of this run, removed at close
        self._film_messages: set[str] = set()
        self.view = FilmView(self)
        self.view.refit_on_resize = True  # the film is the workspace: it follows the window
        self.view.empty_hint = EMPTY_HINT
        self.status = StatusBar()
        self.blinding = window_layout.BlindingCover(self, self.view, self.status)
        self.centre = self.blinding.centre  # the view, or a blank page while blinded
        self.setCentralWidget(self.centre)
        self.film_list = QListWidget()
        self.film_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long names: tooltip
        self.film_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.film_list.currentRowChanged.connect(self._show_row)
        window_layout.add_dock(self, "Films", self.film_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.panel = MeasurePanel(self.rater)
        self.panel.raterChanged.connect(self._set_rater)
        window_layout.add_dock(self, "Measurements", self.panel,
                               Qt.DockWidgetArea.RightDockWidgetArea)  # fmt: skip
        self.setStatusBar(self.status)
        self.loader.pendingChanged.connect(self.status.set_loading)
        self.view.cursorMoved.connect(self._cursor)
        self.view.cursorLeft.connect(self.status.cursor.clear)
        self.view.windowDragged.connect(self._window_dragged)
        self._session: StudySession | None = None  # created on first use (loads the store)
        self.actions_by_name: dict[str, QAction] = build_actions(self)
        window_layout.dock_widths(self)
        self.restore_layout()
        self.status.showMessage("Open lateral spine films (Ctrl+O) or drop them here.")

    # --- layout (gui.window_layout) ----------------------------------------------------------
    def restore_layout(self) -> bool:
        """Window size and dock layout of the last run (False when none was saved)."""
        saved, self._layout_restored = window_layout.restore(self)
        return saved

    def save_layout(self) -> None:
        study = self._session.study if self._session is not None else None
        window_layout.save(self, study.path if study is not None else None)

    def cover_for_blinding(self, on: bool, by: str = "compare") -> None:
        """Hide the film, the measurement table, the study browser and the film's readouts
        while a blinded window (``by``: compare, reading) is open over this one; shown again,
        as they were, when none is (:class:`~cobbdesk.gui.window_layout.BlindingCover`)."""
        self.blinding.cover(on, by)

    @property
    def session(self) -> StudySession:
        """The open study (browser, autosave, labs), created on first use.

        Creating it imports the study store (SQLAlchemy): deferring it keeps it out of the
        time to the first paint.
        """
        if self._session is None:
            from cobbdesk.gui.study.session import StudySession

            self._session = StudySession(self)
            dock, restored = window_layout.study_dock(self, self._session.browser,
                                                      self._layout_restored)  # fmt: skip
            self._session.mount(dock)  # the Raters dock, tabbed with it
            self._session.restored = restored  # placed as last time
            if not restored:
                window_layout.tab_under_films(self, dock)
        return self._session

    # --- showing ------------------------------------------------------------------------
    def _show_row(self, row: int) -> None:
        entry = self.films[row] if 0 <= row < len(self.films) else None
        if entry is self.current and entry is not None and self.view.film is entry.film:
            return
        if self.current is not None and self.current.controller is not None:
            self.current.controller.detach()
        self.current = entry
        self.status.clear_film()  # no cursor, window or message of the previous film
        if self.status.currentMessage() in self._film_messages:
            self.status.clearMessage()  # the previous film's error or notice
        self._film_messages.clear()
        self.panel.message.clear()
        film = entry.film if entry else None
        self.view.set_film(film)
        controller = entry.controller if entry else None
        if controller is not None:
            controller.attach(self.view)
        self.panel.set_controller(controller)
        self.update_undo_actions()
        self.status.spacing.setText(spacing_text(film))
        if entry is not None and entry.error:
            self._film_message(entry.error)
        elif film is not None and film.notices:
            self._film_message(f"{entry.path.name}: {film.notices[0]}", 8000)  # type: ignore[union-attr]

    def show_spacing(self) -> None:
        """The status bar's spacing of the film on screen; also after its measurements
        changed, as when another window's calibration reaches it (:mod:`~cobbdesk.gui.
        film_follow` respaces them): the readout never keeps the old spacing."""
        self.status.spacing.setText(spacing_text(self.view.film))

    def _film_message(self, text: str, timeout: int = 0) -> None:
        """A message about one film (its error, a notice): cleared when another is shown."""
        self.status.showMessage(text, timeout)
        self._film_messages.add(self.status.currentMessage())

    def undo(self, redo: bool = False) -> None:
        """Undo (or redo) on the film on screen, under its session's policy."""
        controller = self.current.controller if self.current is not None else None
        if controller is not None:
            (controller.redo if redo else controller.undo)()

    def update_undo_actions(self) -> None:
        controller = self.current.controller if self.current is not None else None
        for name, can, text in (
            ("undo", controller is not None and controller.can_undo, "&Undo"),
            ("redo", controller is not None and controller.can_redo, "&Redo"),
        ):
            action = self.actions_by_name.get(name)
            if action is not None:
                what = (controller.undo_text if name == "undo" else controller.redo_text) \
                    if controller is not None else ""  # fmt: skip
                action.setEnabled(can)
                action.setText(f"{text} {what}".strip())

    def step_film(self, delta: int) -> None:
        if self.films:
            self.film_list.setCurrentRow((self.film_list.currentRow() + delta) % len(self.films))

    def _window_dragged(self, window: object) -> None:
        if window is not None:
            self.status.window_level.setText(window_text(self.view.film, window))  # type: ignore[arg-type]

    def _cursor(self, x: float, y: float) -> None:
        item = self.view.item
        value = item.value_at(x, y) if item else None
        self.status.cursor.setText(cursor_text(self.view.film, x, y, value))

    def _set_rater(self, rater: str) -> None:
        self.rater = rater.strip() or getpass.getuser()
        settings.settings().setValue("rater", self.rater)
        for entry in self.films:
            if entry.controller is not None:
                entry.controller.rater = self.rater

    # --- saving -------------------------------------------------------------------------
    def save_measurements(self) -> int:
        """Write each film's measurements next to it (``<film>.cobbdesk.json``)."""
        saved = 0
        for entry in self.films:
            if entry.controller is None or entry.controller.is_clean():
                continue
            try:
                save_sidecar(list(entry.controller.measurements.values()), entry.path)
            except (OSError, CobbdeskError) as exc:
                errors.report(self, exc, f"Saving measurements of {entry.path.name}")
                continue
            entry.controller.set_clean()
            saved += 1
        self.status.showMessage(f"Saved measurements of {saved} film(s).", 5000)
        return saved

    def export_csv(self, path: Path | None = None) -> Path | None:
        if path is None:
            name, _ = QFileDialog.getSaveFileName(
                self, "Export measurements", "cobb_measurements.csv", "CSV (*.csv)"
            )
            if not name:
                return None
            path = Path(name)
        rows = [m for e in self.films if e.controller for m in e.controller.measurements.values()]
        try:
            written = write_measurements_csv(rows, path)
        except (OSError, CobbdeskError) as exc:
            errors.report(self, exc, "Exporting measurements")
            return None
        self.status.showMessage(f"Exported {len(rows)} measurement(s) to {written.name}.", 5000)
        return written

    # --- window events ------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        self.open_paths(_local_paths(event.mimeData()))
        event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:
        dirty = [e for e in self.films if e.controller and not e.controller.is_clean()]
        if dirty and self.confirm_close:
            answer = QMessageBox.question(
                self,
                "Unsaved measurements",
                f"{len(dirty)} film(s) have unsaved measurements. Save them next to the films?",
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
            )
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save:
                self.save_measurements()
        if self._session is not None and not self._session.confirm_pending():
            event.ignore()  # edits still wait for the server: the user keeps trying (#15)
            return
        self.save_layout()
        self.loader.close()
        if self._session is not None:
            self._session.shutdown()  # every measurement is already in the study
        for demo in self.demos:
            demo.remove()  # after the study is closed: its folder can go
        event.accept()


def _local_paths(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


__all__ = ["EMPTY_HINT", "PHOTO_FILTER", "STUDY_SUFFIX", "MainWindow", "OpenFilm"]
