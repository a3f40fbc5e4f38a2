"""The main window driven as a user would: open films, see errors, window/level, zoom, rotate."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from cobbdesk.core.dicom.film import Window
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

SHOTS = Path(os.environ.get("COBBDESK_SCREENSHOTS", "/tmp/cobbdesk_shots"))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


@pytest.fixture
def films(tmp_path: Path) -> list[Path]:
    cervical = make_lateral_spine("cervical", 15.0, rows=900, columns=720, seed=1)
    lumbar = make_lateral_spine(
        "lumbar", 35.0, rows=1100, columns=850, spacing_mm=(0.3, 0.3), seed=2
    )
    junk = tmp_path / "scan.dcm"
    junk.write_bytes(b"this is not a radiograph" * 20)
    return [
        write_dicom(cervical, tmp_path / "cervical.dcm"),
        write_dicom(lumbar, tmp_path / "lumbar.dcm", spacing_tag=None, photometric="MONOCHROME1"),
        junk,
    ]


@pytest.fixture
def window(qtbot, films: list[Path]) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.resize(1300, 850)
    win.show()
    win.open_paths(films)
    qtbot.waitUntil(lambda: all(f.film is not None or f.error for f in win.films), timeout=20000)
    return win


def _mouse(view, kind, pos: QPointF, button, buttons) -> None:  # type: ignore[no-untyped-def]
    event = QMouseEvent(
        kind, pos, view.viewport().mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(view.viewport(), event)


def test_films_open_and_bad_file_is_listed_with_its_error(
    window: MainWindow, _isolated_settings: list[str]
) -> None:
    texts = [window.film_list.item(i).text() for i in range(window.film_list.count())]
    assert texts[0] == "cervical.dcm"
    assert texts[1] == "lumbar.dcm  [uncalibrated]"
    assert texts[2] == "scan.dcm — cannot open"
    assert window.films[2].error.startswith("scan.dcm: not a DICOM file")
    assert _isolated_settings == [window.films[2].error]
    assert window.view.film is window.films[0].film
    assert window.status.spacing.text() == "Spacing 0.15 × 0.15 mm (PixelSpacing)"


def test_switching_films_and_uncalibrated_status(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    window.step_film(1)
    assert window.view.film is window.films[1].film
    assert window.status.spacing.text() == "Uncalibrated: measurements in pixels"
    window.step_film(1)  # the failed film: empty view, the app stays up
    assert window.view.film is None
    window.step_film(1)
    assert window.view.film is window.films[0].film


def test_cursor_readout_in_px_and_mm(window: MainWindow) -> None:
    view = window.view
    pos = QPointF(view.mapFromScene(QPointF(100, 200)))
    _mouse(view, QMouseEvent.Type.MouseMove, pos, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
    text = window.status.cursor.text()
    x, y, mx, my = (float(v) for v in re.findall(r"-?\d+\.\d+", text)[:4])
    assert abs(x - 100) <= 1 and abs(y - 200) <= 1  # one screen pixel at this zoom
    assert (mx, my) == (pytest.approx(x * 0.15, abs=0.06), pytest.approx(y * 0.15, abs=0.06))
    assert "value" in text


def test_right_drag_changes_window(window: MainWindow) -> None:
    view = window.view
    before = view.item.voi
    start = QPointF(view.viewport().rect().center())
    right = Qt.MouseButton.RightButton
    _mouse(view, QMouseEvent.Type.MouseButtonPress, start, right, right)
    _mouse(
        view, QMouseEvent.Type.MouseMove, start + QPointF(40, -20), Qt.MouseButton.NoButton, right
    )
    _mouse(
        view,
        QMouseEvent.Type.MouseButtonRelease,
        start + QPointF(40, -20),
        right,
        Qt.MouseButton.NoButton,
    )
    after = view.item.voi
    assert isinstance(after, Window) and isinstance(before, Window)
    assert after.width > before.width and after.center < before.center


def test_wheel_zoom_keeps_point_under_cursor(window: MainWindow) -> None:
    view = window.view
    pos = QPointF(300, 250)
    anchor = view.mapToScene(pos.toPoint())
    zoom = view.zoom
    event = QWheelEvent(
        pos,
        view.viewport().mapToGlobal(pos),
        QPoint(),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)
    assert view.zoom == pytest.approx(zoom * 1.25**2)
    after = view.mapToScene(pos.toPoint())
    assert (
        abs(after.x() - anchor.x()) < 2 / view.zoom + 1
        and abs(after.y() - anchor.y()) < 2 / view.zoom + 1
    )


def test_rotate_flip_invert_are_display_only(window: MainWindow) -> None:
    view = window.view
    pixels_before = view.film.pixels.copy()
    window.actions_by_name["rotate_cw"].trigger()
    window.actions_by_name["flip_h"].trigger()
    window.actions_by_name["invert"].trigger()
    assert view.orientation.quarter_turns == 1 and view.orientation.flip_horizontal
    assert view.item.user_invert
    np.testing.assert_array_equal(view.film.pixels, pixels_before)
    # scene (image) coordinates of the film are untouched: pixel (0, 0) is still at the origin
    assert view.item.pos() == QPointF(0, 0)


def test_keyboard_shortcuts_exist_for_view_actions(window: MainWindow) -> None:
    for name in (
        "fit",
        "one",
        "zoom_in",
        "zoom_out",
        "invert",
        "auto",
        "rotate_cw",
        "flip_h",
        "flip_v",
        "c2c7",
        "l1s1",
        "free",
        "delete",
        "open",
        "save",
    ):
        assert not window.actions_by_name[name].shortcut().isEmpty(), name
    assert window.actions_by_name["undo"].shortcut().toString() == "Ctrl+Z"


def test_screenshot_of_main_window(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    window.view.fit()
    qtbot.wait(50)
    path = SHOTS / "main_window.png"
    assert window.grab().save(str(path))
    assert path.stat().st_size > 10_000


def test_isolated_loader_opens_a_film(qtbot, films: list[Path]) -> None:  # type: ignore[no-untyped-def]
    loader = FilmLoader(isolated=True)
    got: list[str] = []
    loader.loaded.connect(lambda path, film: got.append(film.sop_instance_uid))
    loader.load(films[0])
    qtbot.waitUntil(lambda: bool(got), timeout=30000)
    loader.close()
    assert got[0]


def test_demo_command_starts_and_quits(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        COBBDESK_QUIT_AFTER_MS="4000",
        COBBDESK_CONFIG_DIR=str(tmp_path),
        COBBDESK_LOG_DIR=str(tmp_path / "logs"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "cobbdesk", "--demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "logs" / "cobbdesk.log").exists()


def test_first_paint_needs_no_heavy_modules() -> None:
    """Start-up stays fast: the array, DICOM and database stacks load after the first paint."""
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from cobbdesk.gui.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); app.processEvents()\n"
        "heavy = ('sqlalchemy', 'numpy', 'pydicom', 'cv2', 'pandas', 'scipy', 'matplotlib')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "w.loader.close()\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
