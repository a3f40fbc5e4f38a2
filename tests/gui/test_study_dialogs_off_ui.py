"""The study window's dialogs and measuring run no database call on the UI thread (#15).

Export study data…, Statistics and report…, Rater… and placing/undoing a measurement on a
study film, each driven from the window (menu action, buttons, mouse on the film) on a study
file and on the throwaway PostgreSQL cluster, under
:class:`~tests.gui.ui_thread_sql.UiThreadSql`: the raters, the statistics and the writes are
read and written on workers or the study's write queue.
"""

# ruff: noqa: F811  (the fixtures ``where`` and ``window`` are imported from the actions tests)
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from cobbdesk.core.measure.measurement import Template
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study import session_actions
from cobbdesk.gui.study.export_dialog import LOADING_RATERS, ExportDialog
from cobbdesk.gui.study.stats_dialog import StatsDialog
from tests.gui.test_study_actions_off_ui import (  # noqa: F401  (fixtures)
    _env,
    double_click,
    film_index,
    other,
    settle,
    spine,
    where,
    window,
)
from tests.gui.ui_thread_sql import UiThreadSql


def _shown(window: MainWindow, kind: type) -> Any:
    found = [d for d in window.findChildren(kind) if d.isVisible()]
    return found[0] if found else None


def test_export_dialog_reads_raters_and_exports_off_the_ui_thread(
    qtbot: Any, window: MainWindow, tmp_path: Path
) -> None:
    with UiThreadSql(window.session.study) as seen:  # type: ignore[arg-type]
        window.actions_by_name["export_study"].trigger()
        qtbot.waitUntil(lambda: _shown(window, ExportDialog) is not None)
        dialog: ExportDialog = _shown(window, ExportDialog)
        assert dialog.raters.currentText() == LOADING_RATERS or not dialog.loading
        qtbot.waitUntil(lambda: not dialog.loading, timeout=10_000)
        assert [dialog.raters.itemText(i) for i in range(dialog.raters.count())] == [
            "mean", "each", "consensus", "r0"]  # fmt: skip
        dialog.reveal = lambda _path: None
        dialog.format.setCurrentText("long")
        with qtbot.waitSignal(dialog.accepted, timeout=30_000):
            dialog.start_export(tmp_path / "long.csv")
        settle(qtbot, window)
    assert seen.statements == []
    assert (tmp_path / "long.csv").is_file()


def test_statistics_dialog_computes_off_the_ui_thread(qtbot: Any, window: MainWindow) -> None:
    with UiThreadSql(window.session.study) as seen:  # type: ignore[arg-type]
        window.actions_by_name["stats"].trigger()
        qtbot.waitUntil(lambda: _shown(window, StatsDialog) is not None)
        dialog: StatsDialog = _shown(window, StatsDialog)
        qtbot.waitUntil(lambda: not dialog.computing, timeout=30_000)
        assert dialog.text.toPlainText().startswith("2 patients; rater policy mean")
        dialog.raters.setCurrentText("consensus")
        qtbot.waitUntil(lambda: not dialog.computing, timeout=30_000)
        assert "adjudicator" in dialog.text.toPlainText()
        dialog.close()
        settle(qtbot, window)
    assert seen.statements == []


def test_choosing_the_rater_reads_the_raters_off_the_ui_thread(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    offered: list[list[str]] = []

    def pick(parent: Any, title: str, label: str, items: list[str], *rest: Any) -> Any:
        offered.append(list(items))
        return "r0", True

    monkeypatch.setattr(session_actions.QInputDialog, "getItem", pick)
    with UiThreadSql(window.session.study) as seen:  # type: ignore[arg-type]
        window.actions_by_name["rater"].trigger()
        qtbot.waitUntil(lambda: bool(offered), timeout=10_000)
        settle(qtbot, window)
    assert seen.statements == []
    assert "r0" in offered[0] and window.rater == "r0"


def test_placing_and_undoing_a_measurement_on_a_study_film(
    qtbot: Any, window: MainWindow, where: Any
) -> None:
    index = film_index(qtbot, window, "lumbar")
    double_click(qtbot, window, index)
    qtbot.waitUntil(lambda: bool(window.session.links), timeout=20_000)
    settle(qtbot, window)
    controller = window.current.controller  # type: ignore[union-attr]
    with UiThreadSql(window.session.study) as seen:  # type: ignore[arg-type]
        controller.set_facing(spine("lumbar").facing)
        controller.start_placement(Template.L1_S1)
        for endplate in spine("lumbar").template_endplates:
            for x, y in endplate:
                controller.press(x, y, Qt.KeyboardModifier.NoModifier)
        settle(qtbot, window)
        assert len(controller.measurements) == 1
        window.undo(redo=False)  # a fresh measurement: removed without a prompt
        settle(qtbot, window)
    assert seen.statements == []
    with other(where) as check:
        lumbar = next(f for f in check.films() if f.region.value == "lumbar")
        assert check.measurements(lumbar.id) == [] and check.film(lumbar.id).facing is not None


def test_calibrating_a_study_film_on_a_ruler(qtbot: Any, window: MainWindow, where: Any) -> None:
    from cobbdesk.gui.viewer import calibrate_tool

    double_click(qtbot, window, film_index(qtbot, window, "cervical"))
    qtbot.waitUntil(lambda: bool(window.session.links), timeout=20_000)
    settle(qtbot, window)
    window.session.reason_prompt = lambda parent, what: "ruler on the film"
    with UiThreadSql(window.session.study) as seen:  # type: ignore[arg-type]
        tool = calibrate_tool.start(window, ask=lambda _parent, _px: 25.0)
        assert tool is not None
        tool.press(20.0, 30.0, Qt.KeyboardModifier.NoModifier)
        tool.press(20.0, 230.0, Qt.KeyboardModifier.NoModifier)  # 200 px = 25 mm
        settle(qtbot, window)
    assert seen.statements == []
    assert window.status.currentMessage().endswith("(saved to the study)")
    with other(where) as check:
        cervical = next(f for f in check.films() if f.region.value == "cervical")
        stored = check.film_calibration(cervical.id)
        assert stored is not None and stored.spacing_mm == pytest.approx((0.125, 0.125))
