"""Placing, hit-testing, dragging and deleting measurements with simulated pointer events."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.measure.commands import History, MeasurementSet, MoveLine, MovePoint
from cobbdesk.core.measure.interaction import (
    DragUpdate,
    EventKind,
    FilmContext,
    Hit,
    PointerEvent,
    delete_command,
    drag,
    hit_test,
    nudge_command,
    place_measurement,
)
from cobbdesk.core.measure.measurement import CobbMeasurement, LineName, PointName, Template

FILM = FilmContext(
    rows=1000, columns=800, sop_instance_uid="1.2.3", pixel_sha256="cd" * 32,
    spacing=(0.15, 0.15), spacing_source=SpacingSource.PIXEL_SPACING, rater="rater1",
)  # fmt: skip
CLICKS = [(300.0, 200.0), (380.0, 215.0), (300.0, 700.0), (380.0, 690.0)]


def place(clicks: list[object], template: str = "C2-C7") -> list[object]:
    placing = place_measurement(template, FILM)
    steps: list[object] = [next(placing)]
    steps.extend(placing.send(click) for click in clicks)
    return steps


def placed() -> CobbMeasurement:
    step = place(list(CLICKS))[-1]
    assert step.command is not None  # type: ignore[attr-defined]
    return step.command.measurement  # type: ignore[attr-defined,no-any-return]


def test_place_c2_c7_with_four_clicks() -> None:
    steps = place(list(CLICKS))
    prompts = [s.prompt for s in steps]  # type: ignore[attr-defined]
    assert prompts == [*Template.C2_C7.prompts, ""]
    assert [s.message for s in steps] == [""] * 5  # type: ignore[attr-defined]
    m = steps[-1].command.measurement  # type: ignore[attr-defined]
    assert m.upper.as_tuple() == (CLICKS[0], CLICKS[1])
    assert m.lower.as_tuple() == (CLICKS[2], CLICKS[3])
    assert (m.template, m.sop_instance_uid, m.rater, m.spacing) == (
        Template.C2_C7, "1.2.3", "rater1", (0.15, 0.15))  # fmt: skip
    assert m.spacing_source is SpacingSource.PIXEL_SPACING
    assert m.angle > 0  # lordotic clicks


def test_click_outside_the_image_is_refused_with_a_message() -> None:
    steps = place([CLICKS[0], (900.0, 10.0), (100.0, -3.0), CLICKS[1], CLICKS[2], CLICKS[3]])
    assert "outside the image (800 × 1000 px)" in steps[2].message  # type: ignore[attr-defined]
    assert steps[2].prompt == Template.C2_C7.prompts[1]  # type: ignore[attr-defined]
    assert steps[3].points == (CLICKS[0],)  # type: ignore[attr-defined]
    assert steps[4].message == ""  # type: ignore[attr-defined]
    assert steps[-1].done  # type: ignore[attr-defined]


def test_zero_length_line_asks_again() -> None:
    steps = place([CLICKS[0], CLICKS[0], (300.4, 200.3), CLICKS[1], CLICKS[2], CLICKS[3]])
    for step in steps[2:4]:
        assert "no length" in step.message  # type: ignore[attr-defined]
        assert step.prompt == Template.C2_C7.prompts[1]  # type: ignore[attr-defined]
    assert steps[-1].done  # type: ignore[attr-defined]


def test_garbage_clicks_are_refused_not_raised() -> None:
    steps = place([None, (float("nan"), 3.0), "xy", *CLICKS])
    assert all("no valid image position" in s.message for s in steps[1:4])  # type: ignore[attr-defined]
    assert steps[-1].done  # type: ignore[attr-defined]


def test_free_template_prompts() -> None:
    assert place([], "FREE")[0].prompt == "Upper line: click the anterior corner"  # type: ignore[attr-defined]


def test_hit_test_prefers_handles_then_lines() -> None:
    m = placed()
    hit = hit_test([m], (303.0, 202.0), tolerance_px=5)
    assert hit == Hit(m.id, PointName.UPPER_ANTERIOR, pytest.approx(13**0.5))
    assert hit is not None and hit.is_handle
    on_line = hit_test([m], (340.0, 209.0), tolerance_px=5)
    assert on_line is not None and on_line.target is LineName.UPPER and not on_line.is_handle
    assert hit_test([m], (340.0, 400.0), tolerance_px=5) is None
    assert hit_test([], (0.0, 0.0), 5) is None


def run_drag(m: CobbMeasurement, hit: Hit, press: tuple[float, float],
             moves: list[tuple[float, float]]) -> list[DragUpdate]:  # fmt: skip
    gen = drag(m, hit, press, FILM)
    updates = [next(gen)]
    updates.extend(gen.send(PointerEvent(EventKind.MOVE, p)) for p in moves)
    updates.append(gen.send(PointerEvent(EventKind.RELEASE, moves[-1] if moves else press)))
    with pytest.raises(StopIteration):
        gen.send(PointerEvent(EventKind.MOVE, press))
    return updates


def test_drag_handle_previews_then_one_command_and_undo_restores() -> None:
    m = placed()
    history = History(MeasurementSet([m]))
    hit = hit_test(history.state.values(), (381.0, 214.0), 6)
    assert hit is not None and hit.target is PointName.UPPER_POSTERIOR
    updates = run_drag(m, hit, (381.0, 214.0), [(382.0, 220.0), (385.0, 230.0), (386.0, 236.0)])
    assert [u.command for u in updates[:-1]] == [None] * 4
    # grabbed 1 px off the handle centre: the handle keeps that offset
    assert updates[-2].preview.upper.posterior == (385.0, 237.0)
    angles = [u.angle for u in updates]
    # the upper line now slopes further down towards the back: more lordosis
    assert angles[0] == pytest.approx(m.angle) and angles[-1] > angles[0]
    final = updates[-1]
    assert final.done and final.command == MovePoint(m.id, "upper.posterior", (385.0, 237.0))
    history.push(final.command)
    assert history.state[m.id].angle == pytest.approx(final.angle)
    history.undo()
    assert history.state[m.id] == m


def test_click_on_handle_without_moving_makes_no_command() -> None:
    m = placed()
    hit = Hit(m.id, PointName.LOWER_ANTERIOR, 0.0)
    updates = run_drag(m, hit, m.lower.anterior, [])
    assert updates[-1].done and updates[-1].command is None


def test_drag_cannot_collapse_a_line_or_leave_the_image() -> None:
    m = placed()
    hit = Hit(m.id, PointName.UPPER_ANTERIOR, 0.0)
    updates = run_drag(m, hit, CLICKS[0], [(350.0, 210.0), CLICKS[1], (-50.0, 5000.0)])
    assert "no length" in updates[2].message
    assert updates[2].preview.upper.anterior == (350.0, 210.0)
    assert updates[3].preview.upper.anterior == (-0.5, 999.5)
    assert updates[-1].command == MovePoint(m.id, "upper.anterior", (-0.5, 999.5))


def test_move_whole_line_by_dragging_it() -> None:
    m = placed()
    history = History(MeasurementSet([m]))
    press = (340.0, 695.0)
    hit = hit_test([m], press, 5)
    assert hit is not None and hit.target is LineName.LOWER
    updates = run_drag(m, hit, press, [(345.0, 690.0), (350.0, 680.0)])
    assert updates[-1].command == MoveLine(m.id, "lower", 10.0, -15.0)
    assert updates[-1].preview.lower.anterior == (310.0, 685.0)
    assert updates[-1].angle == pytest.approx(m.angle)
    history.push(updates[-1].command)
    assert history.state[m.id].lower.posterior == (390.0, 675.0)
    history.undo()
    assert history.state[m.id] == m


def test_line_drag_is_clamped_to_the_image() -> None:
    m = placed()
    updates = run_drag(m, Hit(m.id, LineName.UPPER, 0.0), (340, 207), [(340, -900)])
    assert updates[-1].command == MoveLine(m.id, "upper", 0.0, -200.5)


def test_delete_selected_measurement() -> None:
    m = placed()
    history = History(MeasurementSet([m]))
    assert delete_command(history.state, None) is None
    assert delete_command(history.state, "other") is None
    command = delete_command(history.state, m.id)
    assert command is not None
    history.push(command)
    assert len(history.state) == 0
    history.undo()
    assert history.state[m.id] == m


def test_nudges_merge_into_one_undo_step() -> None:
    m = placed()
    history = History(MeasurementSet([m]))
    for _ in range(3):
        current = history.state[m.id]
        history.push(nudge_command(current, PointName.LOWER_POSTERIOR, 1, 0, FILM), merge=True)
        history.push(nudge_command(history.state[m.id], LineName.UPPER, 0, -1, FILM), merge=True)
    assert history.state[m.id].lower.posterior == (383.0, 690.0)
    while history.can_undo:
        history.undo()
    assert history.state[m.id] == m


def test_film_context_from_film() -> None:
    film = SimpleNamespace(
        rows=10, columns=20, sop_instance_uid="9", pixel_sha256="", spacing_mm=None,
        spacing_source=SpacingSource.NONE,
    )  # fmt: skip
    ctx = FilmContext.from_film(film, rater="me")
    assert (ctx.rows, ctx.columns, ctx.rater, ctx.spacing) == (10, 20, "me", None)
    assert ctx.contains((-0.5, 9.5)) and not ctx.contains((19.6, 0))
