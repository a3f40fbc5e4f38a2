"""The compare view, the reading window and the Reading plans dialog never run SQL on the UI
thread (#15 "the GUI never freezes on the network").

Each user action is driven as a user would (menu action, keys, clicks) inside
:class:`~tests.gui.ui_thread_sql.UiThreadSql`, which records every statement the study runs on
the Qt main thread: the list must stay empty (a read moved back to the UI thread names its
function here).  Writes go through the open study's write queue (its own thread).  Each test
runs on a study file and on the throwaway PostgreSQL cluster.  The values
the actions store are then checked against the synthetic films' known lordosis (the
generator's endplates, hand-placed corners) and against direct reads of the study.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QDialogButtonBox

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.compare.view import CompareView
from cobbdesk.gui.compare.window import CompareWindow
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.reading.plans_dialog import PlansDialog
from cobbdesk.gui.reading.reading_window import ReadingWindow
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine
from tests.gui.ui_thread_sql import UiThreadSql

LORDOSIS = (14.0, 26.0, 18.0, 31.0, 22.0, 35.0)  # film i: patient Z000(i // 2 + 1), visit i % 2
FILLERS = 30  # patients without films, sorted before the Z… patients: Z0003 is never painted


def spine(i: int) -> SyntheticSpine:
    return make_lateral_spine("cervical", LORDOSIS[i], rows=420, columns=340,
                              spacing_mm=(0.5, 0.5), seed=20 + i)  # fmt: skip


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


def write_study(place: Any, folder: Path) -> Any:
    """30 patients without films (P…), then Z0001–Z0003 with an admission and a month-3
    cervical film each (facing left, calibrated 0.5 mm), at ``place`` (a file or a URL)."""
    folder.mkdir()
    with Study.create(place, actor="setup") as study:
        for n in range(FILLERS):
            study.add_patient(f"P{n:04d}")
        for p in range(3):
            pid = study.add_patient(f"Z000{p + 1}", name=f"Secret^Name{p}")
            for v, (kind, day) in enumerate((("admission", "2026-01-05"),
                                             ("month3", "2026-04-06"))):  # fmt: skip
                vid = study.add_visit(pid, kind, visit_date=day)
                i = 2 * p + v
                file = write_dicom(spine(i), folder / f"z{i}.dcm",
                                   sop_instance_uid=f"1.2.826.0.1.77.{i + 1}")  # fmt: skip
                film = read_film(file)
                fid = study.add_film(vid, sop_instance_uid=film.sop_instance_uid, path=file,
                                     region="cervical", pixel_sha256=film.pixel_sha256)  # fmt: skip
                study.set_facing(fid, "left", "user")
    return place


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The study of :func:`write_study` in a file, and on the throwaway PostgreSQL cluster."""
    if request.param == "postgresql":
        return write_study(request.getfixturevalue("pg_url"), tmp_path / "films")
    return write_study(tmp_path / "team.cobbdesk", tmp_path / "films")


@pytest.fixture
def window(qtbot: Any, where: Any) -> Iterator[MainWindow]:
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.resize(1200, 700)
    win.show()
    assert win.session.open_study(where)
    model = win.session.browser.model
    qtbot.waitUntil(lambda: model.rowCount() == FILLERS + 3 and not win.session._flag_runs.busy,
                    timeout=10000)  # fmt: skip
    win.session._compare_loader = FilmLoader(isolated=False, parent=win)  # decoded in a thread
    yield win
    win.session.shutdown()


def study_of(win: MainWindow) -> Study:
    assert win.session.study is not None
    return win.session.study


def film_of(study: Study, study_id: str, kind: str) -> tuple[Any, int]:
    """(record, LORDOSIS index) of a Z patient's film (read by the test, not the window)."""
    pid = study.patient_by_study_id(study_id)
    visit = next(v for v in study.visits(pid) if v.kind.value == kind)
    record = next(f for f in study.films() if f.visit_id == visit.id)
    return record, 2 * (int(study_id[-1]) - 1) + (kind == "month3")


def saves_done(qtbot: Any, win: MainWindow) -> None:
    """Wait (painting) until the study's write queue has written everything."""
    saver = win.session.saver
    assert saver is not None
    qtbot.waitUntil(lambda: saver.outbox.pending() == 0, timeout=10000)


