"""First start and layout (#17): the demo generated without blocking, its folder removed, the
layout and last study restored, studies given by path or dropped, "Open anyway", the film
refitted on resize, status readouts, labels kept inside the view, photo imports."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.filewriter import dcmwrite
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QDockWidget, QMessageBox

from cobbdesk.core.importing.photos import PhotoTarget
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Region, Study
from cobbdesk.gui import app, demo, errors, settings
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study.photo_dialog import PhotoTargetDialog, photo_files
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine
from tests.conftest import make_dataset


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setenv("COBBDESK_DEMO_DIR", str(tmp_path / "temp"))
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


def new_window(qtbot) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = new_window(qtbot)
    yield win
    win.close()


@pytest.fixture
def film(tmp_path: Path) -> Path:
    spine = make_lateral_spine(
        "cervical", 15.0, rows=400, columns=320, spacing_mm=(0.6, 0.6), seed=3
    )
    return write_dicom(spine, tmp_path / "cervical.dcm")


@pytest.fixture
def study_path(tmp_path: Path) -> Path:
    path = tmp_path / "trial.cobbdesk"
    with Study.create(path, actor="setup") as study:
        study.add_patient("P0001")
    return path


def loaded(qtbot, win: MainWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: all(f.film is not None or f.error for f in win.films), timeout=20000)


# --- the demo ------------------------------------------------------------------------------
def test_demo_generates_while_the_event_loop_runs(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ticks: list[int] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    progress: list[tuple[int, int]] = []
    at_finish: list[int] = []
    generator = demo.start_demo(window)
    assert generator is not None
    generator.progressed.connect(lambda done, total: progress.append((done, total)))
    generator.finished.connect(lambda _: at_finish.append(len(ticks)))
    assert window.session.study is None  # start_demo returned before the study exists
    qtbot.waitUntil(lambda: window.session.study is not None, timeout=120000)
    timer.stop()
    total = progress[-1][1]
    assert progress[-1] == (total, total) and total >= 24
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert at_finish[0] >= len(progress) // 2  # the UI thread ran between films
    folder = generator.folder
    assert folder.parent == tmp_path / "temp" and folder.name.startswith(
        f"cobbdesk-demo-{os.getpid()}-"
    )
    assert window.session.study.path.parent == folder
    qtbot.waitUntil(lambda: window.view.film is not None, timeout=20000)  # a film to measure
    window.close()
    assert not folder.exists()  # removed when the window closes
    assert str(folder) not in settings.recent_studies()
    assert settings.last_study() is None


def test_leftover_demo_folders_of_gone_processes_are_removed(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    root = tmp_path / "temp"
    dead = root / f"cobbdesk-demo-{gone.stdout.strip()}-abc"
    mine = root / f"cobbdesk-demo-{os.getpid()}-def"
    old_style = root / "cobbdesk-demo-x1y2z3"
    other = root / "something-else"
    for folder in (dead, mine, old_style, other):
        (folder / "films").mkdir(parents=True)
    assert sorted(demo.remove_leftovers(root)) == sorted([dead, old_style])
    assert mine.exists() and other.exists() and not dead.exists()


# --- layout and last study -----------------------------------------------------------------
def test_layout_window_size_and_last_study_are_restored(qtbot, study_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = new_window(qtbot)
    first.resize(720, 520)  # the offscreen screen is 800×600
    films = first.findChild(QDockWidget, "Films")
    first.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, films)
    first.findChild(QDockWidget, "Measurements").hide()
    assert first.session.open_study(study_path)
    first.close()
    second = new_window(qtbot)
    assert (second.width(), second.height()) == (720, 520)
    films = second.findChild(QDockWidget, "Films")
    assert second.dockWidgetArea(films) == Qt.DockWidgetArea.RightDockWidgetArea
    assert not second.findChild(QDockWidget, "Measurements").isVisible()
    assert app.reopen_last_study(second)
    assert second.session.study is not None and second.session.study.path == study_path
    second.actions_by_name["reopen_last"].setChecked(False)  # the user says no
    second.close()
    third = new_window(qtbot)
    assert not app.reopen_last_study(third) and third._session is None
    third.close()


def test_the_film_takes_most_of_the_window_and_refits_on_resize(
    qtbot, window: MainWindow, film: Path, study_path: Path
) -> None:  # type: ignore[no-untyped-def]
    window.resize(1366, 768)
    window.open_paths([film])
    loaded(qtbot, window)
    qtbot.waitUntil(lambda: window.view.film is not None)
    assert window.view.width() >= 0.55 * window.width()
    window.view.fit()
    small = window.view.zoom
    window.resize(1800, 1100)
    qtbot.waitUntil(lambda: window.view.zoom > small * 1.2)
    assert window.view.fitted
    window.view.zoom_in()  # the user zoomed: fit is off, a resize keeps the zoom
    zoom = window.view.zoom
    window.resize(1300, 800)
    qtbot.wait(50)
    assert window.view.zoom == zoom and not window.view.fitted
    window.resize(1366, 768)
    assert window.session.open_study(study_path)  # the Study dock beside the Measurements one
    qtbot.wait(100)
    assert window.view.width() > 0.5 * window.width()  # was 42 % (the Study dock took 37 %)


FILM_SHARE = """
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
app = QApplication([])
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
window = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
window.confirm_close = False
window.show()
assert window.session.open_study(Path(sys.argv[1]))
for _ in range(20):
    app.processEvents()
