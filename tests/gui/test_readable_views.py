"""Views read completely at 1366×768 (#17): no text drawn over text, no label squeezed below
its text, no header cut, no dialog taller than the screen.  Measured with QFontMetrics and
the widgets' geometry at scale 1 (the 200 % screenshots are checked by eye)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QWidget

from cobbdesk.core.store.outbox import OutboxState, Phase
from cobbdesk.gui.study.saving import SaveStatus
from cobbdesk.gui.viewer.calibrate_tool import PROMPTS
from cobbdesk.gui.viewer.status import StatusBar

CALIBRATE_PROMPT = f"{PROMPTS[0]}; then {PROMPTS[1].split(': ')[1]} (Esc: cancel)"
CURSOR = "x 1528.4  y 1597.2 px  (382.1, 399.3 mm)   value 31894"
WINDOW = "W/L centre 1,754  width 2,979"
SPACING = "Spacing 0.139 × 0.139 mm (ImagerPixelSpacing)"


@pytest.fixture
def bar(qtbot) -> Iterator[StatusBar]:  # type: ignore[no-untyped-def]
    window = QMainWindow()
    status = StatusBar()
    window.setStatusBar(status)
    window.setCentralWidget(QWidget())
    saving = SaveStatus()
    saving.setObjectName("save_status")
    status.addPermanentWidget(saving)
    saving.show_state(OutboxState())
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    status.spacing.setText(SPACING)
    status.cursor.setText(CURSOR)
    status.window_level.setText(WINDOW)
    yield status  # the window stays referenced while the test runs
    window.close()


def _settle() -> None:
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def _permanent(bar: StatusBar) -> list[QWidget]:
    return [w for w in bar._permanent if w.isVisible()]


def _message_room(bar: StatusBar) -> int:
    """QStatusBar draws its message from x = 6 up to 4 px before the first permanent widget
    shown, clipped there (qstatusbar.cpp, messageRect)."""
    right = min((w.x() for w in _permanent(bar)), default=bar.width() - 12) - 4
    return right - 6


def _squeezed(bar: StatusBar) -> list[str]:
    """Labels of the bar (permanent, and inside the save status) narrower than their text or
    reaching past the bar's right edge."""
    labels = [w for w in _permanent(bar) if isinstance(w, QLabel)]
    labels += [w.label for w in _permanent(bar) if isinstance(w, SaveStatus)]
    bad = []
    for label in labels:
        right = label.mapTo(bar, label.rect().topRight()).x()
        narrow = label.width() < label.fontMetrics().horizontalAdvance(label.text())
        if narrow or right > bar.width():
            bad.append(label.text())
    return bad


def test_a_prompt_reads_whole_beside_the_readouts(bar: StatusBar) -> None:
    bar.showMessage(CALIBRATE_PROMPT)
    _settle()
    assert bar.fontMetrics().horizontalAdvance(CALIBRATE_PROMPT) <= _message_room(bar)
    assert _squeezed(bar) == []
    assert bar.spacing.isVisible()  # the spacing never steps aside
    bar.clearMessage()
    _settle()
    assert bar.cursor.isVisible() and bar.window_level.isVisible()  # back once it is gone
    assert _squeezed(bar) == []


def test_a_long_save_state_is_not_cut_on_the_right(bar: StatusBar) -> None:
    saving = bar.findChild(SaveStatus, "save_status")
    assert saving is not None
    waiting = OutboxState(Phase.WAITING, pending=12, retry_at=None, problem="connection refused",
                          headline="Server unreachable")  # fmt: skip
    saving.show_state(waiting)
    bar.showMessage("Saved to study (film #1).")
    _settle()
    assert _squeezed(bar) == []
    assert bar.fontMetrics().horizontalAdvance(bar.currentMessage()) <= _message_room(bar)


def test_a_readout_that_changes_while_hidden_comes_back(bar: StatusBar) -> None:
    bar.showMessage(CALIBRATE_PROMPT)
    _settle()
    bar.cursor.setText("x 1.0  y 2.0 px")
    bar.clearMessage()
    _settle()
    assert bar.cursor.isVisible() and _squeezed(bar) == []


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path


