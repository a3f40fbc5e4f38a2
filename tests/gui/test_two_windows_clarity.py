"""Two windows (viewer and compare view) or two raters on one film: every question says whose.

The app of ``test_compare_reading_off_ui`` (Z0001's admission film: synthetic cervical spine,
facing left, 0.5 mm pixels) on a study file and on the throwaway PostgreSQL cluster:

* the reason asked when an edit changes a saved measurement names whose measurement it is, which
  one, its saved angle (the one angle formatter) and when it was saved — two raters'
  measurements lying one over the other on the film are otherwise indistinguishable;
* the Keep theirs / Keep mine question names who saved the newer version: "Your other window
  (Compare view)" / "(viewer)" for the app's own other window, "Another rater (dr_b)" for
  another rater, "You (tester), in another window or program" for the same rater elsewhere;
* a calibration saved in the viewer reaches the compare view showing the film: its spacing and
  its measurements' spacing follow at once (its next edit is not a conflict), or — while it
  holds an unsaved edit — it says the calibration changed and takes it once the edit is done;
* an edit kept while the server was away and refused when finally written names the writer too.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from cobbdesk.core.compare.saver import FilmWrite
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.measure.commands import MeasurementSet, MoveLine, apply
from cobbdesk.core.measure.facing import Facing, orient_measurement
from cobbdesk.core.measure.formatting import angle_text
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study
from cobbdesk.core.store.conflicts import ConflictError, FieldConflict, Writer
from cobbdesk.core.store.outbox import Ticket
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study import late_failures
from cobbdesk.gui.viewer import calibrate_tool, measure_tool
from tests.gui.test_compare_reading_off_ui import (  # the same study, window and helpers
    _env,
    film_of,
    open_compare_of_shown_film,
    saves_done,
    spine,
    study_of,
    where,
    window,
)
from tests.gui.ui_thread_sql import UiThreadSql

__all__ = ["_env", "where", "window"]  # fixtures used by the tests below

SAVED = "2026-01-05T10:00:00+00:00"
NO_KEYS = Qt.KeyboardModifier.NoModifier


def _settle(where: Any, record: Any, index: int, rater: str, mid: str) -> CobbMeasurement:
    """Store ``rater``'s C2–C7 on the film's template endplates (a previous sitting, through
    another study object: the windows read it when the film is shown)."""
    film = read_film(record.path)
    upper, lower = spine(index).template_endplates
    m = CobbMeasurement(film.sop_instance_uid, "", "C2-C7", EndplateLine(*upper),
                        EndplateLine(*lower), spacing=film.spacing_mm,
                        spacing_source=film.spacing_source, rater=rater, id=mid,
                        created_utc=SAVED)  # fmt: skip
    m, _ = orient_measurement(m, Facing.LEFT)
    with Study.open(where, actor=rater) as other:
        other.save_measurement(record.id, m)
    return m


def _stored(where: Any, mid: str) -> CobbMeasurement | None:
    with Study.open(where, actor="check") as other:
        return other.reread_measurement(mid)


def _points(m: CobbMeasurement | None) -> object:
    return None if m is None else (m.upper, m.lower)


def _drag(qtbot: Any, view: Any, point: tuple[float, float], dy: int) -> None:
    """Drag the handle at ``point`` (image px) ``dy`` screen pixels down, with the mouse."""
    viewport = view.viewport()
    at: QPoint = view.mapFromScene(QPointF(*point))
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=at)
    qtbot.mouseMove(viewport, pos=at + QPoint(0, dy // 2))
    qtbot.mouseMove(viewport, pos=at + QPoint(0, dy))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=at + QPoint(0, dy))


def _viewer(qtbot: Any, window: MainWindow, count: int) -> Any:
    qtbot.waitUntil(lambda: window.current is not None and window.current.controller is not None
                    and len(window.current.controller.measurements) == count,
                    timeout=20000)  # fmt: skip
    assert window.current is not None
    return window.current.controller


def _side(compare: Any, record: Any) -> Any:
    return next(s for s in compare.view.sides if s.slot and s.slot.film.id == record.id)


def _asked(monkeypatch: pytest.MonkeyPatch, answer: str | None = None) -> list[str]:
    asked: list[str] = []
    monkeypatch.setattr(measure_tool, "ask_conflict",
                        lambda parent, text: asked.append(text) or answer)  # fmt: skip
    return asked


# --- 1. the reason names whose measurement changes -----------------------------------------
def test_the_reason_names_whose_measurement_of_two_overlapping_ones(
    qtbot: Any, window: MainWindow, where: Any
) -> None:
    """dr_b's and the user's C2–C7 lie exactly over each other; the user drags the upper
    posterior handle: the question names the one that changes (which of the two the handle
    grabbed is read back from the study), its saved angle and time, and the new angle."""
    study = study_of(window)
    record, index = film_of(study, "Z0001", "admission")
    mine = _settle(where, record, index, "tester", "mine")
    theirs = _settle(where, record, index, "dr_b", "theirs")
    asked: list[str] = []
    window.session.reason_prompt = lambda parent, text: asked.append(text) or "re-read"
    window.session.open_film(record)
    viewer = _viewer(qtbot, window, 2)
    assert viewer.measurements["mine"].upper == viewer.measurements["theirs"].upper  # overlap
    _drag(qtbot, window.view, mine.upper.posterior, -30)
    saves_done(qtbot, window)
    changed = [m for m in (mine, theirs) if _points(_stored(where, m.id)) != _points(m)]
    assert len(changed) == 1 and len(asked) == 1
    before = changed[0]
    after = _stored(where, before.id)
    assert after is not None and after.upper.posterior != before.upper.posterior
    whose = "your" if before.rater == "tester" else "dr_b's"
    line = (f"• {whose} C2-C7 (saved 2026-01-05 10:00 UTC): {angle_text(before.angle)} → "
            f"{angle_text(after.angle)}")  # fmt: skip
    assert line in asked[0].splitlines()
    assert angle_text(before.angle) != angle_text(after.angle)
    not_yours = "Not yours: this changes the measurement of dr_b."
    assert (not_yours in asked[0]) == (before.rater == "dr_b")
    other = "your" if whose != "your" else "dr_b's"
    assert f"{other} C2-C7" not in asked[0]  # the untouched one is not named


def test_the_reason_for_deleting_another_raters_measurement_says_so(
    qtbot: Any, window: MainWindow, where: Any
) -> None:
    study = study_of(window)
    record, index = film_of(study, "Z0001", "admission")
    theirs = _settle(where, record, index, "dr_b", "theirs")
    asked: list[str] = []
    window.session.reason_prompt = lambda parent, text: asked.append(text) or "duplicate"
    window.session.open_film(record)
    viewer = _viewer(qtbot, window, 1)
    viewer.select("theirs")
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_Delete)
    saves_done(qtbot, window)
    assert _stored(where, "theirs") is None
    assert asked == [f"You are changing saved measurement(s) of film #{record.id}:\n"
                     f"• dr_b's C2-C7, {angle_text(theirs.angle)} (saved 2026-01-05 10:00 UTC):"
                     " deleted\nNot yours: this changes the measurement of dr_b."]  # fmt: skip


# --- 2. the conflict question names who saved the newer version -----------------------------
def test_the_conflict_names_your_other_window(
    qtbot: Any, window: MainWindow, where: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The viewer drags while the compare view's save lands (the viewer's edit is of the old
    version): "Your other window (Compare view)"; then the other way round: "(viewer)"."""
    study = study_of(window)
    record, index = film_of(study, "Z0001", "admission")
    m = _settle(where, record, index, "tester", "m1")
    window.session.reason_prompt = lambda parent, text: "re-read"  # both windows
    compare = open_compare_of_shown_film(qtbot, window, record)
    viewer = _viewer(qtbot, window, 1)
    side = _side(compare, record)
    qtbot.waitUntil(lambda: side.controller is not None and "m1" in side.controller.measurements)
    asked = _asked(monkeypatch)
    grab = m.upper.anterior
    with UiThreadSql(study) as seen:
        assert viewer.press(grab[0], grab[1], NO_KEYS)  # the viewer holds a drag
        assert side.controller.push(MoveLine("m1", "upper", 0, 3)).ok  # compare: saved
        saves_done(qtbot, window)
        qtbot.wait(100)  # delivered to the viewer, which holds its drag
        viewer.move(grab[0], grab[1] + 4, Qt.MouseButton.LeftButton)
        viewer.release(grab[0], grab[1] + 4)
    assert seen.statements == []
    assert len(asked) == 1
    assert asked[0].startswith("Your other window (Compare view) saved this measurement (")
    assert "since this window showed it" in asked[0] and "nother rater" not in asked[0]
    qtbot.waitUntil(lambda: viewer.measurements["m1"] == side.controller.measurements["m1"])
    now = side.controller.measurements["m1"].upper.anterior
    assert side.controller.press(now[0], now[1], NO_KEYS)  # now the compare view drags
    assert viewer.push(MoveLine("m1", "upper", 0, 2)).ok
    saves_done(qtbot, window)
    qtbot.wait(100)
    side.controller.move(now[0], now[1] + 5, Qt.MouseButton.LeftButton)
    side.controller.release(now[0], now[1] + 5)
    assert len(asked) == 2 and asked[1].startswith("Your other window (viewer) saved this")
    compare.close()