print(window.width(), window.height(), window.view.width(), window.isMaximized())
window.session.shutdown()
"""


def test_at_its_default_size_on_a_laptop_screen_the_film_takes_most_of_the_window(
    tmp_path: Path, study_path: Path
) -> None:  # the default size follows the screen: a 1366×768 one, in its own process
    screen = tmp_path / "screen.json"
    screen.write_text('{"screens": [{"name": "S", "x": 0, "y": 0, "width": 1366, '
                      '"height": 768, "logicalDpi": 96, "logicalBpi": 96, "dpr": 1}]}')  # fmt: skip
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={screen}")
    result = subprocess.run([sys.executable, "-c", FILM_SHARE, str(study_path)], env=env,
                            capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    width, height, film, maximised = result.stdout.split()
    assert maximised == "True" and int(width) >= 1300 and int(height) >= 700  # was 1256×691
    assert int(film) > 0.5 * int(width)  # was 40 %


# --- studies by path and by drop ------------------------------------------------------------
def test_a_study_given_on_the_command_line_opens_as_a_study(
    qtbot, window: MainWindow, study_path: Path
) -> None:  # type: ignore[no-untyped-def]
    app.start(window, [study_path], demo=False)
    assert window.session.study is not None and window.session.study.path == study_path
    assert window.films == []  # not opened as a film ("cannot open")


def test_a_dropped_study_opens_as_a_study(
    qtbot, window: MainWindow, study_path: Path, film: Path
) -> None:  # type: ignore[no-untyped-def]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(study_path)), QUrl.fromLocalFile(str(film))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    window.dropEvent(event)
    assert window.session.study is not None and window.session.study.path == study_path
    assert [f.path for f in window.films] == [film]


def test_cobbdesk_study_path_command_opens_the_study(tmp_path: Path, study_path: Path) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", COBBDESK_QUIT_AFTER_MS="3000")
    result = subprocess.run([sys.executable, "-m", "cobbdesk", str(study_path)], env=env,
                            capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "logs" / "cobbdesk.log").read_text()
    assert "Opened study trial.cobbdesk" in log and "Opening a film failed" not in log


# --- Open anyway -----------------------------------------------------------------------------
def test_open_anyway_reads_a_file_without_file_meta(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ds = make_dataset(np.arange(64 * 48, dtype=np.uint16).reshape(64, 48))
    del ds.file_meta
    legacy = tmp_path / "legacy.dcm"
    dcmwrite(legacy, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    window.open_paths([legacy])
    loaded(qtbot, window)
    assert window.films[0].film is None and "Open anyway" in window.films[0].error
    box = window.findChild(QMessageBox, "open_anyway")
    assert box is not None and "guess" in box.informativeText()
    button = next(b for b in box.buttons() if b.text() == "Open anyway")
    button.click()
    qtbot.waitUntil(lambda: window.films[0].film is not None, timeout=20000)
    assert window.films[0].error == ""
    assert window.film_list.item(0).text().endswith("[no File Meta]")
    assert any("forced" in n for n in window.films[0].film.notices)


def test_cancel_leaves_the_file_unopened(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ds = make_dataset(np.zeros((16, 16), dtype=np.uint16))
    del ds.file_meta
    legacy = tmp_path / "legacy.dcm"
    dcmwrite(legacy, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    window.open_paths([legacy])
    loaded(qtbot, window)
    box = window.findChild(QMessageBox, "open_anyway")
    box.button(QMessageBox.StandardButton.Cancel).click()
    qtbot.wait(100)
    assert window.films[0].film is None and window.loader.forceable == {str(legacy)}


# --- status bar and stale state --------------------------------------------------------------
def _mouse(view, kind, pos: QPointF, button, buttons) -> None:  # type: ignore[no-untyped-def]
    event = QMouseEvent(kind, pos, view.viewport().mapToGlobal(pos), button, buttons,
                        Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(view.viewport(), event)


def test_window_readout_while_dragging_and_nothing_stale_after_switching(
    qtbot, window: MainWindow, film: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    lumbar = make_lateral_spine(
        "lumbar", 30.0, rows=500, columns=400, spacing_mm=(0.6, 0.6), seed=5
    )
    other = write_dicom(lumbar, tmp_path / "lumbar.dcm")
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a radiograph" * 20)
    window.open_paths([film, other, junk])
    loaded(qtbot, window)
    window.step_film(2)  # the file that cannot be opened: its error in the status bar
    assert window.status.currentMessage().startswith("junk.dcm: not a DICOM file")
    window.step_film(1)
    assert window.status.currentMessage() == ""  # the old error does not stay
    view, right, none = window.view, Qt.MouseButton.RightButton, Qt.MouseButton.NoButton
    start = QPointF(view.viewport().rect().center())
    _mouse(view, QMouseEvent.Type.MouseButtonPress, start, right, right)
    _mouse(view, QMouseEvent.Type.MouseMove, start + QPointF(30, -10), none, right)
    voi = view.item.voi
    text = window.status.window_level.text()
    assert (
        text.startswith("W/L centre")
        and f"{voi.width:,.0f}" in text
        and f"{voi.center:,.0f}" in text
    )
    _mouse(view, QMouseEvent.Type.MouseButtonRelease, start + QPointF(30, -10), right, none)
    assert window.status.cursor.text()  # the pointer is over the film
    window.panel.message.setText("Snapped the upper line by 1.2°")
    window.status.showMessage("Saved to study (film #1).")  # not about one film: it stays
    window.step_film(1)
    assert window.status.cursor.text() == "" and window.status.window_level.text() == ""
    assert window.panel.message.text() == ""
    assert window.status.currentMessage() == "Saved to study (film #1)."


def test_status_messages_stay_on_one_line(window: MainWindow) -> None:
    window.status.showMessage("3 film(s) imported from 5 file(s)\n2 already in the study")
    assert window.status.currentMessage() == "3 film(s) imported from 5 file(s)"


# --- labels inside the view -------------------------------------------------------------------
def test_measurement_labels_stay_inside_the_view(qtbot, window: MainWindow, film: Path) -> None:  # type: ignore[no-untyped-def]
    window.open_paths([film])
    loaded(qtbot, window)
    controller = window.current.controller
    f = window.current.film
    right = f.columns - 3.0  # lines at the right edge of the film: the label would be cut
    m = CobbMeasurement(f.sop_instance_uid, f.pixel_sha256, Template.FREE,
                        EndplateLine((right - 60, 100), (right, 130)),
                        EndplateLine((right - 60, 300), (right, 270)), rater="t")  # fmt: skip
    controller.load([m])
    view = window.view
    view.set_zoom(view.zoom * 1.5, QPointF(right, 200))
    view.centerOn(QPointF(right - 30, 200))
    qtbot.wait(20)
    item = controller.overlay(m.id)
    visible = view.viewport().rect()
    for label in (*item.levels.values(), item.angle_label):
        anchor = view.mapFromScene(label.scenePos())
        box = label.box.translated(QPointF(anchor)).toRect()
        assert visible.contains(box), (box, visible)
    assert item.angle_label.shift != QPointF()  # it had to move


# --- Ctrl+K and switching studies -------------------------------------------------------------
@pytest.fixture
def two_studies(tmp_path: Path, film: Path) -> tuple[Path, Path]:
    from cobbdesk.core.dicom.reader import read_film

    first, second = tmp_path / "a.cobbdesk", tmp_path / "b.cobbdesk"
    loaded_film = read_film(film)
    with Study.create(first, actor="setup") as study:
        pid = study.add_patient("P0001")
        vid = study.add_visit(pid, "admission")
        study.add_film(vid, sop_instance_uid=loaded_film.sop_instance_uid, path=film,
                       region="cervical", pixel_sha256=loaded_film.pixel_sha256)  # fmt: skip
    with Study.create(second, actor="setup") as study:
        study.add_patient("P0001")
    return first, second


def test_ctrl_k_uses_the_patient_of_the_film_on_screen(
    qtbot, window: MainWindow, two_studies: tuple[Path, Path], _env: list[str]
) -> None:  # type: ignore[no-untyped-def]
    assert window.session.open_study(two_studies[0])
    record = window.session.study.films()[0]
    window.session.open_film(record)
    qtbot.waitUntil(
        lambda: window.current is not None and window.current.path in window.session.links,
        timeout=20000,
    )
    window.session.browser.tree.clearSelection()
    window.session.browser.tree.setCurrentIndex(window.session.browser.model.index(-1, 0))
    compare = window.session.compare()
    assert compare is not None and _env == []
    compare.close()


def test_switching_studies_takes_the_old_study_films_off_the_window(
    qtbot, window: MainWindow, two_studies: tuple[Path, Path]
) -> None:  # type: ignore[no-untyped-def]
    assert window.session.open_study(two_studies[0])
    window.session.open_film(window.session.study.films()[0])
    qtbot.waitUntil(
        lambda: window.current is not None and window.current.path in window.session.links,
        timeout=20000,
    )
    assert window.session.open_study(two_studies[1])
    assert window.films == [] and window.view.film is None and window.current is None
    assert not window.panel.isEnabled()  # nothing left to edit into the closed study


# --- photos ------------------------------------------------------------------------------------
def _photo(folder: Path, name: str = "scan.png") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    ramp = np.tile(np.arange(0, 256, 2, dtype=np.uint8), (96, 1))
    Image.fromarray(ramp).save(path)
    return path


def test_photo_import_asks_patient_visit_region(
    qtbot, window: MainWindow, study_path: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "incoming"
    _photo(folder)
    assert photo_files([folder]) == [folder / "scan.png"]
    assert window.session.open_study(study_path)
    asked: list[int] = []

    def answer(parent, study, count):  # type: ignore[no-untyped-def]
        asked.append(count)
        return PhotoTarget("P0001", "month3", Region.LUMBAR)

    window.session.photo_prompt = answer
    job = window.session.import_films([folder])
    assert job is not None
    qtbot.waitUntil(lambda: not window.session.jobs, timeout=30000)
    assert asked == [1]
    films = window.session.study.films()
    assert len(films) == 1 and films[0].region is Region.LUMBAR
    visit = next(v for v in window.session.study.visits(window.session.study.patients()[0].id))
    assert visit.kind.value == "month3" and films[0].visit_id == visit.id


def test_skipped_photos_are_not_imported(
    qtbot, window: MainWindow, study_path: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "incoming"
    _photo(folder)
    assert window.session.open_study(study_path)
    window.session.photo_prompt = lambda parent, study, count: None
    window.session.import_films([folder])
    qtbot.waitUntil(lambda: not window.session.jobs, timeout=30000)
    assert window.session.study.films() == []
    summary = next(b for b in window.findChildren(QMessageBox) if b.isVisible()).text()
    assert "1 photo(s)/scan(s) of films skipped" in summary


def test_photo_dialog_needs_a_patient(qtbot, study_path: Path) -> None:  # type: ignore[no-untyped-def]
    with Study.open(study_path) as study:
        dialog = PhotoTargetDialog(None, study, 2)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: not dialog.loading)  # the patients are read off the UI thread
    assert [dialog.patient.itemText(i) for i in range(dialog.patient.count())] == ["P0001"]
    dialog.accept()
    assert dialog.target is None and "patient" in dialog.problem.text()
    dialog.patient.setEditText("P0001")
    dialog.visit.setCurrentIndex(1)
    dialog.region.setCurrentIndex(0)
    dialog.accept()
    assert dialog.target == PhotoTarget("P0001", "month3", Region.CERVICAL)
    assert dialog.result() == dialog.DialogCode.Accepted


def test_a_restored_layout_keeps_study_films_and_raters_tabbed(qtbot, study_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A tester's find: after a restored layout the Study dock sat below an empty Films list
    (restored after it was added, and after the Raters dock tabbed with it)."""
    first = new_window(qtbot)
    assert first.session.open_study(study_path)
    qtbot.wait(100)
    study = first.findChild(QDockWidget, "Study")
    assert {d.objectName() for d in first.tabifiedDockWidgets(study)} == {"Films", "Raters"}
    first.close()
    second = new_window(qtbot)
    assert second.session.open_study(study_path)
    qtbot.wait(100)
    study = second.findChild(QDockWidget, "Study")
    assert {d.objectName() for d in second.tabifiedDockWidgets(study)} == {"Films", "Raters"}
    second.session.shutdown()
    second.close()
