"""Menus, toolbar and keyboard shortcuts of the main window, declared as one table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox

from cobbdesk import __version__
from cobbdesk.core.measure.measurement import CONVENTION, Template
from cobbdesk.gui import settings

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost as MainWindow

Spec = tuple[str, str, str, str, Callable[["MainWindow"], None]]  # name, menu, text, keys, slot

SPECS: tuple[Spec, ...] = (
    ("open", "&File", "&Open films…", "Ctrl+O", lambda w: w.open_files_dialog()),
    ("open_folder", "&File", "Open &folder…", "Ctrl+Shift+O", lambda w: w.open_folder_dialog()),
    (
        "save",
        "&File",
        "&Save measurements next to films",
        "Ctrl+S",
        lambda w: w.save_measurements(),
    ),
    ("export", "&File", "&Export measurements as CSV…", "Ctrl+E", lambda w: w.export_csv()),
    ("quit", "&File", "&Quit", "Ctrl+Q", lambda w: w.close()),
    ("new_study", "&Study", "&New study…", "", lambda w: w.session.new_study_dialog()),
    ("open_study", "&Study", "&Open study…", "", lambda w: w.session.open_study_dialog()),
    ("open_server_study", "&Study", "Open s&erver study…", "",
     lambda w: w.session.open_study_dialog(server=True)),  # the Open study dialog's Server tab
    (
        "import",
        "&Study",
        "&Import films into study…",
        "",
        lambda w: w.session.import_films_dialog(),
    ),
    ("labs", "&Study", "Enter &labs for visit…", "Ctrl+L", lambda w: w.session.enter_labs()),
    (
        "compare",
        "&Study",
        "&Compare admission and month 3…",
        "Ctrl+K",
        lambda w: w.session.compare(),
    ),
    ("rater", "&Study", "&Rater…", "", lambda w: w.session.choose_rater()),
    ("verify", "&Study", "&Verify audit trail", "", lambda w: w.session.verify_audit()),
    ("export_study", "&Study", "E&xport study data…", "", lambda w: _study_dialog(w, "export")),
    ("stats", "&Study", "&Statistics and report…", "", lambda w: _study_dialog(w, "stats")),
    ("plans", "&Study", "Reading &plans…", "", lambda w: _study_dialog(w, "plans")),
    ("query_pacs", "&Study", "&Query PACS…", "", lambda w: _study_dialog(w, "pacs")),
    (
        "delete",
        "&Edit",
        "&Delete measurement",
        "Delete",
        lambda w: _controller(w, "delete_selected"),
    ),
    ("cancel", "&Edit", "&Cancel placement", "Esc", lambda w: _controller(w, "cancel_placement")),
    ("c2c7", "&Measure", "C2–C7 cervical lordosis", "C", lambda w: w.panel.start(Template.C2_C7)),
    ("l1s1", "&Measure", "L1–S1 lumbar lordosis", "L", lambda w: w.panel.start(Template.L1_S1)),
    ("free", "&Measure", "Free two-line Cobb", "M", lambda w: w.panel.start(Template.FREE)),
    ("snap", "&Measure", "Toggle endplate snapping", "S", lambda w: w.panel.snapping.toggle()),
    (
        "snap_threshold",
        "&Measure",
        "Snap &confirmation threshold…",
        "",
        lambda w: ask_snap_threshold(w),  # noqa: PLW0108 (defined below)
    ),
    ("calibrate", "&Measure", "&Calibrate on a ruler…", "", lambda w: _calibrate(w)),  # noqa: PLW0108
    (
        "export_sr",
        "F&ilm",
        "Export measurements as DICOM &SR…",
        "",
        lambda w: _study_dialog(w, "sr"),
    ),
    ("fit", "&View", "&Fit to window", "F", lambda w: w.view.fit()),
    ("one", "&View", "Actual pixels (1:1)", "1", lambda w: w.view.one_to_one()),
    ("zoom_in", "&View", "Zoom in", "+", lambda w: w.view.zoom_in()),
    ("zoom_out", "&View", "Zoom out", "-", lambda w: w.view.zoom_out()),
    ("invert", "&View", "&Invert", "I", lambda w: w.view.toggle_invert()),
    ("auto", "&View", "&Auto window", "A", lambda w: w.view.auto_window()),
    ("reset", "&View", "File &window", "W", lambda w: w.view.reset_window()),
    ("rotate_cw", "&View", "Rotate 90° clockwise", "R", lambda w: w.view.rotate_quarter(1)),
    (
        "rotate_ccw",
        "&View",
        "Rotate 90° counter-clockwise",
        "Shift+R",
        lambda w: w.view.rotate_quarter(-1),
    ),
    ("flip_h", "&View", "Flip horizontally", "H", lambda w: w.view.flip(True)),
    ("flip_v", "&View", "Flip vertically", "V", lambda w: w.view.flip(False)),
    ("next", "&View", "Next film", "PgDown", lambda w: w.step_film(1)),
    ("previous", "&View", "Previous film", "PgUp", lambda w: w.step_film(-1)),
    ("shortcuts", "&Help", "&Keyboard shortcuts", "F1", lambda w: show_shortcuts(w)),  # noqa: PLW0108 (defined below)
    ("welcome", "&Help", "&Welcome…", "", lambda w: show_welcome(w)),  # noqa: PLW0108
    ("about", "&Help", "&About CobbDesk", "", lambda w: show_about(w)),  # noqa: PLW0108
)
TOOLBAR = (
    ("open", "Open"),
    ("save", "Save"),
    ("c2c7", "C2–C7"),
    ("l1s1", "L1–S1"),
    ("free", "Free Cobb"),
    ("fit", "Fit"),
    ("one", "1:1"),
    ("auto", "Auto W/L"),
    ("invert", "Invert"),
    ("rotate_cw", "Rotate"),
    ("flip_h", "Flip"),
)
MOUSE_HELP = (
    "Wheel: zoom about the cursor · Right-drag: window/level · "
    "Middle-drag (or left-drag on empty film): pan · Left-click: measure, select, drag"
)


def _study_dialog(window: MainWindow, which: str) -> None:
    """Export, statistics or reading plans dialog (imported on first use: pandas, scipy,
    matplotlib)."""
    if which == "export":
        from cobbdesk.gui.study.export_dialog import open_export_dialog

        open_export_dialog(window)
    elif which == "pacs":
        from cobbdesk.gui.pacs.query_dialog import open_query_dialog

        open_query_dialog(window)
    elif which == "sr":
        from cobbdesk.gui.pacs.sr_dialog import open_sr_dialog

        open_sr_dialog(window)
    elif which == "plans":
        from cobbdesk.gui.reading.plans_dialog import open_plans_dialog

        open_plans_dialog(window)
    else:
        from cobbdesk.gui.study.stats_dialog import open_stats_dialog

        open_stats_dialog(window)


def _calibrate(window: MainWindow) -> None:
    from cobbdesk.gui.viewer import calibrate_tool

    window.calibrate_tool = calibrate_tool.start(window)  # type: ignore[attr-defined]


def _controller(window: MainWindow, method: str) -> None:
    entry = window.current
    if entry is not None and entry.controller is not None:
        getattr(entry.controller, method)()


def build_actions(window: MainWindow) -> dict[str, QAction]:
    """Create every action with its shortcut, in menus and (some) on the toolbar."""
    menus: dict[str, QMenu] = {}
    actions: dict[str, QAction] = {}
    for name, menu, text, keys, slot in SPECS:
        if menu not in menus:
            menus[menu] = window.menuBar().addMenu(menu)
        if name == "delete":
            _add_undo_redo(window, menus[menu], actions)
        action = QAction(text, window)
        if keys:
            action.setShortcut(QKeySequence(keys))
        action.triggered.connect(lambda _=False, s=slot: s(window))
        menus[menu].addAction(action)
        actions[name] = action
    actions["recent"] = _recent_menu(window, menus["&File"])
    actions["recent_studies"] = _recent_studies_menu(window, menus["&Study"])
    actions["reopen_last"] = _reopen_last_action(window, menus["&Study"])
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("Main")
    for name, short in TOOLBAR:
        actions[name].setIconText(short)
        toolbar.addAction(actions[name])
    return actions


def _add_undo_redo(window: MainWindow, menu: QMenu, actions: dict[str, QAction]) -> None:
    undo = QAction("&Undo", window, enabled=False)
    undo.setShortcut(QKeySequence("Ctrl+Z"))
    undo.triggered.connect(lambda _=False: window.undo(redo=False))
    redo = QAction("&Redo", window, enabled=False)
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    redo.triggered.connect(lambda _=False: window.undo(redo=True))
    menu.addAction(undo)
    menu.addAction(redo)
    actions["undo"], actions["redo"] = undo, redo


def _recent_menu(window: MainWindow, file_menu: QMenu) -> QAction:
    menu = QMenu("Open &recent", window)
    holder = file_menu.insertMenu(file_menu.actions()[2], menu)

    def fill() -> None:
        menu.clear()
        for path in window.session_recent:  # this session's loose films (never saved)
            menu.addAction(path.name, lambda p=path: window.open_paths([p]))
        for study, film_id in settings.recent_films():  # study films, by study-relative id
            label = window.session.recent_film_label(Path(study), film_id)
            menu.addAction(label, lambda s=study, f=film_id: window.session.open_recent(s, f))
        if menu.isEmpty():
            menu.addAction("(none)").setEnabled(False)

    menu.aboutToShow.connect(fill)
    return holder


def _recent_studies_menu(window: MainWindow, study_menu: QMenu) -> QAction:
    menu = QMenu("Open &recent study", window)
    holder = study_menu.insertMenu(study_menu.actions()[2], menu)

    def fill() -> None:
        menu.clear()
        for path in settings.recent_studies():
            menu.addAction(path, lambda p=path: window.session.open_study(Path(p)))
        if menu.isEmpty():
            menu.addAction("(none)").setEnabled(False)

    menu.aboutToShow.connect(fill)
    return holder


def _reopen_last_action(window: MainWindow, study_menu: QMenu) -> QAction:
    """Study ▸ Reopen last study at start (checked by default; the user may say no)."""
    action = QAction("Reopen last study at start", window, checkable=True)
    action.setChecked(settings.reopen_last_study())
    action.toggled.connect(settings.set_reopen_last_study)
    study_menu.insertAction(study_menu.actions()[3], action)
    return action


def shortcut_lines() -> list[str]:
    return [f"{keys:>12}   {text.replace('&', '')}" for _, _, text, keys, _ in SPECS if keys]


def show_shortcuts(window: MainWindow) -> None:
    text = "\n".join([*shortcut_lines(), "Ctrl+Z / Ctrl+Shift+Z   Undo / redo", "", MOUSE_HELP])
    box = QMessageBox(QMessageBox.Icon.Information, "Keyboard shortcuts", text, parent=window)
    box.setStyleSheet("QLabel { font-family: monospace; }")
    box.open()


def ask_snap_threshold(window: MainWindow) -> None:
    """Snaps turning a line by more than this ask before they are applied (all open films)."""
    value, ok = QInputDialog.getDouble(
        window, "Snapping", "Ask before applying a snap that turns a line by more than (°):",
        settings.snap_threshold_deg(), 0.0, 45.0, 1,
    )  # fmt: skip
    if ok:
        settings.set_snap_threshold_deg(value)
        for entry in window.films:
            if entry.controller is not None:
                entry.controller.set_snap_threshold(value)


def show_welcome(window: MainWindow) -> None:
    from cobbdesk.gui.welcome import WelcomeDialog

    WelcomeDialog(window).open()


def show_about(window: MainWindow) -> None:
    QMessageBox.about(
        window,
        "About CobbDesk",
        f"<b>CobbDesk {__version__}</b><br>Signed lordotic Cobb angles on lateral spine "
        f"radiographs.<br><br>Sign convention: {CONVENTION}.<br>Angles are computed in mm "
        "using the film's (row, column) spacing, in pixels when the film is uncalibrated."
        "<br><br>CobbDesk is MIT-licensed. It uses: " + ", ".join(THIRD_PARTY) + ".",
    )


THIRD_PARTY = (
    "Qt for Python / PySide6 (LGPL-3.0)",
    "pydicom (MIT)",
    "imagecodecs with libjpeg-turbo, CharLS and OpenJPEG (BSD)",
    "NumPy (BSD-3)",
    "OpenCV (Apache-2.0)",
    "pandas (BSD-3)",
    "SciPy (BSD-3)",
    "SQLAlchemy (MIT)",
    "openpyxl (MIT)",
    "pyreadstat (Apache-2.0)",
    "matplotlib (PSF-based)",
    "platformdirs (MIT)",
)
