"""A film imported before CobbDesk read Pixel Aspect Ratio opens in the window and takes its
file's aspect (it was refused: "Pixel Aspect Ratio is 1:2, the study recorded 1:1"); what is
measured on it then uses that aspect, and it opens again as any film.  The aspect is recorded
through the write queue: no SQL on the UI thread."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from cobbdesk.core.measure.measurement import Template
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from tests.core.test_film_aspect_legacy import _film, _legacy
from tests.gui.ui_thread_sql import UiThreadSql

WIDE_DEG = math.degrees(math.atan(40 / 200))  # 40 rows over 100 columns twice as wide: 11.31°


@pytest.fixture
def shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    texts: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: texts.append(text))
    return texts


@pytest.fixture
def window(qtbot: Any, shown: list[str]) -> Iterator[MainWindow]:
    win = MainWindow(rater="alice", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.show()
    yield win
    win.session.shutdown()


def _open_film(qtbot: Any, win: MainWindow, study: Path) -> None:
    assert win.session.open_study(study)
    assert win.session.study is not None
    (record,) = win.session.study.films()
    win.session.browser.filmActivated.emit(record)
    qtbot.waitUntil(lambda: win.current is not None and win.current.controller is not None,
                    timeout=20000)  # fmt: skip


def _aspect_on_disk(path: Path) -> tuple[float, float] | None:
    with Study.open(path, read_only=True) as seen:
        return seen.film(1).pixel_aspect


def test_a_film_of_that_era_opens_takes_its_aspect_and_is_measured_with_it(
    qtbot: Any, window: MainWindow, shown: list[str], tmp_path: Path, make_ds: Any
) -> None:
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    legacy = _legacy(tmp_path, film)
    path = legacy.path
    legacy.close()  # migrated to schema 5; film #1: hashed, no aspect recorded, unmeasured
    assert _aspect_on_disk(path) is None
    _open_film(qtbot, window, path)
    study = window.session.study
    assert study is not None
    with UiThreadSql(study) as seen:
        qtbot.waitUntil(lambda: _aspect_on_disk(path) == (1.0, 2.0), timeout=20000)
        controller = window.current.controller  # type: ignore[union-attr]
        messages: list[str] = []
        controller.messageChanged.connect(messages.append)
        controller.start_placement(Template.C2_C7)
        for x, y in ((200, 100), (100, 100), (200, 340), (100, 300)):
            controller.press(float(x), float(y), Qt.KeyboardModifier.NoModifier)
        assert len(controller.measurements) == 1, messages
        saver = window.session.saver
        assert saver is not None
        qtbot.waitUntil(lambda: saver.outbox.pending() == 0, timeout=20000)
    assert seen.statements == []
    assert shown == []  # no refusal
    with Study.open(path, read_only=True) as check:
        (saved,) = check.measurements(1)
        assert saved.pixel_aspect == (1.0, 2.0)
        assert abs(saved.angle) == pytest.approx(WIDE_DEG, abs=1e-9)
    window.session.close_study()
    _open_film(qtbot, window, path)  # opened again: held to 1:2 like any film, accepted
    qtbot.wait(200)
    assert shown == []
    assert len(window.current.controller.measurements) == 1  # type: ignore[union-attr]
