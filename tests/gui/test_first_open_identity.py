"""Opening a study film in the window establishes that its file IS the film the study
recorded, the Pixel Aspect Ratio included (tester's find: a never-opened film measured in
pixels by CSV, its file replaced by one that only adds Pixel Aspect Ratio 1\\2, opened with
the CSV measurement attached and was hashed — one film, +21.16° and +10.70° for the same
points).  The aspect comes with the film's record (read with it off the UI thread)."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.importing.csv_import import import_points
from cobbdesk.core.measure.measurement import Template
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from tests.core.test_measure_film_identity import WIDE_DEG, _film, _points, _study


@pytest.fixture
def shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    texts: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: texts.append(text))
    return texts


@pytest.fixture
def window(qtbot, shown: list[str]) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(rater="alice", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.show()
    yield win
    win.session.shutdown()


def _measured(tmp_path: Path, make_ds, aspect: str | None = None) -> tuple[Path, Path]:  # type: ignore[no-untyped-def]
    """A study whose film (never opened, no spacing) has one CSV measurement in pixels."""
    film = _film(make_ds, tmp_path / "films" / "a.dcm", aspect=aspect)
    study = _study(tmp_path, film)
    assert import_points(study, _points(tmp_path)).imported == 1
    path = study.path
    study.close()
    return path, film


def _open(qtbot, win: MainWindow, study: Path):  # type: ignore[no-untyped-def]
    assert win.session.open_study(study)
    assert win.session.study is not None
    (record,) = win.session.study.films()
    win.session.browser.filmActivated.emit(record)
    qtbot.waitUntil(lambda: win.current is not None and win.current.controller is not None,
                    timeout=20000)  # fmt: skip
    return record


def test_first_open_of_a_file_adding_pixel_aspect_is_refused_and_not_hashed(
    qtbot,
    window: MainWindow,
    shown: list[str],
    tmp_path: Path,
    make_ds,  # type: ignore[no-untyped-def]
) -> None:
    study, film = _measured(tmp_path, make_ds)
    shutil.copy(_film(make_ds, tmp_path / "other" / "a.dcm", aspect="1\\2"), film)
    record = _open(qtbot, window, study)
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert "a.dcm: not the film in the study (Pixel Aspect Ratio (0028,0034) is 1:2, the " \
        "study recorded 1:1); relink it" in shown[0]  # fmt: skip
    controller = window.current.controller  # type: ignore[union-attr]
    assert not controller.measurements  # the CSV measurement is not shown on this file
    messages: list[str] = []
    controller.messageChanged.connect(messages.append)
    controller.start_placement(Template.L1_S1)
    for x, y in ((200, 100), (100, 100), (200, 340), (100, 300)):
        controller.press(float(x), float(y), Qt.KeyboardModifier.NoModifier)
    assert not controller.measurements
    assert any("not linked to the study" in m for m in messages), messages
    with Study.open(study) as fresh:
        assert fresh.film(record.id).pixel_sha256 is None
        assert len(fresh.measurements(record.id)) == 1


def test_a_genuine_1_2_film_opens_with_its_angle_and_a_hashed_film_gone_square_is_refused(
    qtbot,
    window: MainWindow,
    shown: list[str],
    tmp_path: Path,
    make_ds,  # type: ignore[no-untyped-def]
) -> None:
    study, film = _measured(tmp_path, make_ds, aspect="1\\2")
    record = _open(qtbot, window, study)
    controller = window.current.controller  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: len(controller.measurements) == 1, timeout=20000)
    assert shown == []
    (m,) = (controller.measurements[key] for key in controller.measurements)
    assert m.angle == pytest.approx(math.degrees(math.atan(40 / 200)), abs=1e-9)
    assert m.angle == pytest.approx(WIDE_DEG, abs=1e-9)
    hashed = read_film(film).pixel_sha256
    qtbot.waitUntil(lambda: Study.open(study).film(record.id).pixel_sha256 == hashed,
                    timeout=20000)  # fmt: skip
    window.session.shutdown()
    # the same pixels without the Pixel Aspect Ratio: the hash alone would take it
    shutil.copy(_film(make_ds, tmp_path / "other" / "a.dcm"), film)
    again = MainWindow(rater="alice", loader=FilmLoader(isolated=False))
    again.confirm_close = False
    qtbot.addWidget(again)
    again.show()
    try:
        _open(qtbot, again, study)
        qtbot.waitUntil(lambda: bool(shown), timeout=20000)
        assert "Pixel Aspect Ratio (0028,0034) is 1:1, the study recorded 1:2" in shown[0]
        assert not again.current.controller.measurements  # type: ignore[union-attr]
    finally:
        again.session.shutdown()
