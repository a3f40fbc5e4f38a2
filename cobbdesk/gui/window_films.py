"""The main window's film list: opening films (files, folders, a dropped study), their
loading off the UI thread, a failed one's line and "Open anyway", and taking films off.

A mixin of :class:`~cobbdesk.gui.main_window.MainWindow`: it uses the window's ``films``,
``film_list``, ``loader``, ``status``, ``rater``, ``current``, ``session`` / ``_session`` and
its ``_show_row`` / ``_film_message`` / ``update_undo_actions`` methods.  A film loaded for the
open study is handed to the study session (:meth:`StudySession.adopt`), any other reads its
sidecar file (``<film>.cobbdesk.json``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFileDialog, QListWidget, QListWidgetItem

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.measure.measurement_files import load_sidecar
from cobbdesk.core.redact import redact
from cobbdesk.gui import errors, settings
from cobbdesk.gui.viewer.measure_tool import MeasureController
from cobbdesk.gui.viewer.status import StatusBar
from cobbdesk.gui.workers import FilmLoader

if TYPE_CHECKING:
    from cobbdesk.gui.study.session import StudySession

#: The formats of cobbdesk.core.dicom.photo (not imported here: numpy loads after first paint).
PHOTO_FILTER = "Photos and scans of films (*.jpg *.jpeg *.png *.tif *.tiff)"

STUDY_SUFFIX = ".cobbdesk"


@dataclass
class OpenFilm:
    """A film in the session: loaded (film + controller) or failed (error)."""

    path: Path
    film: Film | None = None
    controller: MeasureController | None = None
    error: str = ""


class WindowFilms:
    """Opening, loading and closing the window's films (see the module docstring)."""

    films: list[OpenFilm]
    film_list: QListWidget
    loader: FilmLoader
    status: StatusBar
    rater: str
    current: OpenFilm | None
    session_recent: list[Path]
    _session: StudySession | None
    # the window's (annotations only: nothing here may shadow it)
    session: Any
    _show_row: Any
    _film_message: Any
    update_undo_actions: Any
    show_spacing: Any
    findChild: Any

    def open_paths(self, paths: list[Path], force: bool = False) -> None:
        """Open films (files, and the files under folders that may be DICOM: the import's
        walker); a ``.cobbdesk`` file is opened as the study."""
        from cobbdesk.core.importing.films import film_files

        studies = [p for p in paths if p.suffix.lower() == STUDY_SUFFIX and p.is_file()]
        if studies:
            self.session.open_study(studies[-1])
            paths = [p for p in paths if p not in studies]
            if not paths:
                return
        new = [p for p in film_files(paths)[0] if all(p != f.path for f in self.films)]
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
        entry.controller.measurementsChanged.connect(self.show_spacing)  # calibrated elsewhere
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
