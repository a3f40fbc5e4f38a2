"""The browser's "Missing" column reads completely at 1366×768 (#17): each row's text, in the
font it is drawn with, fits the column's width minus the item view's text margins (where
Qt elides), for the rows in view at the top and after scrolling to the end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QStyle, QTreeView

from cobbdesk.core.measure.measurement import Template
from cobbdesk.core.store import Study
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study.model import COL_MISSING, COLUMNS
from cobbdesk.gui.workers import FilmLoader
from tests.gui.test_study_actions_off_ui import settle
from tests.gui.test_study_browser_lazy import _visit
from tests.gui.ui_thread_sql import UiThreadSql


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    """A study whose rows have the longest "Missing" texts: no visits at all, a visit with
    no films and no labs, unmeasured films whose files are not found."""
    place = tmp_path / "gaps.cobbdesk"
    with Study.create(place, actor="setup") as study:
        study.add_patient("P0001")  # no admission visit; no month 3 visit
        bare = study.add_patient("P0002")
        study.add_visit(bare, "admission", visit_date="2026-01-05")  # no films, no labs
        for n in range(3, 12):
            patient = study.add_patient(f"P{n:04d}")
            _visit(study, patient, "admission", labs=False, templates=(None, None))
            _visit(study, patient, "month3", templates=(Template.C2_C7, None))
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    assert win.session.open_study(place)
    settle(qtbot, win)
    yield win
    win.session.shutdown()


def _in_view(tree: QTreeView) -> list[QModelIndex]:
    rows, index = [], tree.indexAt(QPoint(1, 1))
    while index.isValid() and tree.visualRect(index).top() < tree.viewport().height():
        rows.append(index.siblingAtColumn(COL_MISSING))
        index = tree.indexBelow(index)
    return rows


def _overflow(tree: QTreeView) -> list[tuple[str, int, int]]:
    """(text, its width, the room) of each row in view whose "Missing" text would be elided:
    the room is the section's width less the text margin on both sides (QCommonStyle draws
    item text inside PM_FocusFrameHMargin + 1 on each side)."""
    margin = tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1
    room = tree.header().sectionSize(COL_MISSING) - 2 * margin
    cut = []
    for index in _in_view(tree):
        font = index.data(Qt.ItemDataRole.FontRole)
        metrics = QFontMetrics(font if isinstance(font, QFont) else tree.font())
        width = metrics.horizontalAdvance(index.data() or "")
        if width > room:
            cut.append((index.data(), width, room))
    return cut


def test_missing_reads_completely_at_1366x768(qtbot: Any, window: MainWindow) -> None:
    browser = window.session.browser
    tree, model = browser.tree, browser.model
    with UiThreadSql(window.session.study) as seen:  # type: ignore[arg-type]
        tree.expandAll()  # every patient's visits are read off the UI thread, then shown
        qtbot.waitUntil(lambda: all(model.node(model.index(r, 0)).loaded
                                    for r in range(model.rowCount())), timeout=10_000)  # fmt: skip
        tree.expandAll()
        qtbot.wait(50)
    assert seen.statements == []
    texts = [i.data() for i in _in_view(tree)]
    assert "no admission visit; no month 3 visit" in texts
    assert "no month 3 visit; Admission: cervical film, lumbar film, labs" in texts
    assert any(t and t.startswith("file not found") for t in texts)
    widest = max(QFontMetrics(tree.font()).horizontalAdvance(t) for t in texts if t)
    header = tree.header()
    stretched = tree.viewport().width() - header.sectionPosition(COL_MISSING)
    assert widest > stretched  # the dock's room left of the column is too narrow for it
    qtbot.waitUntil(lambda: _overflow(tree) == [], timeout=2000)
    label = QFontMetrics(header.font()).horizontalAdvance(COLUMNS[COL_MISSING])
    assert label < header.sectionSize(COL_MISSING)
    tree.scrollToBottom()  # other rows come into view: refitted to them
    qtbot.waitUntil(lambda: _overflow(tree) == [], timeout=2000)
    assert tree.verticalScrollBar().value() > 0
