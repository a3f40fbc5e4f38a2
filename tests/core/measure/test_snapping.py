"""Endplate snapping on synthetic vertebral-body phantoms with known endplate angles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cobbdesk.core.measure.commands import History, MeasurementSet
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.measure.snapping import snap_endplate, snap_measurement
from cobbdesk.synth.phantom import Body, endplate, jitter, line_error, render


def random_scene(rng: np.random.Generator) -> tuple[np.ndarray, Body]:
    """A vertebral body and the next one below it across a disc space."""
    tilt = rng.uniform(-30, 30)
    body: Body = (*rng.uniform(100, 156, 2), tilt, rng.uniform(60, 100), rng.uniform(40, 70))
    c, s = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
    step = body[4] + rng.uniform(8, 20)
    below: Body = (body[0] - step * s, body[1] + step * c, tilt + rng.uniform(-8, 8),
                   body[3], body[4])  # fmt: skip
    return render((256, 256), [body, below], rng), body


def test_exact_clicks_stay_on_the_edge() -> None:
    rng = np.random.default_rng(0)
    image, body = random_scene(rng)
    true = endplate(body)
    result = snap_endplate(image, true, radius_px=10, bone_side="above")
    assert result.snapped, result.reason
    assert line_error(result.line, true) < 0.3
    assert math.dist(result.line.anterior, true.anterior) < 0.5
    assert math.dist(result.line.posterior, true.posterior) < 0.5
    assert 0.5 < result.confidence <= 1.0 and result.rms_px < 0.5


@pytest.mark.parametrize("facing_left", [True, False])
def test_snapping_reduces_click_error(facing_left: bool) -> None:
    rng = np.random.default_rng(42 if facing_left else 43)
    before, after = [], []
    for _ in range(40):
        image, body = random_scene(rng)
        true = endplate(body, facing_left=facing_left)
        click = jitter(true, rng)
        result = snap_endplate(image, click, radius_px=10, bone_side="above")
        assert result.snapped, result.reason
        before.append(line_error(click, true))
        after.append(line_error(result.line, true))
    assert np.mean(after) < 0.3 and max(after) < 1.0
    assert np.mean(after) < np.mean(before) / 4


def test_superior_endplate_bone_below_and_automatic_polarity() -> None:
    rng = np.random.default_rng(5)
    for bone_side in ("below", None):
        image, body = random_scene(rng)
        true = endplate(body, "superior")
        result = snap_endplate(image, jitter(true, rng), radius_px=10, bone_side=bone_side)
        assert result.snapped, result.reason
        assert line_error(result.line, true) < 0.5


def test_inverted_film_bone_dark() -> None:
    rng = np.random.default_rng(6)
    image, body = random_scene(rng)
    inverted = (4095 - image).astype(np.uint16)
    true = endplate(body)
    result = snap_endplate(inverted, jitter(true, rng), bone_side="above", bone_bright=False)
    assert result.snapped and line_error(result.line, true) < 0.5
    wrong = snap_endplate(inverted, jitter(true, rng), bone_side="above", bone_bright=True)
    assert not wrong.snapped or line_error(wrong.line, true) > 0.5 or math.dist(
        wrong.line.anterior, true.anterior) > 2  # fmt: skip


def test_snapped_points_lie_on_the_normals_through_the_clicks() -> None:
    rng = np.random.default_rng(7)
    image, body = random_scene(rng)
    click = jitter(endplate(body), rng)
    result = snap_endplate(image, click, bone_side="above")
    d = np.subtract(click.posterior, click.anterior)
    pairs = ((click.anterior, result.line.anterior), (click.posterior, result.line.posterior))
    for old, new in pairs:
        assert abs(float(np.subtract(new, old) @ d)) < 1e-6 * float(np.linalg.norm(d))


WEIRD_IMAGES = [
    np.zeros((200, 200), np.uint16),
    np.full((200, 200), 7.5, np.float64),
    np.zeros((2, 2), np.uint8),
    np.zeros((5, 200, 200), np.uint16),
    np.full((200, 200), np.nan),
    np.array([["a"]], dtype=object),
    np.zeros((0, 0)),
    np.random.default_rng(1).integers(0, 2, (200, 200)).astype(bool),
]


@pytest.mark.parametrize("image", WEIRD_IMAGES, ids=range(len(WEIRD_IMAGES)))
def test_weird_images_never_raise(image: np.ndarray) -> None:
    click = EndplateLine((50, 100), (150, 110))
    result = snap_endplate(image, click, bone_side="above")
    assert isinstance(result.reason, str) and result.reason
    if not result.snapped:
        assert result.line == click


@pytest.mark.parametrize(
    ("line", "kwargs", "reason"),
    [
        (EndplateLine((10, 10), (10, 10)), {}, "too short"),
        (EndplateLine((10, math.nan), (50, 10)), {}, "non-finite"),
        (EndplateLine((-500, -500), (-400, -510)), {}, "outside"),
        (EndplateLine((10, 10), (90, 12)), {"radius_px": 0}, "radius"),
        (EndplateLine((10, 10), (90, 12)), {"radius_px": math.nan}, "radius"),
    ],
)
def test_bad_lines_return_the_original_with_a_reason(
    line: EndplateLine, kwargs: dict[str, float], reason: str
) -> None:
    image = random_scene(np.random.default_rng(3))[0]
    result = snap_endplate(image, line, **kwargs)  # type: ignore[arg-type]
    assert not result.snapped and result.line == line and reason in result.reason


def test_line_along_the_border_and_flat_region() -> None:
    image = random_scene(np.random.default_rng(3))[0]
    at_border = snap_endplate(image, EndplateLine((0, 0), (255, 0)))
    assert not at_border.snapped
    assert at_border.line == EndplateLine((0, 0), (255, 0))


def test_snap_measurement_is_one_undo_step_back_to_the_clicks() -> None:
    rng = np.random.default_rng(9)
    upper: Body = (128, 70, 8.0, 80, 50)
    lower: Body = (128, 190, -6.0, 80, 50)
    image = render((256, 256), [upper, lower], rng)
    m = CobbMeasurement(
        sop_instance_uid="1", pixel_sha256="", template="C2-C7",
        upper=jitter(endplate(upper), rng), lower=jitter(endplate(lower), rng),
    )  # fmt: skip
    command, (ru, rl) = snap_measurement(image, m, radius_px=10)
    assert command is not None and ru.snapped and rl.snapped
    true_angle = 14.0  # upper tilts down towards the back by 8°, lower up by 6°
    snapped = command.measurement
    assert abs(snapped.angle - true_angle) < 0.5
    assert abs(snapped.angle - true_angle) < abs(m.angle - true_angle)
    history = History(MeasurementSet([m]))
    history.push(command)
    assert history.undo_text == "Snap endplates"
    history.undo()
    assert history.state[m.id] == m


def test_snap_measurement_without_edges_makes_no_command() -> None:
    m = CobbMeasurement("1", "", "FREE", EndplateLine((10, 10), (90, 12)),
                        EndplateLine((10, 80), (90, 85)))  # fmt: skip
    command, results = snap_measurement(np.zeros((100, 100)), m)
    assert command is None and not any(r.snapped for r in results)