def test_the_statistics_dialog_fits_its_screen(qtbot, config: Path) -> None:  # type: ignore[no-untyped-def]
    from cobbdesk.core.store import Study
    from cobbdesk.gui.study.stats_dialog import StatsDialog
    from tests.core.export.conftest import build_fixture_study

    path = build_fixture_study(config / "fixture.cobbdesk")
    with Study.open(path, actor="tester") as study:
        dialog = StatsDialog(None, study)
        qtbot.addWidget(dialog)
        dialog.show()
        area = dialog.screen().availableGeometry()
        # a title bar (~30 px) above it must stay on the screen too (760 px did not at 768)
        assert dialog.height() + 30 <= area.height()
        assert dialog.width() <= area.width()
        qtbot.waitUntil(lambda: not dialog.computing, timeout=30_000)
        _settle()
        text = dialog.text  # the summary: whole lines, none cut in half at its bottom edge
        shown = text.viewport().height() - text.document().documentMargin()  # top margin
        assert shown % text.fontMetrics().lineSpacing() == 0
        assert shown // text.fontMetrics().lineSpacing() >= 6
        dialog.close()


def test_the_pacs_result_headers_read_whole_before_a_search(qtbot, config: Path) -> None:  # type: ignore[no-untyped-def]
    from cobbdesk.gui.pacs.query_dialog import COLUMNS, QueryDialog

    dialog = QueryDialog(SimpleNamespace(session=None), None)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    header = dialog.tree.header()
    cut = [name for column, name in enumerate(COLUMNS)
           if header.sectionSize(column) < header.sectionSizeHint(column)]  # fmt: skip
    assert cut == []  # "Patient / study / series" was cut to "Patient / study /"
    assert not dialog.progress.isVisible()  # an empty bar looked like a text field
    dialog.runner.shutdown()


def test_the_sr_folder_reads_whole(qtbot, config: Path) -> None:  # type: ignore[no-untyped-def]
    from cobbdesk.gui.pacs.sr_dialog import SrExportDialog

    study = SimpleNamespace(path=Path("/home/rater/studies/cervical-2026/cervical-2026.cobbdesk"))
    dialog = SrExportDialog(study, SimpleNamespace(id=7), None)  # type: ignore[arg-type]
    qtbot.addWidget(dialog)
    dialog.show()
    folder = dialog.folder
    assert folder.text() == "/home/rater/studies/cervical-2026/cervical-2026-sr"
    # the text area: the line edit less its frame and text margins (2 + 2 px each side)
    assert folder.fontMetrics().horizontalAdvance(folder.text()) <= folder.width() - 8
    assert folder.toolTip() == folder.text()
    dialog.runner.shutdown()


def test_the_welcome_text_has_no_empty_band_around_it(qtbot, config: Path) -> None:  # type: ignore[no-untyped-def]
    from cobbdesk.gui.main_window import MainWindow
    from cobbdesk.gui.welcome import WelcomeDialog
    from cobbdesk.gui.workers import FilmLoader

    window = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    window.confirm_close = False
    qtbot.addWidget(window)
    dialog = WelcomeDialog(window)
    qtbot.addWidget(dialog)
    dialog.show()
    _settle()
    intro = dialog.intro
    # the label is as tall as its text: the spare height is not split above and below it
    assert intro.height() <= intro.heightForWidth(intro.width()) + 2
    dialog.close()


def test_the_export_raters_help_sits_under_the_raters_choice(qtbot, config: Path) -> None:  # type: ignore[no-untyped-def]
    from cobbdesk.core.store import Study
    from cobbdesk.gui.study.export_dialog import ExportDialog
    from tests.core.export.conftest import build_fixture_study

    path = build_fixture_study(config / "fixture.cobbdesk")
    with Study.open(path, actor="tester") as study:
        dialog = ExportDialog(None, study)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: not dialog.loading, timeout=30_000)
        help_y, raters_y = dialog.raters_help.y(), dialog.raters.y()
        assert raters_y < help_y < dialog.identified.y()  # was above "Format", out of context
        dialog.close()


