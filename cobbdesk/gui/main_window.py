"""The main window: film list, film view, measurement panel, status bar, menus."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
)

from cobbdesk import __version__
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.measure.measurement import load_sidecar, save_sidecar, write_measurements_csv
from cobbdesk.gui import errors, settings
from cobbdesk.gui.actions import build_actions
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_panel import MeasurePanel
from cobbdesk.gui.viewer.measure_tool import MeasureController
from cobbdesk.gui.viewer.status import StatusBar, cursor_text, spacing_text
from cobbdesk.gui.workers import FilmLoader

#: The formats of cobbdesk.core.dicom.photo (not imported here: numpy loads after first paint).
PHOTO_FILTER = "Photos and scans of films (*.jpg *.jpeg *.png *.tif *.tiff)"

if TYPE_CHECKING:
    from cobbdesk.gui.study.session import StudySession


@dataclass
class OpenFilm:
    """A film in the session: loaded (film + controller) or failed (error)."""

    path: Path
    film: Film | None = None
    controller: MeasureController | None = None
    error: str = ""


def files_in(paths: list[Path]) -> list[Path]:
    """Films to open: the files given, and the files under folders given that may be DICOM
    (the import's walker, :func:`~cobbdesk.core.importing.films.film_files`)."""
    from cobbdesk.core.importing.films import film_files

    return film_files(paths)[0]


class MainWindow(QMainWindow):
    def __init__(self, rater: str | None = None, loader: FilmLoader | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"CobbDesk {__version__}")
        self.resize(1400, 900)
        self.setAcceptDrops(True)
        self.confirm_close = True
        self.films: list[OpenFilm] = []
        self.current: OpenFilm | None = None
        self.rater = rater or str(settings.settings().value("rater", "")) or getpass.getuser()
        self.loader = loader or FilmLoader(isolated=True, parent=self)
        self.loader.loaded.connect(self._loaded)
        self.loader.failed.connect(self._failed)
        self.view = FilmView(self)
        self.setCentralWidget(self.view)
        self.film_list = QListWidget()
        self.film_list.currentRowChanged.connect(self._show_row)
        self._dock("Films", self.film_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.panel = MeasurePanel(self.rater)
        self.panel.raterChanged.connect(self._set_rater)
        self._dock("Measurements", self.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.loader.pendingChanged.connect(self.status.set_loading)
        self.view.cursorMoved.connect(self._cursor)
        self._session: StudySession | None = None  # created on first use (loads the store)
        self.actions_by_name: dict[str, QAction] = build_actions(self)
        self.status.showMessage("Open lateral spine films (Ctrl+O) or drop them here.")

    @property
    def session(self) -> StudySession:
        """The open study (browser, autosave, labs), created on first use.

        Creating it imports the study store (SQLAlchemy): deferring it keeps it out of the
        time to the first paint.
        """
        if self._session is None:
            from cobbdesk.gui.study.session import StudySession

            self._session = StudySession(self)
            dock = self._dock("Study", self._session.browser, Qt.DockWidgetArea.LeftDockWidgetArea)
            self._session.mount(dock)
        return self._session

    def _dock(self, title: str, widget: object, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)  # type: ignore[arg-type]
        self.addDockWidget(area, dock)
        return dock

    # --- opening ------------------------------------------------------------------------
    def open_paths(self, paths: list[Path], force: bool = False) -> None:
        new = [p for p in files_in(paths) if all(p != f.path for f in self.films)]
        for path in new:
            self.films.append(OpenFilm(path))
            item = QListWidgetItem(f"{path.name} — loading…")
            item.setToolTip(str(path))
            self.film_list.addItem(item)
            self.loader.load(path, force)
        if new:
            self.actions_by_name["recent"].setData(settings.add_recent(new))

    def open_files_dialog(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self, "Open films", "", f"DICOM (*.dcm *.dicom);;{PHOTO_FILTER};;All files (*)"
        )
        self.open_paths([Path(n) for n in names])

    def open_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of films")
        if folder:
            self.open_paths([Path(folder)])

    def _row_of(self, path: str) -> int | None:
        """Row of a film this window asked for (a shared loader may report others)."""
        return next((i for i, f in enumerate(self.films) if str(f.path) == path), None)

    def _loaded(self, path: str, film: Film) -> None:
        row = self._row_of(path)
        if row is None:
            return
        entry = self.films[row]
        entry.film = film
        entry.controller = MeasureController(film, self.rater, self)
        try:
            if self._session is None or not self._session.adopt(entry):  # study film?
                entry.controller.load(load_sidecar(entry.path))
        except (CobbdeskError, OSError, ValueError) as exc:
            errors.report(self, exc, f"Reading saved measurements of {entry.path.name}")
        entry.controller.historyChanged.connect(self.update_undo_actions)
        calibrated = "" if film.calibrated else "  [uncalibrated]"
        self.film_list.item(row).setText(f"{entry.path.name}{calibrated}")
        for notice in film.notices:
            self.status.showMessage(f"{entry.path.name}: {notice}", 8000)
        if self.film_list.currentRow() in (-1, row) or self.current is None:
            self.film_list.setCurrentRow(row)
            self._show_row(row)

    def _failed(self, path: str, message: str) -> None:
        row = self._row_of(path)
        if row is None:
            return
        self.films[row].error = message
        item = self.film_list.item(row)
        item.setText(f"{self.films[row].path.name} — cannot open")
        item.setForeground(Qt.GlobalColor.red)
        item.setToolTip(message)
        errors.present(self, "Opening a film failed", message)

    # --- showing ------------------------------------------------------------------------
    def _show_row(self, row: int) -> None:
        entry = self.films[row] if 0 <= row < len(self.films) else None
        if entry is self.current and entry is not None and self.view.film is entry.film:
            return
        if self.current is not None and self.current.controller is not None:
            self.current.controller.detach()
        self.current = entry
        film = entry.film if entry else None
        self.view.set_film(film)
        controller = entry.controller if entry else None
        if controller is not None:
            controller.attach(self.view)
        self.panel.set_controller(controller)
        self.update_undo_actions()
        self.status.spacing.setText(spacing_text(film))
        if entry is not None and entry.error:
            self.status.showMessage(entry.error)

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
        self.loader.close()
        if self._session is not None:
            self._session.shutdown()  # every measurement is already in the study
        event.accept()


def _local_paths(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
