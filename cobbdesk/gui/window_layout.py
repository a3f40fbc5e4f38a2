"""The main window's layout: its default size on this screen, the side docks' first widths,
the size and dock layout saved at exit and restored at the next start, and the blinding
cover that hides the film and every value while a blinded window is open over it (#14, #17).

Split out of :mod:`cobbdesk.gui.main_window` unchanged; the window keeps its methods
(``restore_layout``, ``save_layout``, ``cover_for_blinding``), which call these.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow, QStackedWidget, QWidget

from cobbdesk.gui import settings

if TYPE_CHECKING:
    from cobbdesk.gui.viewer.status import StatusBar

MAXIMISED_FROM = (1024, 1440)
"""Screens this wide (available px) start the window maximised (:func:`default_size`;
narrower ones, such as the 800×600 offscreen test screen, keep the sized default)."""
LAYOUT_VERSION = 2
"""Bump when docks are renamed or added: a dock state saved by another layout is ignored."""
COVERED_DOCKS = ("Measurements", "Study")
"""Docks hidden while the window is blinded (they show angles and completeness)."""


def default_size(window: QMainWindow) -> None:
    """1400×900, or 92 % × 90 % of a smaller screen; a laptop screen (up to 1440 px wide)
    is too small to give part of it away: the window starts maximised there (at 1256 px
    the docks, read whole, leave the film under half the width)."""
    screen = QGuiApplication.primaryScreen()
    area = screen.availableGeometry() if screen is not None else None
    if area is None or area.width() <= 0:
        window.resize(1400, 900)
        return
    window.resize(min(1400, int(area.width() * 0.92)), min(900, int(area.height() * 0.9)))
    if MAXIMISED_FROM[0] <= area.width() <= MAXIMISED_FROM[1]:
        window.setWindowState(Qt.WindowState.WindowMaximized)


def dock_widths(window: QMainWindow) -> None:
    """The film gets most of the window: side docks start narrow."""
    docks = [window.findChild(QDockWidget, n) for n in ("Films", "Measurements")]
    widths = [max(170, window.width() // 8), max(260, window.width() // 5)]
    window.resizeDocks([d for d in docks if d], widths, Qt.Orientation.Horizontal)


def add_dock(window: QMainWindow, title: str, widget: QWidget,
             area: Qt.DockWidgetArea) -> QDockWidget:  # fmt: skip
    """A dock named ``title`` (its object name too: the saved layout knows it by it)."""
    dock = QDockWidget(title, window)
    dock.setObjectName(title)
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


def study_dock(window: QMainWindow, browser: QWidget, restore: bool) -> tuple[QDockWidget, bool]:
    """The study browser's dock, created with the first study: (dock, placed by the saved
    layout).  Restored before it is added (Qt places a dock created after ``restoreState``
    only then), and before the Raters dock that is tabbed with it is mounted."""
    dock = QDockWidget("Study", window)
    dock.setObjectName("Study")
    dock.setWidget(browser)
    restored = restore and window.restoreDockWidget(dock)
    if not restored:
        window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
    return dock, restored


def tab_under_films(window: QMainWindow, dock: QDockWidget) -> None:
    """Tab ``dock`` with the Films list: the browser gets the dock area's full height."""
    films = window.findChild(QDockWidget, "Films")
    if films is not None:
        window.tabifyDockWidget(films, dock)


def restore(window: QMainWindow) -> tuple[bool, bool]:
    """Window size and dock layout of the last run: (a size was saved, the dock layout
    was restored — only one saved by this :data:`LAYOUT_VERSION`)."""
    geometry, state = settings.layout(LAYOUT_VERSION)
    if geometry is not None:
        window.restoreGeometry(QByteArray(geometry))
    restored = state is not None and window.restoreState(QByteArray(state), LAYOUT_VERSION)
    return geometry is not None, restored


def save(window: QMainWindow, study: Path | None) -> None:
    """Save the window's size and dock layout, and ``study`` as the one to reopen (None,
    or a demo study, whose folder is removed at exit: none)."""
    geometry, state = window.saveGeometry(), window.saveState(LAYOUT_VERSION)
    settings.save_layout(bytes(geometry.data()), bytes(state.data()), LAYOUT_VERSION)
    from cobbdesk.gui.demo import is_demo_path

    settings.set_last_study(study if study is not None and not is_demo_path(study) else None)


class BlindingCover:
    """The window's centre — the film view, or a blank page while blinded — and what the
    cover hid, to show it again exactly as it was.

    While a blinded compare window is open over the window, nothing there may show a value it
    hides (#14): the film view with its angle labels, the measurement table, the study
    browser and the film's status readouts are hidden, and shown again when blinding ends —
    with the dock layout exactly as it was (a hidden central widget hands its room to the
    docks: the view is swapped for a blank page and the layout state restored).
    """

    def __init__(self, window: QMainWindow, view: QWidget, status: StatusBar) -> None:
        self.window, self.status = window, status
        self.centre = QStackedWidget()  # the view, or a blank page while blinded (keeps its room)
        self.centre.addWidget(view)
        blank = QWidget()
        blank.setStyleSheet("background: black")
        self.centre.addWidget(blank)
        self._state: tuple[QByteArray, str, str] | None = None
        self._covering: set[str] = set()  # who blinds the window now (compare, reading)

    def cover(self, on: bool, by: str = "compare") -> None:
        """Cover (``on``) or uncover the window for ``by`` (a blinded compare window, a
        reading window): it shows again only when none of them blinds it."""
        if on:
            self._covering.add(by)
        else:
            self._covering.discard(by)
            if self._covering:
                return  # another window still blinds this one
        if on and self._state is None:
            self._hide()
        elif not on and self._state is not None:
            self._show()

    def _hide(self) -> None:
        window, status = self.window, self.status
        self._state = (window.saveState(LAYOUT_VERSION), status.window_level.text(),
                       status.spacing.text())  # fmt: skip
        for name in COVERED_DOCKS:
            dock = window.findChild(QDockWidget, name)
            if dock is not None:
                dock.hide()
        self.centre.setCurrentIndex(1)
        status.clear_film()
        status.spacing.clear()
        status.showMessage("Hidden while a blinded compare window is open.")

    def _show(self) -> None:
        assert self._state is not None
        state, window_level, spacing = self._state
        self._state = None
        self.window.restoreState(state, LAYOUT_VERSION)  # the docks shown, at former sizes
        self.centre.setCurrentIndex(0)
        self.status.window_level.setText(window_level)
        self.status.spacing.setText(spacing)
        self.status.clearMessage()
