"""A refreshed study browser keeps what the user had open (#15).

Every change to the study — another rater's, seen by the audit-head poll, or this window's own
save — refreshes the browser with a new patient list (a model reset).  The rows the user had
expanded are expanded again, the selected film is selected again and the scroll position is
kept, once the patients' visits have been read again (off the UI thread).
"""

# ruff: noqa: F811  (the fixtures ``where`` and ``window`` are imported from the actions tests)
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex

from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study.model import MEASURED, PATIENT, VISIT
from tests.gui.test_study_actions_off_ui import (  # noqa: F401  (fixtures)
    _env,
    film_index,
    find_row,
    other,
    settle,
    where,
    window,
)
from tests.gui.ui_thread_sql import UiThreadSql


def test_others_change_refreshes_the_browser_keeping_expansion_selection_and_scroll(
    qtbot: Any, window: MainWindow, where: Any
) -> None:
    session = window.session
    browser, model, tree = session.browser, session.browser.model, session.browser.tree
    assert session._watch is not None
    session._watch.timer.setInterval(100)  # (every 3–5 s in the app)
    tree.setMaximumHeight(tree.header().height() + 3 * tree.sizeHintForRow(0))  # 3 rows show
    film = film_index(qtbot, window, "lumbar")
    film_id = film.internalPointer().item.id
    tree.setCurrentIndex(film)
    bar = tree.verticalScrollBar()
    bar.setValue(bar.maximum())
    scroll = bar.value()
    assert scroll > 0
    refills: list[int] = []
    model.modelReset.connect(lambda: refills.append(1))
    with other(where) as check:  # another rater enters labs for the visit
        check.set_labs(film.internalPointer().parent.item.visit.id, {"vas": 3.0})
    with UiThreadSql(session.study) as seen:  # type: ignore[arg-type]
        patient = QModelIndex()

        def restored() -> bool:
            nonlocal patient
            if not refills or model.rowCount() == 0:
                return False
            patient = find_row(model, PATIENT, "P0001", QModelIndex())
            visit = model.index(0, 0, patient)
            return model.node(visit) is not None and model.node(visit).kind == VISIT and (
                tree.isExpanded(visit) and browser.selected_node() is not None
                and browser.selected_node().kind != PATIENT)  # fmt: skip

        qtbot.waitUntil(restored, timeout=10_000)
        settle(qtbot, window)
    assert seen.statements == []
    assert model.index(0, 4).data() == MEASURED  # the new labs are shown
    assert tree.isExpanded(patient)
    current = browser.selected_node()
    assert current is not None and current.item.id == film_id  # the same film selected
    assert bar.value() == scroll