def test_an_uncalibrated_flagged_angle_leaves_room_for_the_rater(qtbot) -> None:  # type: ignore[no-untyped-def]
    from cobbdesk.core.measure.measurement import Template
    from cobbdesk.gui.viewer.measure_panel import MeasurePanel

    panel = MeasurePanel("dr_a")
    qtbot.addWidget(panel)
    panel.resize(270, 600)  # the Measurements dock at 1366x768 (1366 // 5)
    panel.show()
    rows = [(Template.C2_C7, -12.34, None, "dr_a"), (Template.L1_S1, 45.6, (0.1, 0.1), "dr_b")]
    found = {str(i): SimpleNamespace(id=str(i), template=t, angle=a, spacing=s, rater=r)
             for i, (t, a, s, r) in enumerate(rows)}  # fmt: skip
    panel.controller = SimpleNamespace(  # type: ignore[assignment]
        measurements=found, selected_id=None,
        session=SimpleNamespace(flag=lambda m: "implausible" if m.angle < 0 else None),
    )  # fmt: skip
    panel.refresh()
    _settle()
    table, header = panel.table, panel.table.horizontalHeader()
    assert "uncalibrated" in table.item(0, 1).toolTip()  # the whole angle text
    widths = [header.sectionSize(column) for column in range(3)]
    assert sum(widths) <= table.viewport().width()  # every column on screen, "Rater" too
    assert not table.horizontalScrollBar().isVisible()
    metrics = table.fontMetrics()
    for row in range(table.rowCount()):
        for column in (0, 1):  # levels and angle read whole; a long rater name elides (tip)
            lines = table.item(row, column).text().splitlines()
            assert max(metrics.horizontalAdvance(line) for line in lines) <= widths[column]
    assert header.sectionSize(2) >= header.sectionSizeHint(2)  # the "Rater" header


SCALED = """
import json, sys
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget
app = QApplication([])
from cobbdesk.core.store.outbox import OutboxState, Phase
from cobbdesk.gui.study.saving import SaveStatus
from cobbdesk.gui.viewer.status import StatusBar
window, bar, saving = QMainWindow(), StatusBar(), SaveStatus()
bar.addPermanentWidget(saving)
saving.show_state(OutboxState(Phase.WAITING, pending=3, headline="Server unreachable"))
window.setStatusBar(bar)
window.setCentralWidget(QWidget())
window.resize(1366, 768)
window.show()
bar.spacing.setText(sys.argv[1])
bar.cursor.setText(sys.argv[2])
bar.window_level.setText(sys.argv[3])
bar.showMessage(sys.argv[4])
for _ in range(5):
    app.processEvents()
shown = [w for w in bar._permanent if w.isVisible()]
message = bar.fontMetrics().horizontalAdvance(bar.currentMessage())
squeezed = [w.text() for w in shown if hasattr(w, "text") and w.width() < w.sizeHint().width()]
room = min(w.x() for w in shown) - 10  # the message is drawn from x 6 to 4 px before them
print(json.dumps({"ratio": window.devicePixelRatio(), "message": message, "room": room,
                  "squeezed": squeezed}))
"""


def test_the_status_bar_reads_whole_at_200_percent(tmp_path: Path) -> None:
    """QT_SCALE_FACTOR=2 on a 2732x1536 screen (1366x768 logical), in a fresh process."""
    import json
    import subprocess
    import sys

    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "S", "x": 0, "y": 0, "width": 2732,
                                               "height": 1536, "logicalDpi": 96,
                                               "logicalBpi": 96, "dpr": 1}]}))  # fmt: skip
    platform = f"offscreen:configfile={screen}"
    env = {**os.environ, "QT_SCALE_FACTOR": "2", "QT_QPA_PLATFORM": platform}
    args = [sys.executable, "-c", SCALED, SPACING, CURSOR, WINDOW, CALIBRATE_PROMPT]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["ratio"] == 2.0
    assert seen["message"] <= seen["room"]
    assert seen["squeezed"] == []
