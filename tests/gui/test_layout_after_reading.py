"""The main window behind a reading window (#17, screenshot review): while it is blanked for
blinding nothing of the hidden film shows (status readouts included), and when the reading ends
the layout is exactly the one before — the film keeps its room (it shrank to a ~70 px strip
and the Measurements dock took ~990 px)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QDockWidget, QTableWidget

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.store import Study
from cobbdesk.gui.main_window import EMPTY_HINT, MainWindow
from cobbdesk.gui.study.photo_dialog import PATIENT_HINT, PhotoTargetDialog
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.synth.dicom import write_dicom
from tests.gui import test_reading_plans as plans
from tests.gui.test_reading_plans import (
    choose,
    create_plan_by_clicks,
    idle,
    plans_dialog,
    spine,
    wait_film,
)

_env, study_path, window = plans._env, plans.study_path, plans.window  # the fixtures

DOCKS = ("Films", "Study", "Raters", "Measurements")


def x_on_screen(dock: QDockWidget) -> bool:
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def geometries(win: MainWindow) -> dict[str, tuple[bool, QRect | None]]:
    """Each dock's visibility and geometry (a tabbed dock behind another: only its visibility,
    Qt parks it off the window at a size of no meaning), and the film view's."""
    docks = {n: win.findChild(QDockWidget, n) for n in DOCKS}
    found = {n: (d.isVisible(), d.geometry() if x_on_screen(d) else None)
             for n, d in docks.items() if d is not None}  # fmt: skip
    return {**found, "film": (win.view.isVisible(), win.view.geometry())}


def test_the_layout_after_a_reading_window_is_the_one_before(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, study_path: Path
) -> None:
    window.resize(1366, 768)
    qtbot.wait(200)
    before = geometries(window)
    assert before["film"][1].width() > 300
    dialog = plans_dialog(qtbot, window)
    create_plan_by_clicks(qtbot, dialog)
    choose(qtbot, dialog, "A", 1)
    rw = dialog.windows[-1]
    qtbot.waitExposed(rw)
    idle(qtbot, rw)
    wait_film(qtbot, rw)
    assert not window.view.isVisible()
    rw.close()
    qtbot.waitUntil(window.view.isVisible)
    qtbot.wait(200)  # layout requests run
    assert geometries(window) == before
    dialog.close()


def test_the_status_bar_shows_nothing_of_the_hidden_film_while_blinded(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow
) -> None:
    status = window.status
    status.cursor.setText("x 528.4  y 597.2 px   value 894")
    status.window_level.setText("W/L centre 1,754  width 2,979")
    status.spacing.setText("Spacing 0.25 × 0.25 mm (PixelSpacing)")
    window.cover_for_blinding(True)
    assert [status.cursor.text(), status.window_level.text(), status.spacing.text()] == [""] * 3
    window.cover_for_blinding(False)
    assert status.window_level.text() == "W/L centre 1,754  width 2,979"
    assert status.spacing.text() == "Spacing 0.25 × 0.25 mm (PixelSpacing)"
    assert status.cursor.text() == ""  # the pointer has moved since: the next move shows it


def fills_its_width(table: QTableWidget) -> bool:
    header = table.horizontalHeader()
    return header.length() >= table.viewport().width()


def test_the_plan_and_reading_tables_reach_their_right_edge(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow
) -> None:  # the last column stretches: no grey band at the right
    dialog = plans_dialog(qtbot, window)
    create_plan_by_clicks(qtbot, dialog)
    dialog.resize(900, 520)
    choose(qtbot, dialog, "A", 1)
    rw = dialog.windows[-1]
    rw.resize(1366, 768)
    qtbot.waitExposed(rw)
    idle(qtbot, rw)
    qtbot.wait(100)
    assert fills_its_width(dialog.progress) and fills_its_width(rw.table)
    rw.close()
    dialog.close()


def test_the_photo_dialog_shows_its_patient_hint_whole(  # type: ignore[no-untyped-def]
    qtbot, study_path: Path
) -> None:
    with Study.open(study_path) as study:
        dialog = PhotoTargetDialog(None, study, 3)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: not dialog.loading)
        edit = dialog.patient.lineEdit()
        assert edit.placeholderText() == PATIENT_HINT
        margins = edit.textMargins()
        room = edit.contentsRect().width() - margins.left() - margins.right() - 2 * 2
        metrics = QFontMetrics(edit.font())  # a character to spare: at 200 % the hinted
        # glyphs are a pixel or two wider than the advance says (it was cut there, 3 px spare)
        assert room >= metrics.horizontalAdvance(PATIENT_HINT) + metrics.averageCharWidth()
        dialog.reject()


def hint_pixels(view: FilmView) -> int:
    """Pixels in the view's middle band of the hint's grey (the text), none of a black view."""
    image = view.viewport().grab().toImage()
    grey = 0
    for y in range(image.height() // 3, 2 * image.height() // 3, 2):
        for x in range(0, image.width(), 2):
            colour = image.pixelColor(x, y)
            grey += colour.red() > 60 and abs(colour.red() - colour.blue()) < 8
    return grey


def test_the_empty_view_says_how_to_show_a_film_and_the_film_replaces_it(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    window.resize(1366, 768)
    qtbot.wait(100)
    assert window.view.film is None and window.view.empty_hint == EMPTY_HINT
    assert hint_pixels(window.view) > 50  # was a plain black rectangle
    bare = FilmView()
    qtbot.addWidget(bare)
    bare.resize(400, 300)
    bare.show()
    qtbot.waitExposed(bare)
    assert hint_pixels(bare) == 0  # views without a hint (reading, compare) stay black
    film = read_film(write_dicom(spine(0), tmp_path / "f.dcm"))
    with_hint = FilmView()
    qtbot.addWidget(with_hint)
    with_hint.empty_hint = EMPTY_HINT
    for view in (bare, with_hint):
        view.resize(400, 300)
        view.show()
        view.set_film(film)
    qtbot.waitExposed(with_hint)
    same = bare.viewport().grab().toImage() == with_hint.viewport().grab().toImage()
    assert same  # a film shown: no hint over it


def test_the_window_stays_blank_while_another_window_still_blinds_it(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow
) -> None:  # a blinded compare window open, a reading window opened and closed over it
    window.resize(1366, 768)
    qtbot.wait(100)
    before = geometries(window)
    window.cover_for_blinding(True)  # the compare window
    window.cover_for_blinding(True, "reading")
    window.cover_for_blinding(False, "reading")
    qtbot.wait(50)
    assert not window.view.isVisible()  # the compare window still blinds it (was shown)
    assert not window.findChild(QDockWidget, "Measurements").isVisible()
    window.cover_for_blinding(False)
    qtbot.waitUntil(window.view.isVisible)
    qtbot.wait(100)
    assert geometries(window) == before
