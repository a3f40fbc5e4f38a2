"""Measure ▸ Calibrate… on a photo of a film: in memory, and stored in a study (issue #11)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.viewer import calibrate_tool
from cobbdesk.gui.workers import FilmLoader

NO_KEYS = Qt.KeyboardModifier.NoModifier


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    values = np.random.default_rng(3).integers(0, 255, (300, 240), dtype=np.uint8)
    path = tmp_path / "film.jpg"
    Image.fromarray(values).save(path, quality=90)
    return path


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.show()
    yield win
    win.session.shutdown()


def _wait_open(qtbot, win: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: win.view.film is not None, timeout=20000)
    qtbot.waitUntil(lambda: win.current is not None and win.current.controller is not None)


def _calibrate(win: MainWindow, length_mm: float | None) -> None:
    tool = calibrate_tool.start(win, ask=lambda _parent, _px: length_mm)
    assert tool is not None and win.view.tool is tool
    tool.press(20.0, 30.0, NO_KEYS)
    tool.press(20.0, 230.0, NO_KEYS)  # 200 px
    assert win.view.tool is not tool  # the measuring tool is back


def test_photo_opens_and_calibrates_in_memory(qtbot, window: MainWindow, photo: Path) -> None:  # type: ignore[no-untyped-def]
    window.open_paths([photo])
    _wait_open(qtbot, window)
    film = window.view.film
    assert film is not None and film.spacing_source is SpacingSource.NONE
    assert any("perspective" in n for n in film.notices)
    _calibrate(window, 25.0)
    assert film.spacing_mm == pytest.approx((0.125, 0.125))
    assert film.spacing_source is SpacingSource.USER
    assert "user calibration" in window.status.spacing.text()
    controller = window.current.controller  # type: ignore[union-attr]
    assert controller.context.spacing == pytest.approx((0.125, 0.125))
    assert controller.context.spacing_source is SpacingSource.USER


def test_cancelled_length_changes_nothing(qtbot, window: MainWindow, photo: Path) -> None:  # type: ignore[no-untyped-def]
    window.open_paths([photo])
    _wait_open(qtbot, window)
    _calibrate(window, None)
    assert window.view.film is not None and window.view.film.spacing_mm is None


def test_study_film_calibration_is_saved_and_reapplied(
    qtbot, window: MainWindow, photo: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "s.cobbdesk"
    film = read_film(photo)
    with Study.create(path, actor="setup") as study:
        vid = study.add_visit(study.add_patient("P0001"), "admission")
        fid = study.add_film(
            vid, sop_instance_uid=film.sop_instance_uid, path=photo, region="lumbar",
            pixel_sha256=film.pixel_sha256, pixel_rows=film.rows, pixel_columns=film.columns,
        )  # fmt: skip
    assert window.session.open_study(path)
    record = window.session.study.films()[0]  # type: ignore[union-attr]
    window.session.browser.filmActivated.emit(record)
    _wait_open(qtbot, window)
    qtbot.waitUntil(lambda: photo in window.session.links)
    _calibrate(window, 25.0)
    with Study.open(path) as fresh:
        calibration = fresh.film_calibration(fid)
    assert calibration is not None and calibration.spacing_mm == pytest.approx((0.125, 0.125))
    assert calibration.rater == "tester"
    # a fresh read of the film gets the study's calibration when opened from the study
    from cobbdesk.core.compare.saver import film_session

    again = read_film(photo)
    with Study.open(path) as fresh:
        session = film_session(fresh, fresh.films()[0], again, "tester")
    assert session.film.spacing_source is SpacingSource.USER
    assert again.spacing_mm == pytest.approx((0.125, 0.125))
