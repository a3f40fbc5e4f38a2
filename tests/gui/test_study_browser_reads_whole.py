"""The study browser reads whole in its default-width dock at 1366×768 and at 200 % (#17):
every cell in view — a visit's label and a film's, their dates when shown, the status marks
and "Missing" — fits its column in the font it is drawn with, and no column lies beyond the
dock (no horizontal scrollbar).  Screenshots showed "Ad…"/"Mo…" for the visits, "…" for the
films and "compl…" for "Missing", with the rest behind a horizontal scrollbar.

Measured with QFontMetrics against each cell's rectangle less the item view's text margins
(QCommonStyle draws item text inside PM_FocusFrameHMargin + 1 on each side and elides
beyond), on a study like the demo (dated admission and month-3 visits, two films each) with
the longest texts each kind of row can show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QApplication, QDockWidget, QStyle, QTreeView

from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study.model import COL_VISIT, COLUMNS
from cobbdesk.gui.workers import FilmLoader
from tests.gui.ui_thread_sql import UiThreadSql

LABS = {"vas": 6, "neutrophil": 4.2, "lymphocyte": 2.1, "crp": 12}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))


def _measure(study: Study, film: int, sop: str, template: Template, steep: bool = False) -> None:
    """Lordosis of ≈ +18° (``steep``: ≈ −74°, outside the plausible range: a flag)."""
    if steep:
        upper, lower = EndplateLine((100, 130), (140, 100)), EndplateLine((100, 270), (140, 300))
    else:
        upper = EndplateLine((100.0, 100.0), (160.0, 110.0))
        lower = EndplateLine((100.0, 300.0), (160.0, 280.0))
    m = CobbMeasurement(sop_instance_uid=sop, pixel_sha256="", template=template,
                        upper=upper, lower=lower, rater="dr_a")  # fmt: skip
    study.save_measurement(film, m)


def build_study(place: Path) -> Path:
    """Twelve patients as in the demo (admission in January, month 3 ≈ day +89, a cervical
    and a lumbar film each, measured, labs) and the rows with the longest texts: no visits,
    no month 3 with a bare admission, unmeasured films, files not found, a film of unknown
    region, an implausible (flagged) angle; films #1 … #40."""
    films = place.parent / "films"
    films.mkdir(parents=True, exist_ok=True)
    with Study.create(place, actor="setup") as study:
        for n in range(1, 13):
            patient = study.add_patient(f"P{n:04d}")
            if n == 10:
                continue  # no visits at all
            for kind, day in (("admission", f"2026-01-{n:02d}"), ("month3", f"2026-04-{n:02d}")):
                if n == 11 and kind == "month3":
                    continue  # no month 3 visit, and a bare admission below
                visit = study.add_visit(patient, kind, visit_date=day)
                if n == 11:
                    continue
                regions = ("cervical", "unknown") if n == 12 and kind == "month3" else (
                    "cervical", "lumbar")  # fmt: skip
                for region in regions:
                    sop = f"1.2.{visit}.{region}"
                    path = films / f"{sop}.dcm"
                    if n not in (8, 9):
                        path.write_bytes(b"x")  # P0008/P0009: files not found
                    film = study.add_film(visit, sop_instance_uid=sop, path=path,
                                          region=region, study_date=day)  # fmt: skip
                    measured = n < 9 and region != "unknown"
                    if measured:
                        template = Template.C2_C7 if region == "cervical" else Template.L1_S1
                        _measure(study, film, sop, template, steep=n == 7 and kind == "month3")
                if n not in (9, 12) or kind == "admission":
                    study.set_labs(visit, LABS)
    return place


