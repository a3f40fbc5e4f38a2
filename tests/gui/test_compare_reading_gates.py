# ruff: noqa: F811  (the fixtures imported from test_compare_reading_off_ui are parameters here)
"""While a compare or reading read is stalled on its worker, the UI keeps running and shows it
(#15): each read is blocked by a gate (the module's function replaced by one that waits for the
test's release); meanwhile a UI-thread QTimer keeps ticking, the window says "Loading…" and
its controls are disabled; after the release the content equals a direct read of the study.
A failed read shows its one line with Retry, and Retry reads again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from cobbdesk.core.errors import StoreError
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.reading.plan import PlanSpec, create_plan
from cobbdesk.core.reading.rounds import worklist
from cobbdesk.core.store import Study
from cobbdesk.gui.compare import data
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.reading import reading_window
from cobbdesk.gui.reading.plans_dialog import PlansDialog
from cobbdesk.gui.reading.reading_window import ReadingWindow
from tests.gui.test_compare_reading_off_ui import (  # noqa: F401  (fixtures)
    _env,
    film_of,
    spine,
    study_of,
    window,
    write_study,
)
from tests.gui.test_study_reads_off_ui import Gate, Ticker


@pytest.fixture
def where(tmp_path: Path) -> Path:
    """The study of the guard tests, in a file (the gates replace module functions)."""
    return write_study(tmp_path / "team.cobbdesk", tmp_path / "films")  # type: ignore[no-any-return]


def _measured(study: Study, study_id: str, kind: str) -> CobbMeasurement:
    """A measurement of the rater "tester" stored on the film (hand-placed generator corners)."""
    record, index = film_of(study, study_id, kind)
    upper, lower = spine(index).template_endplates
    m = CobbMeasurement(record.sop_instance_uid, record.pixel_sha256, Template.C2_C7,
                        EndplateLine(*upper), EndplateLine(*lower), rater="tester")  # fmt: skip
    study.save_measurement(record.id, m)
    return m


def _open_compare(window: MainWindow, study: Study, study_id: str) -> Any:
    compare = window.session.compare(study.patient_by_study_id(study_id))
    assert compare is not None
    return compare


def test_compare_keeps_ticking_while_the_overview_read_is_stalled(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = study_of(window)
    saved = _measured(study, "Z0002", "admission")
    gate = Gate(data.read_overview)
    monkeypatch.setattr(data, "read_overview", gate)
    window.session.browser.tree.clearSelection()
    ticker = Ticker()
    compare = _open_compare(window, study, "Z0002")
    view = compare.view
    assert gate.entered.wait(10)
    placeholders = lambda: [s.placeholder.text() for s in view.sides]  # noqa: E731
    ticker.keeps_ticking(qtbot, lambda: view.bar.text == "Loading the study…"
                         and not view.toolbar.isEnabled() and not view.films_shown()
                         and placeholders() == ["Loading…"] * 2)  # fmt: skip
    assert all(s.controller is None for s in view.sides)  # nothing to measure on yet
    gate.release.set()
    qtbot.waitUntil(lambda: view.loaded and view.films_shown(), timeout=20000)
    assert view.bar.text == "" and view.toolbar.isEnabled()
    assert view.header.title.text() == "Z0002 · cervical"
    assert [po.patient.study_id for po in view.overview] == [p.study_id for p in study.patients()]
    admission = view.sides[0]
    assert admission.controller is not None
    assert list(admission.controller.measurements.values()) == [saved]
    assert view.angles() == (pytest.approx(saved.angle, abs=1e-12), None)
    compare.close()


def test_compare_side_loading_until_the_films_saved_state_arrives(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = study_of(window)
    saved = _measured(study, "Z0001", "month3")
    stored = study.measurements(film_of(study, "Z0001", "month3")[0].id)
    gate = Gate(data.read_saved)
    monkeypatch.setattr(data, "read_saved", gate)
    compare = _open_compare(window, study, "Z0001")
    view = compare.view
    qtbot.waitUntil(gate.entered.is_set, timeout=10000)  # asked once the overview arrived
    paths = [s.slot.film.path for s in view.sides]  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: all(view.cache.get(p) is not None for p in paths), timeout=20000)
    ticker = Ticker()  # both films decoded, their saved measurements not read yet
    ticker.keeps_ticking(qtbot, lambda: [s.placeholder.text() for s in view.sides]
                         == ["Loading…"] * 2 and not view.films_shown())  # fmt: skip
    assert all(s.controller is None for s in view.sides)
    gate.release.set()
    qtbot.waitUntil(view.films_shown, timeout=10000)
    month3 = view.sides[1].controller
    assert month3 is not None and list(month3.measurements.values()) == stored == [saved]
    assert view.difference() is None and view.angles()[1] == pytest.approx(saved.angle, abs=1e-12)
    compare.close()


def test_compare_read_failure_is_shown_with_retry(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = study_of(window)
    real, failing = data.read_overview, [True]

    def flaky(s: Study, rater: str) -> Any:
        if failing[0]:
            raise StoreError(None, "server connection lost")
        return real(s, rater)

    monkeypatch.setattr(data, "read_overview", flaky)
    compare = _open_compare(window, study, "Z0003")
    view = compare.view
    qtbot.waitUntil(lambda: view.bar.retry.isVisibleTo(view.bar), timeout=10000)
    assert view.bar.text == "The study could not be read: server connection lost"
    assert not view.toolbar.isEnabled() and not view.films_shown()
    failing[0] = False  # the server is back
    qtbot.mouseClick(view.bar.retry, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.loaded and view.films_shown(), timeout=20000)
    assert view.bar.text == "" and view.header.title.text() == "Z0003 · cervical"
    compare.close()


# --- reading plans ------------------------------------------------------------------------------
def _plans(qtbot: Any, window: MainWindow) -> PlansDialog:
    window.actions_by_name["plans"].trigger()
    dialog = window.findChild(PlansDialog)
    assert dialog is not None
    dialog.isolated = False
    return dialog


def test_plans_dialog_and_reading_window_keep_ticking_while_their_reads_are_stalled(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = study_of(window)
    plan = create_plan(study, PlanSpec("rel", ("A", "B"), seed=3, region="cervical"))
    from cobbdesk.core.reading import plan as plan_module

    listing = Gate(plan_module.list_plans)
    monkeypatch.setattr(plan_module, "list_plans", listing)
    ticker = Ticker()
    dialog = _plans(qtbot, window)
    assert listing.entered.wait(10)
    ticker.keeps_ticking(qtbot, lambda: dialog.bar.text == "Loading the reading plans…"
                         and not dialog.open_button.isEnabled()
                         and not dialog.new_button.isEnabled())  # fmt: skip
    listing.release.set()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10000)
    assert dialog.selected_plan() == plan and dialog.open_button.isEnabled()
    assert dialog.progress.rowCount() == 4
    items = Gate(reading_window.read_items)
    monkeypatch.setattr(reading_window, "read_items", items)
    dialog.rater.setCurrentText("B")
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    rw: ReadingWindow = dialog.windows[-1]
    assert items.entered.wait(10)
    ticker.keeps_ticking(qtbot, lambda: rw.bar.text == "Loading the worklist…"
                         and not rw.next_button.isEnabled() and not rw.skip_button.isEnabled()
                         and rw.current is None)  # fmt: skip
    items.release.set()
    qtbot.waitUntil(lambda: rw.controller is not None and not rw.busy, timeout=20000)
    assert rw.items == worklist(study, plan, "B", 1) and rw.current == rw.items[0]
    assert rw.windowTitle() == "Reading plan rel — rater B, round 1 — 1 of 6"
    assert rw.record is not None and rw.record.id == rw.items[0].film_id
    assert rw.next_button.isEnabled() and rw.skip_button.isEnabled() and rw.bar.text == ""
    rw.close()


def test_reading_film_read_failure_is_shown_with_retry(
    qtbot: Any, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = study_of(window)
    plan = create_plan(study, PlanSpec("rel", ("A", "B"), rounds=1, seed=3, region="cervical"))
    real, failing = reading_window.read_film_state, [True]

    def flaky(*args: Any) -> Any:
        if failing[0]:
            raise StoreError(None, "server connection lost")
        return real(*args)

    monkeypatch.setattr(reading_window, "read_film_state", flaky)
    dialog = _plans(qtbot, window)
    qtbot.waitUntil(lambda: dialog.open_button.isEnabled() and not dialog.busy, timeout=10000)
    qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    rw: ReadingWindow = dialog.windows[-1]
    qtbot.waitUntil(lambda: rw.bar.retry.isVisibleTo(rw.bar), timeout=10000)
    assert rw.bar.text == "Loading the film failed: server connection lost"
    assert rw.controller is None and rw.record is None
    failing[0] = False
    qtbot.mouseClick(rw.bar.retry, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rw.controller is not None and not rw.busy, timeout=20000)
    first = worklist(study, plan, "A", 1)[0]
    assert rw.record is not None and rw.record.id == first.film_id and rw.bar.text == ""
    rw.close()
