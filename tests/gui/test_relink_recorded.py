"""Relink and opening in the window (F3): a film imported from its header and measured by CSV
only is not relinked to another image with its SOP Instance UID and swapped pixel spacing
(the dialog names the spacing, the study keeps the old path, no hash is stored); the film
itself, moved, is relinked.  The same impostor found at the film's own path is not taken by
opening either: named, not hashed, edits refused."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from cobbdesk.core.measure.measurement import Template
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from tests.core.test_relink_checks import case  # noqa: F401  (fixture)


@pytest.fixture
def shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    texts: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: texts.append(text))
    return texts


@pytest.fixture
def window(qtbot, case, shown: list[str]) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]  # noqa: F811
    study, _, _ = case
    path = study.path
    study.close()
    win = MainWindow(rater="alice", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.show()
    assert win.session.open_study(path)
    yield win
    win.session.shutdown()


def test_relink_refuses_an_impostor_then_takes_the_moved_film(
    qtbot, window: MainWindow, case, shown: list[str]  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    _, moved, impostor = case
    session = window.session
    assert session.study is not None
    (record,) = session.study.films()
    assert session.relink(record, [impostor.parent]) is not None
    qtbot.waitUntil(lambda: not session.jobs, timeout=20000)
    (text,) = shown
    assert f"None of 1 file(s) is film #{record.id}" in text
    assert "pixel spacing (PixelSpacing) is 0.1 × 0.2 mm" in text, text
    with Study.open(session.study.path) as fresh:
        kept = fresh.film(record.id)
    assert (kept.path, kept.pixel_sha256) == (record.path, None)
    assert session.relink(record, [moved.parent, impostor.parent]) is not None
    qtbot.waitUntil(lambda: not session.jobs, timeout=20000)
    qtbot.waitUntil(lambda: session.study.film(record.id).path == str(moved), timeout=20000)  # type: ignore[union-attr]
    assert len(shown) == 1


def test_opening_an_impostor_at_the_films_path_is_refused_and_not_hashed(
    qtbot, window: MainWindow, case, shown: list[str]  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    _, _, impostor = case
    session = window.session
    assert session.study is not None
    (record,) = session.study.films()
    shutil.copy(impostor, record.path)  # another image with the film's UID, where it was
    session.browser.filmActivated.emit(record)
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert "not the film in the study (pixel spacing (PixelSpacing) is 0.1 × 0.2 mm" in shown[0]
    qtbot.waitUntil(lambda: window.current is not None and window.current.controller is not None)
    controller = window.current.controller  # type: ignore[union-attr]
    assert not controller.measurements  # the CSV measurement is not shown on the impostor
    messages: list[str] = []
    controller.messageChanged.connect(messages.append)
    controller.start_placement(Template.C2_C7)
    for x, y in ((20, 30), (120, 40), (20, 130), (120, 110)):
        controller.press(float(x), float(y), Qt.KeyboardModifier.NoModifier)
    assert not controller.measurements
    assert any("not linked to the study" in m for m in messages), messages
    with Study.open(session.study.path) as fresh:
        assert fresh.film(record.id).pixel_sha256 is None
        assert len(fresh.measurements(record.id)) == 1
