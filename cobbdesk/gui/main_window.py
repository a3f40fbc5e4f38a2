"""The main window: film list, film view, measurement panel, status bar, menus."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QMimeData, Qt
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from cobbdesk import __version__
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.measure.measurement import load_sidecar, save_sidecar, write_measurements_csv
from cobbdesk.core.redact import redact
from cobbdesk.gui import errors, settings
from cobbdesk.gui.actions import build_actions
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_panel import MeasurePanel
from cobbdesk.gui.viewer.measure_tool import MeasureController
from cobbdesk.gui.viewer.status import StatusBar, cursor_text, spacing_text, window_text
from cobbdesk.gui.workers import FilmLoader

#: The formats of cobbdesk.core.dicom.photo (not imported here: numpy loads after first paint).
PHOTO_FILTER = "Photos and scans of films (*.jpg *.jpeg *.png *.tif *.tiff)"

STUDY_SUFFIX = ".cobbdesk"
MAXIMISED_FROM = (1024, 1440)
"""Screens this wide (available px) start the window maximised (``MainWindow._default_size``;
narrower ones, such as the 800×600 offscreen test screen, keep the sized default)."""
EMPTY_HINT = (
    "Double-click a film in the study browser to measure it,\n"
    "or open films (Ctrl+O) or drop them here."
)
"""Shown in the middle of the film view while no film is on it."""
LAYOUT_VERSION = 2
"""Bump when docks are renamed or added: a dock state saved by another layout is ignored."""

if TYPE_CHECKING:
    from cobbdesk.gui.demo import DemoGenerator
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
        self.session_recent: list[Path] = []  # films opened outside a study (not saved)
        self.setWindowTitle(f"CobbDesk {__version__}")
        self._default_size()
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
        self.centre = QStackedWidget()  # the view, or a blank page while blinded (keeps its room)
        self.centre.addWidget(self.view)
        blank = QWidget()
        blank.setStyleSheet("background: black")
        self.centre.addWidget(blank)
        self.setCentralWidget(self.centre)
        self._cover_state: tuple[QByteArray, str, str] | None = None
        self._covering: set[str] = set()  # who blinds this window now (compare, reading)
        self.film_list = QListWidget()
        self.film_list.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long names: tooltip
        self.film_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.film_list.currentRowChanged.connect(self._show_row)
        self._dock("Films", self.film_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.panel = MeasurePanel(self.rater)
        self.panel.raterChanged.connect(self._set_rater)
        self._dock("Measurements", self.panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.loader.pendingChanged.connect(self.status.set_loading)
        self.view.cursorMoved.connect(self._cursor)
        self.view.cursorLeft.connect(self.status.cursor.clear)
        self.view.windowDragged.connect(self._window_dragged)
        self._session: StudySession | None = None  # created on first use (loads the store)
        self.actions_by_name: dict[str, QAction] = build_actions(self)
        self._dock_widths()
        self.restore_layout()
        self.status.showMessage("Open lateral spine films (Ctrl+O) or drop them here.")

    # --- layout ---------------------------------------------------------------------------
    def _default_size(self) -> None:
        """1400×900, or 92 % × 90 % of a smaller screen; a laptop screen (up to 1440 px wide)
        is too small to give part of it away: the window starts maximised there (at 1256 px
        the docks, read whole, leave the film under half the width)."""
        screen = QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen is not None else None
        if area is None or area.width() <= 0:
            self.resize(1400, 900)
            return
        self.resize(min(1400, int(area.width() * 0.92)), min(900, int(area.height() * 0.9)))
        if MAXIMISED_FROM[0] <= area.width() <= MAXIMISED_FROM[1]:
            self.setWindowState(Qt.WindowState.WindowMaximized)

    def _dock_widths(self) -> None:
        """The film gets most of the window: side docks start narrow."""
        docks = [self.findChild(QDockWidget, n) for n in ("Films", "Measurements")]
        widths = [max(170, self.width() // 8), max(260, self.width() // 5)]
        self.resizeDocks([d for d in docks if d], widths, Qt.Orientation.Horizontal)

    def restore_layout(self) -> bool:
        """Window size and dock layout of the last run (False when none was saved)."""
        geometry, state = settings.layout(LAYOUT_VERSION)
        if geometry is not None:
            self.restoreGeometry(QByteArray(geometry))
        self._layout_restored = state is not None and self.restoreState(
            QByteArray(state), LAYOUT_VERSION
        )
        return geometry is not None

    def save_layout(self) -> None:
        geometry, state = self.saveGeometry(), self.saveState(LAYOUT_VERSION)
        settings.save_layout(geometry.data(), state.data(), LAYOUT_VERSION)
        study = self._session.study if self._session is not None else None
        from cobbdesk.gui.demo import is_demo_path

        keep = study is not None and not is_demo_path(study.path)
        settings.set_last_study(study.path if keep and study is not None else None)

    @property
    def session(self) -> StudySession:
        """The open study (browser, autosave, labs), created on first use.

        Creating it imports the study store (SQLAlchemy): deferring it keeps it out of the
        time to the first paint.
        """
        if self._session is None:
            from cobbdesk.gui.study.session import StudySession

            self._session = StudySession(self)
            dock = QDockWidget("Study", self)
            dock.setObjectName("Study")
            dock.setWidget(self._session.browser)
            # restored before it is added (Qt places a dock created after restoreState only
            # then), and before the Raters dock that is tabbed with it is mounted
            restored = self._layout_restored and self.restoreDockWidget(dock)
            if not restored:
                self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            self._session.mount(dock)
            self._session.restored = restored  # placed as last time
            films = self.findChild(QDockWidget, "Films")
            if not self._session.restored and films is not None:
                self.tabifyDockWidget(films, dock)  # the browser gets the dock's full height
        return self._session

    def _dock(self, title: str, widget: object, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)  # type: ignore[arg-type]
        self.addDockWidget(area, dock)
        return dock

    # --- opening ------------------------------------------------------------------------
    def open_paths(self, paths: list[Path], force: bool = False) -> None:
        """Open films (files, folders); a ``.cobbdesk`` file is opened as the study."""
        studies = [p for p in paths if p.suffix.lower() == STUDY_SUFFIX and p.is_file()]
        if studies:
            self.session.open_study(studies[-1])
            paths = [p for p in paths if p not in studies]
            if not paths:
                return
        new = [p for p in files_in(paths) if all(p != f.path for f in self.films)]
        for path in new:
            self.films.append(OpenFilm(path))
            item = QListWidgetItem(f"{path.name} — loading…")
            item.setToolTip(str(path))
            self.film_list.addItem(item)
            self.loader.load(path, force)
        pending = self._session.pending_paths() if self._session is not None else set()
        self.remember_recent([p for p in new if p not in pending])
        films = self.findChild(QDockWidget, "Films")
        if films is not None and any(p not in pending for p in new):
            films.raise_()  # films opened by hand: show their list (a study's: the browser)

    def remember_recent(self, paths: list[Path]) -> None:
        """Films opened outside a study: remembered for this session only (never written to the
        settings: file names often carry patient names or MRNs; study films are remembered by
        the study session as study-relative ids)."""
        fresh = [p for p in paths if p not in self.session_recent]
        self.session_recent[:0] = fresh
        del self.session_recent[settings.MAX_RECENT :]

    def open_files_dialog(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self, "Open films", "", f"DICOM (*.dcm *.dicom);;{PHOTO_FILTER};;"
            f"CobbDesk study (*{STUDY_SUFFIX});;All files (*)",
        )  # fmt: skip
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
        forced = "  [no File Meta]" if any("forced" in n for n in film.notices) else ""
        self.film_list.item(row).setText(f"{entry.path.name}{calibrated}{forced}")
        if film.notices:
            self._film_message(f"{entry.path.name}: {film.notices[0]}", 8000)
        if self.film_list.currentRow() in (-1, row) or self.current is None:
            self.film_list.setCurrentRow(row)
            self._show_row(row)

    def _failed(self, path: str, message: str) -> None:
        row = self._row_of(path)
        if row is None:
            return
        message = redact(message)  # shown in a dialog and a tooltip (tester's find: was raw)
        self.films[row].error = message
        item = self.film_list.item(row)
        item.setText(f"{self.films[row].path.name} — cannot open")
        item.setForeground(Qt.GlobalColor.red)
        item.setToolTip(message)
        if path in self.loader.forceable:
            errors.offer_open_anyway(self, message, lambda: self.open_anyway(Path(path)))
        else:
            errors.present(self, "Opening a film failed", message)

    def open_anyway(self, path: Path) -> None:
        """Read a legacy file without File Meta with ``force`` (the user asked, explicitly)."""
        row = self._row_of(str(path))
        if row is None:
            return
        self.loader.forceable.discard(str(path))
        self.films[row].error = ""
        item = self.film_list.item(row)
        item.setText(f"{path.name} — loading (without File Meta)…")
        item.setForeground(self.film_list.palette().text())
        item.setToolTip(str(path))
        self.loader.load(path, force=True)

    def close_films(self, paths: set[Path]) -> None:
        """Take films off the window (a closed study's: their measurements are stored)."""
        for row in reversed(range(len(self.films))):
            entry = self.films[row]
            if entry.path not in paths:
                continue
            if entry is self.current:
                self._show_row(-1)
            if entry.controller is not None:
                entry.controller.detach()
            del self.films[row]
            self.film_list.blockSignals(True)
            self.film_list.takeItem(row)
            self.film_list.blockSignals(False)
        if self.current is None and self.films:
            self.film_list.setCurrentRow(0)
            self._show_row(0)

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

    def cover_for_blinding(self, on: bool, by: str = "compare") -> None:
        """While a blinded compare window is open over this one, nothing here may show a
        value it hides (#14): the film view with its angle labels, the measurement table, the
        study browser and the film's status readouts are hidden, and shown again when blinding
        ends — with the dock layout exactly as it was (a hidden central widget hands its room
        to the docks: the view is swapped for a blank page and the layout state restored).
        ``by`` names who blinds (a blinded compare window, a reading window): the window shows
        again only when none of them does."""
        if on:
            self._covering.add(by)
        else:
            self._covering.discard(by)
            if self._covering:
                return  # another window still blinds this one
        if on and self._cover_state is None:
            status = self.status
            self._cover_state = (self.saveState(LAYOUT_VERSION), status.window_level.text(),
                                 status.spacing.text())  # fmt: skip
            for name in ("Measurements", "Study"):
                dock = self.findChild(QDockWidget, name)
                if dock is not None:
                    dock.hide()
            self.centre.setCurrentIndex(1)
            status.clear_film()
            status.spacing.clear()
            status.showMessage("Hidden while a blinded compare window is open.")
        elif not on and self._cover_state is not None:
            state, window_level, spacing = self._cover_state
            self._cover_state = None
            self.restoreState(state, LAYOUT_VERSION)  # the docks shown, at their former sizes
            self.centre.setCurrentIndex(0)
            self.status.window_level.setText(window_level)
            self.status.spacing.setText(spacing)
            self.status.clearMessage()

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