def click(qtbot: Any, view: Any, p: tuple[float, float]) -> None:
    where: QPoint = view.mapFromScene(QPointF(*p))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=where)


# --- compare ------------------------------------------------------------------------------------
def open_compare_of_shown_film(qtbot: Any, win: MainWindow, record: Any) -> CompareWindow:
    session = win.session
    session.open_film(record)
    qtbot.waitUntil(lambda: win.current is not None and win.current.path in session.links,
                    timeout=20000)  # fmt: skip
    session.browser.tree.clearSelection()
    session.browser.tree.setCurrentIndex(session.browser.model.index(-1, 0))
    with UiThreadSql(study_of(win)) as seen:
        win.actions_by_name["compare"].trigger()  # Ctrl+K
        compare = session.compare_windows[-1]
        assert compare.view.bar.text == "Loading the study…" or compare.view.loaded
        qtbot.waitUntil(lambda: compare.view.loaded and compare.view.films_shown(),
                        timeout=20000)  # fmt: skip
    assert seen.statements == []
    return compare


def test_compare_visits_of_a_never_shown_patient_switch_and_measure_without_ui_sql(
    qtbot: Any, window: MainWindow, _env: list[str]
) -> None:
    study = study_of(window)
    record, _ = film_of(study, "Z0003", "admission")
    node = window.session.browser.model._by_id[study.patient_by_study_id("Z0003")]
    assert not node.loaded  # its browser row was never painted nor expanded
    compare = open_compare_of_shown_film(qtbot, window, record)
    view: CompareView = compare.view
    assert view.header.title.text() == "Z0003 · cervical"
    assert compare.windowTitle() == "Compare Z0003 · cervical — CobbDesk"
    assert not node.loaded  # found from the compare view's own overview, not the browser
    # switch patients: Alt+Left (previous patient), then Alt+Right back
    for keys, expected in (("Left", "Z0002"), ("Right", "Z0003")):
        with UiThreadSql(study) as seen:
            view.sides[0].view.setFocus()
            key = getattr(Qt.Key, f"Key_{keys}")
            qtbot.keyClick(view.sides[0].view.viewport(), key, Qt.KeyboardModifier.AltModifier)
            qtbot.waitUntil(view.films_shown, timeout=20000)
        assert seen.statements == [], keys
        assert view.header.title.text() == f"{expected} · cervical"
    # measure the month-3 film and save (the study's write queue: not the UI thread)
    side = view.sides[1]
    target, index = film_of(study, "Z0003", "month3")
    assert side.slot is not None and side.slot.film is not None
    assert side.slot.film.id == target.id
    with UiThreadSql(study) as seen:
        click(qtbot, side.view, (5.0, 5.0))  # the side becomes the active one
        qtbot.keyClick(side.view.viewport(), Qt.Key.Key_M)
        for line in spine(index).template_endplates:
            for corner in line:
                click(qtbot, side.view, corner)
        saves_done(qtbot, window)
    assert seen.statements == []
    assert _env == []
    stored = [m for m in study.measurements(target.id) if m.rater == "tester"]
    assert len(stored) == 1
    assert stored[0].angle == pytest.approx(LORDOSIS[index], abs=1.0)  # the generator's angle
    assert view.angles()[1] == pytest.approx(stored[0].angle, abs=1e-9)
    compare.close()  # (before the main window's shutdown, which closes it too late)


# --- reading plans ------------------------------------------------------------------------------
def idle(qtbot: Any, window: PlansDialog | ReadingWindow) -> None:
    qtbot.waitUntil(lambda: not window.busy, timeout=10000)


def wait_film(qtbot: Any, rw: ReadingWindow) -> None:
    qtbot.waitUntil(lambda: rw.controller is not None and rw.view.film is not None
                    and not rw.busy, timeout=20000)  # fmt: skip


