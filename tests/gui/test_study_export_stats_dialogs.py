"""Study > Export study data and Study > Statistics: the CLI's choices and results in dialogs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.study.export_dialog import ExportDialog
from cobbdesk.gui.study.stats_dialog import StatsDialog
from tests.core.export.conftest import build_fixture_study


@pytest.fixture
def study(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = build_fixture_study(tmp_path / "fixture.cobbdesk")
    with Study.open(path, actor="tester") as opened:
        yield opened


def test_export_dialog_writes_the_policy_rows(qtbot, study: Study, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = ExportDialog(None, study)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.loading)  # the raters are read off the UI thread
    assert dialog.raters.currentText() == "mean"
    assert [dialog.raters.itemText(i) for i in range(dialog.raters.count())] == [
        "mean", "each", "consensus", "A", "B",
    ]  # fmt: skip
    dialog.format.setCurrentText("wide")
    result = dialog.export_to(tmp_path / "w.csv")
    assert result is not None and result.rows == 8 and result.policy.kind == "mean"
    dialog.raters.setCurrentText("B")
    assert dialog.export_to(tmp_path / "b.csv") is not None
    wide = pd.read_csv(tmp_path / "b.csv", encoding="utf-8-sig", keep_default_na=False)
    assert sorted(set(wide["rater"])) == ["", "B"]


def test_export_dialog_shows_a_refusal(qtbot, study: Study, tmp_path: Path,  # type: ignore[no-untyped-def]
                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda _parent, _title, text: shown.append(text))
    dialog = ExportDialog(None, study)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.loading)  # the raters are read off the UI thread
    dialog.raters.setCurrentText("consensus")
    assert dialog.export_to(tmp_path / "c.csv") is None
    assert shown and "needs an adjudicator" in shown[0]
    assert not (tmp_path / "c.csv").exists()


def test_stats_dialog_results_and_report(qtbot, study: Study, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = StatsDialog(None, study)
    qtbot.addWidget(dialog)
    computed = lambda: not dialog.computing  # noqa: E731  (off the UI thread)
    qtbot.waitUntil(computed, timeout=30_000)
    text = dialog.text.toPlainText()
    assert "rater policy mean" in text
    assert "Cervical Cobb angle C2–C7: n = 7 pairs, W = 1, Z = -1.99, p = 0.046" in text
    dialog.raters.setCurrentText("B")  # recomputed on the named rater's readings
    qtbot.waitUntil(computed, timeout=30_000)
    assert "n = 4 pairs" in dialog.text.toPlainText()
    dialog.raters.setCurrentText("consensus")
    qtbot.waitUntil(computed, timeout=30_000)
    assert "needs an adjudicator" in dialog.text.toPlainText()
    dialog.raters.setCurrentText("mean")
    qtbot.waitUntil(computed, timeout=30_000)
    written = dialog.write_report_to(tmp_path / "r.html")
    assert written[0].read_text(encoding="utf-8").count("<figcaption>Figure ") == 5


def test_stats_dialog_draws_the_report_off_the_ui_thread(  # type: ignore[no-untyped-def]
    qtbot, study: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report's figures (matplotlib, about a second) were drawn on the UI thread after
    the statistics arrived: the window froze.  Now the worker writes the report."""
    import threading

    from cobbdesk.core.export import report

    threads: list[bool] = []
    real = report.write_report

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(report, "write_report", spy)
    dialog = StatsDialog(None, study)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.computing, timeout=30_000)
    assert threads == [False]
    assert "Figure 1" in dialog.browser.toPlainText()
    assert dialog.report_html.count("<figcaption>Figure ") == 5