@pytest.mark.parametrize("case", [("dr_b", "Another rater (dr_b) saved this"),
                                  ("tester", "You (tester), in another window or program, "
                                             "saved this")])  # fmt: skip
def test_the_conflict_names_another_rater_or_you_elsewhere(
    qtbot: Any, window: MainWindow, where: Any, monkeypatch: pytest.MonkeyPatch,
    case: tuple[str, str],
) -> None:  # fmt: skip
    """Another program (its own study connection) saves the measurement the viewer shows: the
    viewer's next edit is asked about, naming that writer from the study's audit trail."""
    writer, who = case
    study = study_of(window)
    record, index = film_of(study, "Z0001", "admission")
    m = _settle(where, record, index, "tester", "m1")
    window.session.reason_prompt = lambda parent, text: "re-read"
    window.session.open_film(record)
    viewer = _viewer(qtbot, window, 1)
    asked = _asked(monkeypatch)
    moved = MoveLine("m1", "upper", 0, 7)
    with Study.open(where, actor=writer) as other:
        state, _ = apply(MeasurementSet([m]), moved)
        other.save_measurement(record.id, state["m1"], reason="their re-read")
    viewer.push(MoveLine("m1", "upper", 0, 2))
    assert len(asked) == 1 and asked[0].startswith(who)


