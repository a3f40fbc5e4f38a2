"""Study films found whatever the working folder (F2): the demo stores absolute paths; an older
study holding paths relative to where it was made opens its films from any working folder,
linked to the study (saved measurements and facing shown, new ones stored); a film opened
from the study but not linked to it refuses edits instead of looking saved."""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from cobbdesk.core.importing.films import stored_film_path
from cobbdesk.core.measure.measurement import Template
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.demo_study import write_demo_study


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``cobbdesk demo demo`` run in a scratch folder: a RELATIVE target folder."""
    where = tmp_path_factory.mktemp("made_here")
    before = Path.cwd()
    os.chdir(where)
    try:
        return write_demo_study("demo").resolve()
    finally:
        os.chdir(before)


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.chdir(tmp_path)  # another working folder than the one the demo was made in
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


def test_demo_made_in_a_relative_folder_stores_absolute_paths(demo: Path) -> None:
    with Study.open(demo) as study:
        paths = [Path(f.path) for f in study.films()]
    assert len(paths) == 48
    assert all(p.is_absolute() and p.is_file() for p in paths)
    assert {p.parent for p in paths} == {demo.parent / "films"}


def test_a_relative_path_given_to_the_store_is_stored_absolute(tmp_path: Path) -> None:
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        vid = study.add_visit(study.add_patient("P1"), "admission")
        fid = study.add_film(vid, sop_instance_uid="1.2.3", path="films/a.dcm")
        study.update_film(fid, reason="moved", path="b.dcm")
        assert study.film(fid).path == str(tmp_path / "b.dcm")  # cwd is tmp_path


def _older_study(demo: Path, tmp_path: Path, broken_hash: bool = False) -> Path:
    """A copy of the demo as an older version wrote it: ``demo/films/...`` relative to the
    folder above the study's (where ``cobbdesk demo demo`` ran)."""
    made = tmp_path / "made"
    shutil.copytree(demo.parent, made / "demo")
    study = made / "demo" / demo.name
    with sqlite3.connect(study) as conn:
        names = conn.execute("SELECT id, path FROM films").fetchall()
        conn.executemany("UPDATE films SET path = ? WHERE id = ?",
                         [(f"demo/films/{Path(p).name}", i) for i, p in names])  # fmt: skip
        if broken_hash:  # the file at the path is not the film the study holds
            conn.execute("UPDATE films SET pixel_sha256 = ? WHERE id = 1", ("0" * 64,))
    assert not (tmp_path / "demo").exists()  # the working folder does not hold them
    return study


def test_stored_film_path_finds_relative_paths_from_the_study_folder(
    demo: Path, tmp_path: Path
) -> None:
    study = _older_study(demo, tmp_path)
    found = stored_film_path("demo/films/P01_admission_cervical.dcm", study)
    assert found == (tmp_path / "made" / "demo" / "films" / "P01_admission_cervical.dcm")
    assert found.is_file()
    next_to = stored_film_path("films/P01_admission_cervical.dcm", study)  # beside the study
    assert next_to == found
    missing = study.parent / "demo" / "films" / "nowhere.dcm"
    assert stored_film_path("demo/films/nowhere.dcm", study) == missing


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.show()
    yield win
    win.session.shutdown()


def _open(qtbot, win: MainWindow, study: Path) -> FilmRecord:  # type: ignore[no-untyped-def]
    assert win.session.open_study(study)
    assert win.session.study is not None
    record = win.session.study.film(1)  # P01 admission cervical: facing left, 2 measurements
    assert not Path(record.path).is_absolute()
    win.session.browser.filmActivated.emit(record)
    qtbot.waitUntil(lambda: win.current is not None and win.current.controller is not None,
                    timeout=20000)  # fmt: skip
    return record


