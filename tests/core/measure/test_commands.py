"""Commands: every apply returns an exact inverse; History undo/redo over random sequences."""

from __future__ import annotations

import numpy as np
import pytest

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.commands import (
    AddMeasurement,
    Command,
    DeleteMeasurement,
    History,
    MeasurementSet,
    MoveLine,
    MovePoint,
    ReplaceMeasurement,
    apply,
)
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, LineName, PointName


def random_measurement(rng: np.random.Generator, index: int) -> CobbMeasurement:
    x, y = rng.uniform(50, 400, 2)
    return CobbMeasurement(
        sop_instance_uid="1.2.3", pixel_sha256="", template="C2-C7",
        upper=EndplateLine((x, y), (x + 40, y + rng.uniform(-10, 10))),
        lower=EndplateLine((x, y + 200), (x + 40, y + 200 + rng.uniform(-10, 10))),
        id=f"m{index}",
    )  # fmt: skip


def random_command(rng: np.random.Generator, state: MeasurementSet, counter: list[int]) -> Command:
    ids = list(state)
    kind = rng.integers(5) if ids else 0
    if kind == 0:
        counter[0] += 1
        index = int(rng.integers(len(ids) + 1)) if rng.random() < 0.5 else None
        return AddMeasurement(random_measurement(rng, counter[0]), index)
    mid = ids[int(rng.integers(len(ids)))]
    if kind == 1:
        return DeleteMeasurement(mid)
    if kind == 2:
        which = list(PointName)[int(rng.integers(4))]
        x, y = state[mid].point(which)
        return MovePoint(mid, which, (x + rng.uniform(1, 5), y + rng.uniform(-5, 5)))
    if kind == 3:
        return MoveLine(mid, list(LineName)[int(rng.integers(2))], *rng.uniform(-9, 9, 2))
    m = state[mid]
    return ReplaceMeasurement(m.with_lines(m.upper.translated(1, 1), m.lower))


@pytest.mark.parametrize("seed", range(20))
def test_every_inverse_restores_the_previous_state(seed: int) -> None:
    rng = np.random.default_rng(seed)
    state, counter = MeasurementSet(), [0]
    for _ in range(40):
        command = random_command(rng, state, counter)
        new_state, inverse = apply(state, command)
        assert new_state != state
        restored, redo = apply(new_state, inverse)
        assert restored == state
        assert list(restored) == list(state)  # order too
        assert apply(restored, redo)[0] == new_state
        state = new_state


@pytest.mark.parametrize("seed", range(10))
def test_history_undo_all_and_redo_all(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    history, counter = History(), [0]
    states = [history.state]
    for _ in range(30):
        states.append(history.push(random_command(rng, history.state, counter)))
    for expected in reversed(states[:-1]):
        assert history.undo() == expected
    assert not history.can_undo and history.undo() == states[0]
    for expected in states[1:]:
        assert history.redo() == expected
    assert not history.can_redo and history.redo() == states[-1]


def test_labels_and_redo_cleared_by_a_new_command() -> None:
    rng = np.random.default_rng(1)
    history = History()
    m = random_measurement(rng, 1)
    history.push(AddMeasurement(m))
    assert history.undo_text == "Add C2-C7 measurement" and history.redo_text == ""
    history.push(MoveLine(m.id, "upper", 2, 3))
    assert history.undo_text == "Move upper line"
    history.undo()
    assert history.can_redo and history.redo_text == "Move upper line"
    assert history.undo_text == "Add C2-C7 measurement"
    history.push(DeleteMeasurement(m.id))
    assert not history.can_redo and history.undo_text == "Delete measurement"
    history.undo()
    assert history.state[m.id] == m


def test_consecutive_moves_of_the_same_point_merge_when_asked() -> None:
    rng = np.random.default_rng(2)
    m = random_measurement(rng, 1)
    history = History(MeasurementSet([m]))
    x, y = m.upper.anterior
    for step in range(1, 6):
        history.push(MovePoint(m.id, "upper.anterior", (x + step, y)), merge=True)
    history.push(MovePoint(m.id, "lower.anterior", (5, 5)), merge=True)
    assert history.state[m.id].upper.anterior == (x + 5, y)
    history.undo()
    assert history.state[m.id].lower == m.lower
    assert history.state[m.id].upper.anterior == (x + 5, y)
    history.undo()
    assert history.state[m.id] == m and not history.can_undo
    history.redo()
    assert history.state[m.id].upper.anterior == (x + 5, y)


def test_moves_do_not_merge_by_default() -> None:
    m = random_measurement(np.random.default_rng(3), 1)
    history = History(MeasurementSet([m]))
    history.push(MovePoint(m.id, "upper.anterior", (1, 1)))
    history.push(MovePoint(m.id, "upper.anterior", (2, 2)))
    history.undo()
    assert history.state[m.id].upper.anterior == (1.0, 1.0)


def test_delete_restores_position_and_snap_undo_returns_to_clicks() -> None:
    rng = np.random.default_rng(4)
    a, b, c = (random_measurement(rng, i) for i in range(3))
    state = MeasurementSet([a, b, c])
    removed, inverse = apply(state, DeleteMeasurement(b.id))
    assert list(removed) == [a.id, c.id]
    assert list(apply(removed, inverse)[0]) == [a.id, b.id, c.id]
    snapped = b.with_lines(b.upper.translated(0.3, 0.7), b.lower)
    history = History(state)
    history.push(ReplaceMeasurement(snapped))
    assert history.undo_text == "Snap endplates"
    assert history.undo()[b.id] == b


def test_errors_name_the_problem() -> None:
    m = random_measurement(np.random.default_rng(5), 1)
    state = MeasurementSet([m])
    with pytest.raises(ValidationError, match="already exists"):
        apply(state, AddMeasurement(m))
    with pytest.raises(ValidationError, match="no measurement with id nope"):
        apply(state, MovePoint("nope", "upper.anterior", (1, 1)))
    with pytest.raises(ValidationError, match="duplicate"):
        MeasurementSet([m, m])
    with pytest.raises(ValueError, match="middle"):
        MovePoint(m.id, "upper.middle", (1, 1))  # type: ignore[arg-type]


def test_measurement_set_is_an_immutable_mapping() -> None:
    m = random_measurement(np.random.default_rng(6), 1)
    state = MeasurementSet([m])
    assert dict(state) == {m.id: m} and len(state) == 1 and m.id in state
    assert hash(state) == hash(MeasurementSet([m]))
    with pytest.raises(TypeError):
        state[m.id] = m  # type: ignore[index]
