"""A hashed study film's pixel hash is never waited for on the UI thread (#17): the film loader
delivers films hashed — the isolated reader's worker process hashes before sending the film
back, the in-process loader on its own thread — so the window's and the compare view's
identity checks (relink's rule: same pixel hash, aspect and spacing) compare finished hashes.
Until then the film is listed as loading and nothing can be measured on it; a film whose
pixels differ from the study's is still refused."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.importing.csv_import import import_points
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.compare.view import CompareView
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from tests.core.test_measure_film_identity import UID, _film, _points

MAIN = threading.main_thread()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every read of ``Film.pixel_sha256`` on the UI thread that found the hash unfinished
    (a ``Future``: the UI thread would wait for it)."""
    seen: list[str] = []
    real = Film.pixel_sha256

    def spy(film: Film) -> str:
        if threading.current_thread() is MAIN and not isinstance(film.digest, str):
            seen.append(film.path.name if film.path else "?")
        return real.fget(film)  # type: ignore[misc]

    monkeypatch.setattr(Film, "pixel_sha256", property(spy))
    return seen


@pytest.fixture
def shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    texts: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: texts.append(text))
    return texts


@pytest.fixture
def hashed(tmp_path: Path, make_ds: Callable[..., Any]) -> Iterator[tuple[Path, Path]]:
    """A study whose cervical admission film is hashed (opened before) and measured by
    alice; (study file, film file)."""
    film = _film(make_ds, tmp_path / "films" / "a.dcm")
    digest = read_film(film).pixel_sha256
    with Study.create(tmp_path / "s.cobbdesk", actor="alice") as study:
        pid = study.add_patient("P0001")
        visit = study.add_visit(pid, "admission", visit_date="2026-01-05")
        study.add_film(visit, sop_instance_uid=UID, path=film, region="lumbar",
                       pixel_sha256=digest, pixel_rows=400, pixel_columns=300,
                       facing="right", facing_source="dicom")  # fmt: skip
        assert import_points(study, _points(tmp_path)).imported == 1
        path = study.path
    yield path, film


def _window(qtbot: Any) -> MainWindow:
    win = MainWindow(rater="alice", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.show()
    return win


def test_the_window_opens_a_hashed_film_without_waiting_for_its_hash(
    qtbot: Any, hashed: tuple[Path, Path], waits: list[str], shown: list[str]
) -> None:
    study, film = hashed
    win = _window(qtbot)
    try:
        assert win.session.open_study(study)
        assert win.session.study is not None
        (record,) = win.session.study.films()
        win.session.open_film(record)
        qtbot.waitUntil(lambda: film.resolve() in win.session.links or
                        film in win.session.links, timeout=20000)  # fmt: skip
        controller = win.current.controller  # type: ignore[union-attr]
        assert len(controller.measurements) == 1 and shown == []
        assert waits == []
    finally:
        win.session.shutdown()


def test_the_window_still_refuses_a_file_with_other_pixels(
    qtbot: Any, hashed: tuple[Path, Path], make_ds: Callable[..., Any], tmp_path: Path,
    *, waits: list[str], shown: list[str],
) -> None:  # fmt: skip
    study, film = hashed
    shutil.copy(_film(make_ds, tmp_path / "other" / "a.dcm", seed=2), film)
    win = _window(qtbot)
    try:
        assert win.session.open_study(study)
        (record,) = win.session.study.films()  # type: ignore[union-attr]
        win.session.open_film(record)
        qtbot.waitUntil(lambda: bool(shown), timeout=20000)
        assert "not the film in the study" in shown[0]
        assert not win.session.links and waits == []
        assert not win.current.controller.measurements  # type: ignore[union-attr]
    finally:
        win.session.shutdown()


def test_the_compare_view_shows_a_hashed_film_without_waiting_for_its_hash(
    qtbot: Any, hashed: tuple[Path, Path], waits: list[str], shown: list[str]
) -> None:
    path, _film_path = hashed
    with Study.open(path, actor="alice") as study:
        loader = FilmLoader(isolated=False)
        view = CompareView(study, "alice", loader)
        loader.setParent(view)
        qtbot.addWidget(view)
        view.resize(1200, 800)
        view.show()
        qtbot.waitUntil(lambda: view.loaded, timeout=10000)
        (po,) = view.overview
        view.show_patient(po.patient.id, "lumbar")
        qtbot.waitUntil(view.films_shown, timeout=20000)
        side = next(s for s in view.sides if s.slot is not None and s.slot.film is not None)
        assert side.film is not None and side.controller is not None and not side.error
        assert len(side.controller.measurements) == 1
        assert waits == [] and shown == []
        view.close()
