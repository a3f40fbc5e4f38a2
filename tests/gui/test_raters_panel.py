"""The Raters panel beside the study browser: others' progress, refreshed by the audit-head
poll, and nothing of another rater's readings while a plan blinds the viewer (#15)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QDockWidget

from cobbdesk.core.reading.plan import PlanSpec, create_plan
from cobbdesk.core.reading.readings import save_reading
from cobbdesk.core.reading.rounds import open_round, worklist
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from tests.core.reading.helpers import make_study, reading

SHOTS = Path(os.environ.get("COBBDESK_SCREENSHOTS", "/tmp/cobbdesk_shots"))


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(errors, "present", lambda *_a: None)


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A study where bob measured 2 films clinically and read 5 films of plan "rel" (raters
    ann and bob, blinded); ann has read nothing yet."""
    place: Any = tmp_path / "team.cobbdesk"
    if request.param == "postgresql":
        place = request.getfixturevalue("pg_url")
    make_study(place, patients=4, regions=("cervical",)).close()
    with Study.open(place, actor="bob") as bob:
        plan = create_plan(bob, PlanSpec("rel", ("ann", "bob"), rounds=1, seed=3,
                                         region="cervical"))  # fmt: skip
        for film in bob.films()[:2]:
            bob.save_measurement(film.id, reading(15.0, "bob", film.sop_instance_uid))
        open_round(bob, plan, "bob", 1)
        for item in worklist(bob, plan, "bob", 1)[:5]:
            m = reading(11.0, "bob", item.sop_instance_uid)
            save_reading(bob, plan, 1, item.film_id, m)
    return place


@pytest.fixture
def window(qtbot: Any, where: Any) -> Iterator[MainWindow]:
    win = MainWindow(rater="ann", loader=FilmLoader(isolated=False))
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    assert win.session.open_study(where)
    yield win
    win.session.shutdown()


def _settled(qtbot: Any, win: MainWindow, wanted: str) -> str:
    panel = win.session.raters
    qtbot.waitUntil(lambda: wanted in panel.text(), timeout=10_000)
    return panel.text()


def test_blinded_rater_sees_only_own_reading_progress(qtbot: Any, window: MainWindow,
                                                     where: Any) -> None:  # fmt: skip
    dock = window.findChild(QDockWidget, "Raters")
    assert dock is not None and dock.toggleViewAction().isChecked()  # shown, behind "Study"
    text = _settled(qtbot, window, "Plan rel")
    clinical, plan = text.split("Plan rel")
    assert "bob" in clinical and "2" in clinical  # clinical progress is not blinded
    assert "hidden by plan rel (blinded)" in plan
    assert "ann" in plan and "0 of 8" in plan  # ann's own round
    # nothing of bob's readings: not his name, his count, a film or a value in the plan part
    assert "bob" not in plan and "5 of 8" not in text and "5" not in plan
    assert "1.2.826" not in text and "11.0" not in text and "°" not in text
    SHOTS.mkdir(parents=True, exist_ok=True)
    dock.raise_()
    qtbot.wait(50)
    window.grab().save(str(SHOTS / "raters_panel_blinded.png"))
    # a coordinator (not in the plan) sees every rater's counts, never values or films
    window.panel.rater.setText("coordinator")
    window.panel.rater.editingFinished.emit()
    text = _settled(qtbot, window, "5 of 8")
    assert "hidden" not in text and "1.2.826" not in text and "°" not in text


def test_panel_follows_others_changes(qtbot: Any, window: MainWindow, where: Any) -> None:
    before = _settled(qtbot, window, "Plan rel")
    watcher = window.session._watch
    assert watcher is not None
    watcher.timer.setInterval(50)
    with Study.open(where, actor="carl") as carl:
        film = carl.films()[3]
        carl.save_measurement(film.id, reading(9.0, "carl", film.sop_instance_uid))
    after = _settled(qtbot, window, "carl")
    assert "carl" not in before and "carl" in after.split("Plan rel")[0]
