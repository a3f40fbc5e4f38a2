"""The whole app (#15): a study film open in the main viewer and in the compare view at once.

The study of ``test_compare_reading_off_ui`` (Z0001's admission film: synthetic cervical spine of
14° lordosis, facing left, 0.5 mm) is opened in the main window; the film is shown in the viewer
and Compare (Ctrl+K) shows it again.  A measurement placed in the compare view appears in the
viewer as soon as its save lands, an adjustment in the viewer appears in the compare view, and
neither runs SQL on the UI thread.  A save that lands while the viewer is in the middle of a drag
is not shown under the drag: the drag's edit meets the conflict question (it was made on the old
version), and after Cancel the viewer shows what is stored.
"""

from __future__ import annotations

from typing import Any

from cobbdesk.core.measure.commands import MoveLine
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.viewer import measure_tool
from tests.gui.test_compare_reading_off_ui import (  # the same study, window and helpers
    _env,
    click,
    film_of,
    open_compare_of_shown_film,
    saves_done,
    spine,
    study_of,
    where,
    window,
)
from tests.gui.ui_thread_sql import UiThreadSql

__all__ = ["_env", "where", "window"]  # fixtures used by the tests below


def _upper_y(study: Any, mid: str) -> float | None:
    found = study.reread_measurement(mid, seen={})  # the test's own read
    return None if found is None else found.upper.anterior[1]


def test_viewer_and_compare_on_one_film_never_lose_an_edit(
    qtbot: Any, window: MainWindow, _env: list[str], monkeypatch: Any
) -> None:
    study = study_of(window)
    record, index = film_of(study, "Z0001", "admission")
    window.session.reason_prompt = lambda parent, text: "endplate re-read"  # both windows
    compare = open_compare_of_shown_film(qtbot, window, record)
    viewer = window.current.controller if window.current is not None else None
    assert viewer is not None and len(viewer.measurements) == 0
    side = next(s for s in compare.view.sides if s.slot and s.slot.film.id == record.id)
    asked: list[str] = []
    monkeypatch.setattr(measure_tool, "ask_conflict",
                        lambda parent, text: asked.append(text) or None)  # fmt: skip
    with UiThreadSql(study) as seen:  # compare: measure the film; the viewer shows it
        click(qtbot, side.view, (5.0, 5.0))
        qtbot.keyClick(side.view.viewport(), measure_tool.Qt.Key.Key_M)
        for line in spine(index).template_endplates:
            for corner in line:
                click(qtbot, side.view, corner)
        saves_done(qtbot, window)
        assert side.controller is not None and len(side.controller.measurements) == 1
        mid = next(iter(side.controller.measurements))
        qtbot.waitUntil(lambda: mid in viewer.measurements, timeout=10000)
        assert viewer.measurements[mid] == side.controller.measurements[mid]
        y0 = viewer.measurements[mid].upper.anterior[1]
        assert viewer.push(MoveLine(mid, "upper", 0, 2)).ok  # the viewer adjusts it
        saves_done(qtbot, window)
        qtbot.waitUntil(lambda: side.controller.measurements[mid].upper.anterior[1] == y0 + 2,
                        timeout=10000)  # fmt: skip
    assert seen.statements == []
    assert _upper_y(study, mid) == y0 + 2 and asked == []
    # the viewer starts a drag; the compare view's save lands meanwhile
    upper = viewer.measurements[mid].upper.anterior
    assert viewer.press(upper[0], upper[1], measure_tool.Qt.KeyboardModifier.NoModifier)
    assert side.controller.push(MoveLine(mid, "upper", 0, 3)).ok  # compare: y0 + 5
    saves_done(qtbot, window)
    qtbot.wait(100)  # delivered to the viewer, which holds its drag
    assert viewer.measurements[mid].upper.anterior[1] == y0 + 2  # not swapped under the drag
    viewer.move(upper[0], upper[1] + 4, measure_tool.Qt.MouseButton.LeftButton)
    viewer.release(upper[0], upper[1] + 4)  # an edit of the old version: y0 + 6 — asked
    assert len(asked) == 1 and "upper_anterior_y" in asked[0]
    assert _upper_y(study, mid) == y0 + 5  # Cancel: the compare view's save stays
    qtbot.waitUntil(lambda: viewer.measurements[mid].upper.anterior[1] == y0 + 5,
                    timeout=10000)  # fmt: skip  # and the viewer now shows it
    assert viewer.push(MoveLine(mid, "upper", 0, 1)).ok and len(asked) == 1
    saves_done(qtbot, window)
    assert _upper_y(study, mid) == y0 + 6
    compare.close()