def _place_like(win: MainWindow, study: Path) -> None:
    """A new C2–C7 measurement on the points of the saved first one."""
    with Study.open(study) as fresh:
        first = fresh.measurements(1)[0]
    controller = win.current.controller  # type: ignore[union-attr]
    controller.start_placement(Template.C2_C7)
    for line in (first.upper, first.lower):
        for x, y in (line.anterior, line.posterior):
            controller.press(float(x), float(y), Qt.KeyboardModifier.NoModifier)


def test_older_relative_study_opens_linked_from_another_working_folder(
    qtbot, window: MainWindow, demo: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    study = _older_study(demo, tmp_path)
    record = _open(qtbot, window, study)
    controller = window.current.controller  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: len(controller.measurements) == 2, timeout=20000)  # saved ones
    assert controller.session.facing is not None
    assert controller.session.facing.value == record.facing == "left"
    _place_like(window, study)
    assert len(controller.measurements) == 3

    def stored() -> list[str]:
        with Study.open(study) as fresh:
            return [m.rater for m in fresh.measurements(record.id)]

    qtbot.waitUntil(lambda: stored().count("tester") == 1, timeout=20000)
    model = window.session.browser.model
    assert model.file_exists(record)  # not "file not found" in the browser


def test_a_study_film_not_linked_refuses_edits(
    qtbot, window: MainWindow, demo: Path, tmp_path: Path, _env: list[str]
) -> None:  # type: ignore[no-untyped-def]
    study = _older_study(demo, tmp_path, broken_hash=True)
    record = _open(qtbot, window, study)
    controller = window.current.controller  # type: ignore[union-attr]
    assert any("not the film in the study" in text for text in _env)
    messages: list[str] = []
    controller.messageChanged.connect(messages.append)
    _place_like(window, study)
    assert len(controller.measurements) == 0  # refused, nothing shown as measured
    assert any("not linked to the study" in m for m in messages), messages
    with Study.open(study) as fresh:
        assert [m.rater for m in fresh.measurements(record.id)] == ["dr_a", "dr_b"]


def test_csv_points_read_the_header_of_a_relative_path_film(demo: Path, tmp_path: Path) -> None:
    from cobbdesk.core.importing.csv_import import import_points

    study_file = _older_study(demo, tmp_path)
    with Study.open(study_file) as study:
        record = study.film(1)
        first = study.measurements(1)[0]
        xy = [v for line in (first.upper, first.lower)
              for p in (line.anterior, line.posterior) for v in p]  # fmt: skip
        csv = tmp_path / "points.csv"
        csv.write_text(
            "sop_instance_uid,template,upper_anterior_x,upper_anterior_y,upper_posterior_x,"
            "upper_posterior_y,lower_anterior_x,lower_anterior_y,lower_posterior_x,"
            f"lower_posterior_y,rater\n{record.sop_instance_uid},C2-C7,"
            + ",".join(f"{v:.6f}" for v in xy) + ",carol\n"
        )
        import_points(study, csv)
        (saved,) = [m for m in study.measurements(1) if m.rater == "carol"]
    assert saved.spacing == first.spacing and saved.spacing_source == first.spacing_source


def test_older_relative_study_shows_its_films_in_the_compare_view(
    qtbot, demo: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    """The compare view opened an older study's relative film paths from the working folder
    (film not found); it finds them like the study window does."""
    from cobbdesk.gui.compare.view import CompareView

    study_file = _older_study(demo, tmp_path)
    with Study.open(study_file, actor="dr_a") as study:
        loader = FilmLoader(isolated=False)
        view = CompareView(study, "dr_a", loader)  # dr_a measured patients 1-8 of the demo
        loader.setParent(view)
        qtbot.addWidget(view)
        view.resize(1200, 800)
        view.show()
        qtbot.waitUntil(lambda: view.loaded, timeout=20000)
        po = view.overview[0]
        view.show_patient(po.patient.id, "cervical")
        qtbot.waitUntil(view.films_shown, timeout=30000)
        assert all(side.film is not None and not side.error for side in view.sides)
        assert all(angle is not None for angle in view.angles())
        view.close()