def open_window(place: Path) -> MainWindow:
    win = MainWindow(rater="dr_a", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    win.resize(1366, 768)
    win.show()
    assert win.session.open_study(place)
    return win


def _margin(tree: QTreeView) -> int:
    return tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1


def _cells(tree: QTreeView) -> Iterator[QModelIndex]:
    header = tree.header()
    index = tree.indexAt(QPoint(1, 1))
    while index.isValid() and tree.visualRect(index).top() < tree.viewport().height():
        for column in range(header.count()):
            if not header.isSectionHidden(column):
                yield index.siblingAtColumn(column)
        index = tree.indexBelow(index)


def overflow(tree: QTreeView) -> list[tuple[str, int, int]]:
    """(text, its width, the room) of each cell in view whose text would be elided or lies
    (partly) beyond the viewport's right edge."""
    cut, margin, right = [], _margin(tree), tree.viewport().width()
    for index in _cells(tree):
        text = index.data() or ""
        rect = tree.visualRect(index)  # the tree column's: right of its indentation
        font = index.data(Qt.ItemDataRole.FontRole)
        metrics = QFontMetrics(font if isinstance(font, QFont) else tree.font())
        width, room = metrics.horizontalAdvance(text), rect.width() - 2 * margin
        if text and (width > room or rect.left() + margin + width > right):
            cut.append((text, width, room))
    return cut


def header_cut(tree: QTreeView) -> list[str]:
    header = tree.header()
    return [COLUMNS[c] for c in range(header.count()) if not header.isSectionHidden(c)
            and header.sectionSize(c) < header.sectionSizeHint(c)]  # fmt: skip


def check_every_page(tree: QTreeView, wait: Any) -> dict[str, Any]:
    """Expanded, page by page from the top to the end: what was cut, and what was read.
    ``wait()`` returns once the columns are refitted to the rows in view."""
    seen: dict[str, Any] = {"cut": [], "headers": [], "texts": set(), "scrollbar": False}
    bar = tree.verticalScrollBar()
    bar.setValue(0)
    while True:
        wait()
        seen["cut"] += overflow(tree)
        seen["headers"] += header_cut(tree)
        seen["texts"] |= {i.data() for i in _cells(tree) if i.data()}
        seen["scrollbar"] |= tree.header().length() > tree.viewport().width()
        if bar.value() >= bar.maximum():
            break
        bar.setValue(bar.value() + bar.pageStep())
    seen["dates_shown"] = not tree.header().isSectionHidden(COL_VISIT)
    seen["texts"] = sorted(seen["texts"])
    return seen


def refitted(qtbot: Any, browser: Any) -> None:
    qtbot.waitUntil(lambda: not browser.missing_fit.pending, timeout=5000)


def loaded(model: Any) -> bool:
    return all(model.node(model.index(r, 0)).loaded for r in range(model.rowCount()))


@pytest.fixture
def window(qtbot: Any, tmp_path: Path) -> Iterator[MainWindow]:
    win = open_window(build_study(tmp_path / "study" / "demo.cobbdesk"))
    qtbot.addWidget(win)
    yield win
    win.session.shutdown()


def test_every_cell_reads_whole_at_1366x768(qtbot: Any, window: MainWindow) -> None:
    browser = window.session.browser
    tree, model = browser.tree, browser.model
    with UiThreadSql(window.session.study) as sql:  # type: ignore[arg-type]
        qtbot.waitUntil(lambda: model.rowCount() == 12, timeout=10_000)
        tree.expandAll()  # every patient's visits are read off the UI thread, then shown
        qtbot.waitUntil(lambda: loaded(model), timeout=10_000)
        tree.expandAll()
        qtbot.waitUntil(lambda: bool(model.film_flags), timeout=10_000)  # the flag run
        seen = check_every_page(tree, lambda: refitted(qtbot, browser))
    assert sql.statements == []
    assert seen["cut"] == []  # was: 'Admission' 61 px in 32, 'Cervical #1' 77 in 20, …
    assert seen["headers"] == []
    assert not seen["scrollbar"] and not tree.horizontalScrollBar().isVisible()
    # the rows with the longest texts were all read (and the visits and films themselves)
    for text in ("Admission", "Month 3", "Cervical #1", "Lumbar #2", "Unknown #", "complete",
                 "no visits", "no month 3", "file not found", "\u26a0 check angle",
                 "not measured", "3 items", "2 angles", "region not set"):  # fmt: skip
        assert any(t.startswith(text) for t in seen["texts"]), text
    assert window.view.width() > window.width() / 2  # the film keeps most of the window


def test_the_dates_show_when_the_dock_has_room_for_them(qtbot: Any, window: MainWindow) -> None:
    tree, model = window.session.browser.tree, window.session.browser.model
    qtbot.waitUntil(lambda: model.rowCount() == 12, timeout=10_000)
    tree.expandAll()
    qtbot.waitUntil(lambda: loaded(model), timeout=10_000)
    tree.expandAll()
    refitted(qtbot, window.session.browser)
    assert tree.header().isSectionHidden(COL_VISIT)  # default width: in the tooltips
    month3 = model.index(1, 0, model.index(0, 0))
    assert month3.data(Qt.ItemDataRole.ToolTipRole) == "Month 3: 2026-04-01  (day +90)"
    dock = window.findChild(QDockWidget, "Study")
    window.resizeDocks([dock], [dock.width() + 250], Qt.Orientation.Horizontal)  # dragged
    qtbot.waitUntil(lambda: not tree.header().isSectionHidden(COL_VISIT), timeout=2000)
    seen = check_every_page(tree, lambda: refitted(qtbot, window.session.browser))
    assert seen["cut"] == [] and not seen["scrollbar"]
    assert "2026-04-01  (day +90)" in seen["texts"]


SCALED = """
import json, sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from tests.gui import test_study_browser_reads_whole as t
win = t.open_window(t.build_study(Path(sys.argv[1])))
browser = win.session.browser
model, tree, fit = browser.model, browser.tree, browser.missing_fit
pump, loaded = t.pump, t.loaded
pump(lambda: model.rowCount() == 12 and bool(model.film_flags))
tree.expandAll()
pump(lambda: loaded(model))
tree.expandAll()
seen = t.check_every_page(tree, lambda: pump(lambda: not fit.pending))
seen.update(ratio=win.devicePixelRatio(), film=win.view.width(), window=win.width())
print(json.dumps(seen))
win.session.shutdown()
"""


def pump(done: Any, seconds: float = 15.0) -> None:
    """Process events until ``done()`` or ``seconds`` (for the subprocess, without qtbot)."""
    import time

    end = time.monotonic() + seconds
    while not done() and time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.005)


def test_every_cell_reads_whole_at_200_percent(tmp_path: Path) -> None:
    """QT_SCALE_FACTOR=2 on a 2732×1536 screen (1366×768 logical), in a fresh process."""
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "S", "x": 0, "y": 0, "width": 2732,
                                               "height": 1536, "logicalDpi": 96,
                                               "logicalBpi": 96, "dpr": 1}]}))  # fmt: skip
    env = {**os.environ, "QT_SCALE_FACTOR": "2",
           "QT_QPA_PLATFORM": f"offscreen:configfile={screen}",
           "COBBDESK_CONFIG_DIR": str(tmp_path / "config"),
           "COBBDESK_LOG_DIR": str(tmp_path / "logs")}  # fmt: skip
    place = tmp_path / "study" / "demo.cobbdesk"
    done = subprocess.run([sys.executable, "-c", SCALED, str(place)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["ratio"] == 2.0
    assert seen["cut"] == [] and seen["headers"] == [] and not seen["scrollbar"]
    assert any(t.startswith("Cervical #") for t in seen["texts"])
    assert "Month 3" in seen["texts"] and "no month 3" in seen["texts"]
    assert seen["film"] > seen["window"] / 2