# --- 3. a calibration reaches the other window ------------------------------------------------
def _calibrate(window: MainWindow, length_mm: float) -> None:
    """Measure ▸ Calibrate… in the viewer: a 200 px line typed as ``length_mm``."""
    tool = calibrate_tool.start(window, ask=lambda _parent, _px: length_mm)
    assert tool is not None
    tool.press(20.0, 30.0, NO_KEYS)
    tool.press(20.0, 230.0, NO_KEYS)


def test_a_calibration_in_the_viewer_updates_the_compare_view(
    qtbot: Any, window: MainWindow, where: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = study_of(window)
    record, index = film_of(study, "Z0001", "admission")
    m = _settle(where, record, index, "tester", "m1")
    theirs = _settle(where, record, index, "dr_b", "m2")  # over the user's, in the viewer only
    reasons: list[str] = []
    window.session.reason_prompt = lambda parent, text: reasons.append(text) or "ruler"
    compare = open_compare_of_shown_film(qtbot, window, record)
    _viewer(qtbot, window, 2)
    side = _side(compare, record)
    qtbot.waitUntil(lambda: side.controller is not None and "m1" in side.controller.measurements)
    assert side.film.spacing_mm == pytest.approx((0.5, 0.5))
    asked = _asked(monkeypatch)
    with UiThreadSql(study) as seen:
        _calibrate(window, 50.0)  # 50 mm over 200 px: 0.25 mm per pixel
        saves_done(qtbot, window)
        qtbot.waitUntil(lambda: side.controller.measurements["m1"].spacing == (0.25, 0.25),
                        timeout=10000)  # fmt: skip
    assert seen.statements == []
    assert reasons == [  # the calibration's reason names whose measurements it respaces
        "Calibrating film: changing saved measurements needs a reason — the spacing of these "
        "saved measurements changes:\n"
        f"• your C2-C7, {angle_text(m.angle)} (saved 2026-01-05 10:00 UTC): spacing "
        "0.5 × 0.5 mm → 0.25 × 0.25 mm\n"
        f"• dr_b's C2-C7, {angle_text(theirs.angle)} (saved 2026-01-05 10:00 UTC): spacing "
        "0.5 × 0.5 mm → 0.25 × 0.25 mm\n"
        "Not yours: this changes the measurements of dr_b."]  # fmt: skip
    assert side.film.spacing_mm == (0.25, 0.25) and side.film.calibrated
    assert side.controller.session.film.spacing == (0.25, 0.25)  # new measurements too
    assert side.controller.film_follower.notice == ""
    assert side.controller.push(MoveLine("m1", "upper", 0, 2)).ok  # not a conflict
    saves_done(qtbot, window)
    stored = _stored(where, "m1")
    assert asked == [] and stored is not None and stored.spacing == (0.25, 0.25)
    compare.close()


def test_a_calibration_waits_while_the_compare_view_holds_an_edit(
    qtbot: Any, window: MainWindow, where: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    study = study_of(window)
    record, index = film_of(study, "Z0001", "admission")
    m = _settle(where, record, index, "tester", "m1")
    window.session.reason_prompt = lambda parent, text: "ruler on the film"
    compare = open_compare_of_shown_film(qtbot, window, record)
    _viewer(qtbot, window, 1)
    side = _side(compare, record)
    qtbot.waitUntil(lambda: side.controller is not None and "m1" in side.controller.measurements)
    messages: list[str] = []
    side.messageChanged.connect(messages.append)
    asked = _asked(monkeypatch)  # Cancel
    grab = m.upper.anterior
    assert side.controller.press(grab[0], grab[1], NO_KEYS)  # the compare view holds a drag
    _calibrate(window, 50.0)
    saves_done(qtbot, window)
    follower = side.controller.film_follower
    qtbot.waitUntil(lambda: follower.notice != "", timeout=10000)
    assert follower.notice.startswith("The film was calibrated in your other window (viewer)")
    assert "ruler 50 mm over 200.0 px" in follower.notice and follower.notice in messages
    assert side.film.spacing_mm == (0.5, 0.5)  # not changed under the held edit
    side.controller.move(grab[0], grab[1] + 4, Qt.MouseButton.LeftButton)
    side.controller.release(grab[0], grab[1] + 4)  # an edit with the old spacing: asked
    assert len(asked) == 1 and "spacing" in asked[0]
    assert asked[0].startswith("Your other window (viewer) saved this measurement")
    qtbot.waitUntil(lambda: side.film.spacing_mm == (0.25, 0.25), timeout=10000)
    assert side.controller.measurements["m1"].spacing == (0.25, 0.25)
    assert follower.notice == ""
    compare.close()


# --- a kept edit refused later names the writer too --------------------------------------------
@pytest.mark.parametrize("case", [(Writer("tester", "u", here=True, window="Compare view"),
                                   "that your other window (Compare view) changed too"),
                                  (Writer("dr_b", "b"), "that another rater (dr_b) changed too"),
                                  (None, "that another rater changed too")])  # fmt: skip
def test_a_kept_edit_refused_later_names_who_changed_it(
    monkeypatch: pytest.MonkeyPatch, case: tuple[Writer | None, str]
) -> None:
    """An edit kept while the server was away meets a conflict when it is finally written:
    the question names the writer the store found (none found: "another rater")."""
    writer, said = case
    asked: list[str] = []
    monkeypatch.setattr(late_failures, "ask_conflict",
                        lambda parent, text: asked.append(text) or None)  # fmt: skip
    session = SimpleNamespace(window=SimpleNamespace(rater="tester"), saver=None, links={})
    ticket = Ticket("saving a measurement on film #3", lambda: None,
                    subject=FilmWrite(3, "m1", lambda: None))  # fmt: skip
    error = ConflictError(None, "measurement m1: changed",
                          [FieldConflict("upper_anterior_y", 1.0, 2.0, 3.0)], writer)  # fmt: skip
    late_failures.handle_late_failure(session, ticket, error)
    assert len(asked) == 1 and said in asked[0] and "(upper_anterior_y)" in asked[0]
