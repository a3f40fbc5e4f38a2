"""Relink in the window (F3): a film imported from its header and measured by CSV only is
not relinked to another image with its SOP Instance UID and swapped pixel spacing (the
dialog names the spacing, the study keeps the old path, no hash is stored); the film itself,
moved, is relinked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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
