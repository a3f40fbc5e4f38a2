"""The blinded compare mode leaks nothing through the main window behind it (#14)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QAbstractItemView, QDockWidget, QLabel

from cobbdesk.gui.main_window import MainWindow
from tests.gui.test_study_session import _env, open_film, study_path, window  # noqa: F401


def _visible_texts(win: MainWindow) -> list[str]:
    texts = [w.text() for w in win.findChildren(QLabel) if w.isVisible()]
    for view in win.findChildren(QAbstractItemView):
        if view.isVisible() and view.model() is not None:
            model = view.model()
            root = QModelIndex()
            columns = model.columnCount(root) if hasattr(view, "horizontalHeader") else 1
            texts += [str(model.index(r, c).data()) for r in range(model.rowCount(root))
                      for c in range(columns)]  # fmt: skip
    return [*texts, win.statusBar().currentMessage(), win.windowTitle()]


def test_blinded_compare_hides_the_main_windows_values(qtbot, window: MainWindow) -> None:  # noqa: F811
    open_film(qtbot, window, "cervical")
    angle = next(iter(window.current.controller.measurements.values())).angle
    shown = f"{abs(angle):.1f}"
    assert any(shown in t for t in _visible_texts(window))  # the angle is on screen before
    window.session.browser.tree.clearSelection()  # Compare visits of the film on screen
    compare = window.session.compare()
    assert compare is not None
    qtbot.addWidget(compare)
    qtbot.waitUntil(lambda: compare.view.loaded and compare.view.films_shown(), timeout=20000)
    compare.view.toolbar.blinded.setChecked(True)
    assert not window.view.isVisible()
    assert not window.findChild(QDockWidget, "Measurements").isVisible()
    assert not any(shown in t for t in _visible_texts(window))
    compare.view.toolbar.blinded.setChecked(False)
    assert window.view.isVisible() and window.findChild(QDockWidget, "Measurements").isVisible()
    compare.view.toolbar.blinded.setChecked(True)
    compare.close()
    assert window.view.isVisible()