def test_plans_dialog_and_reading_window_actions_without_ui_sql(
    qtbot: Any, window: MainWindow, _env: list[str]
) -> None:
    study = study_of(window)
    with UiThreadSql(study) as seen:  # Study ▸ Reading plans…
        window.actions_by_name["plans"].trigger()
        dialog = window.findChild(PlansDialog)
        assert dialog is not None
        dialog.isolated = False
        idle(qtbot, dialog)
    assert seen.statements == [] and dialog.plans.count() == 0
    with UiThreadSql(study) as seen:  # New plan… → Create plan
        qtbot.mouseClick(dialog.new_button, Qt.MouseButton.LeftButton)
        form = dialog.create_dialog
        assert form is not None
        qtbot.keyClicks(form.name, "rel")
        qtbot.keyClicks(form.raters, "A,B")
        form.region.setCurrentText("cervical")
        qtbot.mouseClick(form.buttons.button(QDialogButtonBox.StandardButton.Ok),
                         Qt.MouseButton.LeftButton)  # fmt: skip
        idle(qtbot, dialog)
        saves_done(qtbot, window)
    assert seen.statements == []
    assert [dialog.plans.item(i).text() for i in range(dialog.plans.count())] == ["rel"]
    assert dialog.progress.rowCount() == 4  # A and B × 2 rounds (counts only)
    with UiThreadSql(study) as seen:  # Open as rater A, round 1: the reading window
        dialog.rater.setCurrentText("A")
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
        rw = dialog.windows[-1]
        wait_film(qtbot, rw)
        saves_done(qtbot, window)
    assert seen.statements == []
    assert len(rw.items) == 6 and rw.current is not None and rw.current.position == 1
    first = rw.record
    assert first is not None
    kinds = ("admission", "month3")
    films = [film_of(study, f"Z000{i // 2 + 1}", kinds[i % 2])[0].id for i in range(6)]
    index = films.index(first.id)
    from cobbdesk.core.reading.plan import get_plan
    from cobbdesk.core.reading.readings import own_readings

    plan = get_plan(study, "rel")
    for attempt in ("read", "measure again", "read"):
        with UiThreadSql(study) as seen:  # read the film (the plan's template is started)
            assert rw.controller is not None
            if attempt == "measure again":  # removes the reading, starts the template again
                qtbot.mouseClick(rw.again, Qt.MouseButton.LeftButton)
            else:
                assert rw.controller.placing
                for line in spine(index).template_endplates:
                    for corner in line:
                        click(qtbot, rw.view, corner)
            saves_done(qtbot, window)
        assert seen.statements == [], attempt
        assert len(own_readings(study, plan, "A", 1, first.id)) == (attempt == "read")
    with UiThreadSql(study) as seen:  # Next ▶
        qtbot.mouseClick(rw.next_button, Qt.MouseButton.LeftButton)
        wait_film(qtbot, rw)
    assert seen.statements == [] and rw.current.position == 2  # type: ignore[union-attr]
    skipped = rw.current.film_id  # type: ignore[union-attr]
    rw.reason_prompt = lambda _parent, _text: "C7 not visible"
    with UiThreadSql(study) as seen:  # Skip with reason…
        qtbot.mouseClick(rw.skip_button, Qt.MouseButton.LeftButton)
        saves_done(qtbot, window)
        wait_film(qtbot, rw)
    assert seen.statements == [] and rw.current.position == 3  # type: ignore[union-attr]
    assert _env == []
    from cobbdesk.core.reading.rounds import worklist

    states = {i.film_id: i.state for i in worklist(study, plan, "A", 1)}
    assert states[first.id] == "read" and states[skipped] == "skipped"
    assert list(states.values()).count("to read") == 4
    (reading,) = own_readings(study, plan, "A", 1, first.id)
    assert reading.angle == pytest.approx(LORDOSIS[index], abs=1.0)
    assert study.measurements() == []  # readings never become clinical measurements
    rw.close()


def test_closing_the_window_with_a_compare_window_open(
    qtbot: Any, window: MainWindow, _env: list[str]
) -> None:
    """The compare window is closed by the study's closing; its refresh of the browser comes
    after (the study is gone by then): no error in the event loop, nothing shown."""
    study = study_of(window)
    compare = window.session.compare(study.patient_by_study_id("Z0001"))
    assert compare is not None
    qtbot.waitUntil(lambda: compare.view.loaded and compare.view.films_shown(), timeout=20000)
    window.close()  # Quit: shuts the session down (pytest-qt fails on an event-loop error)
    qtbot.wait(50)
    assert window.session.study is None and not compare.isVisible() and _env == []
