"""The GUI's modules stay readable: none over 400 lines (the project's "modules under ~400
lines"; main_window.py had grown to 401 and was split along its film list: window_films.py).
The names other modules and tests import from main_window stay importable from it."""

from __future__ import annotations

from pathlib import Path

import cobbdesk.gui

LIMIT = 400
GUI = Path(cobbdesk.gui.__file__).parent


def test_no_gui_module_is_over_400_lines() -> None:
    sizes = {str(p.relative_to(GUI)): len(p.read_text(encoding="utf-8").splitlines())
             for p in GUI.rglob("*.py")}  # fmt: skip
    assert len(sizes) > 50  # the whole GUI package was read
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}


def test_the_main_window_keeps_its_names_and_its_film_list_methods() -> None:
    from cobbdesk.gui import main_window, window_films

    assert main_window.OpenFilm is window_films.OpenFilm
    assert (main_window.PHOTO_FILTER, main_window.STUDY_SUFFIX) == (
        window_films.PHOTO_FILTER, window_films.STUDY_SUFFIX)  # fmt: skip
    for name in ("open_paths", "remember_recent", "open_files_dialog", "open_folder_dialog",
                 "_loaded", "_failed", "open_anyway", "close_films"):  # fmt: skip
        assert getattr(main_window.MainWindow, name) is getattr(window_films.WindowFilms, name)
