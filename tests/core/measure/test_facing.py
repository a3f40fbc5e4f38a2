"""Facing decides which end of an endplate line is anterior; click order and labels do not.

Reference angles are computed independently of :func:`cobb_angle`: on a film facing left
(anterior = small x, y down) a line whose anterior→posterior direction makes the angle θ with
+x (θ > 0 = descends posteriorly) contributes θ, so lordosis = θ_upper − θ_lower in mm.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from cobbdesk.core.errors import GeometryError
from cobbdesk.core.measure.facing import (
    Facing,
    FacingSource,
    facing_from_orientation,
    orient_line,
    orient_measurement,
)
from cobbdesk.core.measure.geometry import cobb_angle
from cobbdesk.core.measure.guards import GuardError, check_lines
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine

WIDTH = 600.0


def tilt(line: tuple[tuple[float, float], tuple[float, float]], spacing=None) -> float:
    """θ of a line given anterior-first on a left-facing film, in mm (degrees)."""
    (ax, ay), (px, py) = line
    row, col = spacing or (1.0, 1.0)
    return math.degrees(math.atan2((py - ay) * row, (px - ax) * col))


def mirror(point: tuple[float, float]) -> tuple[float, float]:
    return (WIDTH - point[0], point[1])


def pair(theta_u: float, theta_l: float, gap: float = 200.0, length: float = 60.0):
    """An upper and a lower line, anterior first, on a left-facing film."""
    u_a = (200.0, 150.0)
    l_a = (210.0, 150.0 + gap)
    u = (u_a, (u_a[0] + length * math.cos(math.radians(theta_u)),
               u_a[1] + length * math.sin(math.radians(theta_u))))  # fmt: skip
    low = (l_a, (l_a[0] + length * math.cos(math.radians(theta_l)),
                 l_a[1] + length * math.sin(math.radians(theta_l))))  # fmt: skip
    return u, low


def every_labelling(upper, lower):
    """All 8 ways of giving the four points: each line either way round, upper/lower swapped."""
    for flip_u, flip_l, swap in itertools.product((False, True), repeat=3):
        u = upper[::-1] if flip_u else upper
        low = lower[::-1] if flip_l else lower
        yield (low, u) if swap else (u, low)


def test_facing_from_orientation() -> None:
    assert facing_from_orientation(("A", "F")) is Facing.RIGHT
    assert facing_from_orientation(("P", "F")) is Facing.LEFT
    assert facing_from_orientation(("AH", "F")) is Facing.RIGHT
    assert facing_from_orientation(("PF", "A")) is Facing.LEFT  # only the row axis counts
    for unknown in (None, ("L", "F"), ("R", "H"), ("", ""), ("AP", "F")):
        assert facing_from_orientation(unknown) is None  # type: ignore[arg-type]


def test_enums_match_the_stored_strings() -> None:
    assert [f.value for f in Facing] == ["left", "right"]
    assert [s.value for s in FacingSource] == ["user", "dicom", "estimate"]
    assert Facing.LEFT.opposite is Facing.RIGHT and Facing.RIGHT.opposite is Facing.LEFT


@pytest.mark.parametrize("facing", list(Facing))
def test_orient_line_ignores_click_order(facing: Facing) -> None:
    a, b = (100.0, 100.0), (140.0, 110.0)
    expected = EndplateLine(a, b) if facing is Facing.LEFT else EndplateLine(b, a)
    assert orient_line(a, b, facing) == expected
    assert orient_line(b, a, facing) == expected


def test_orient_line_refuses_steep_lines_in_mm() -> None:
    with pytest.raises(GeometryError, match="C7 inferior endplate is within 30° of vertical"):
        orient_line((0.0, 0.0), (10.0, 18.0), "left", name="C7 inferior endplate")  # 60.9°
    assert orient_line((0.0, 0.0), (10.0, 17.0), "left").anterior == (0.0, 0.0)  # 59.5°
    # 45° in pixels but 78.7° in mm: rows 0.5 mm apart, columns 0.1 mm
    with pytest.raises(GeometryError, match=r"78\.7° from horizontal"):
        orient_line((0.0, 0.0), (10.0, 10.0), "right", spacing=(0.5, 0.1))
    with pytest.raises(GeometryError, match="zero length"):
        orient_line((3.0, 3.0), (3.0, 3.0), "left")


REFERENCE_PAIRS = [(14.0, -14.0), (-10.0, 25.0), (5.0, 5.0), (30.0, -30.0), (-20.0, 10.0)]


@pytest.mark.parametrize(("theta_u", "theta_l"), REFERENCE_PAIRS)
@pytest.mark.parametrize("spacing", [None, (0.15, 0.15), (0.2, 0.1)])
def test_every_labelling_on_both_facings_gives_the_reference(theta_u, theta_l, spacing) -> None:
    upper, lower = pair(theta_u, theta_l)
    reference = tilt(upper, spacing) - tilt(lower, spacing)
    films = {
        Facing.LEFT: (upper, lower),
        Facing.RIGHT: (tuple(map(mirror, upper)), tuple(map(mirror, lower))),
    }
    for facing, (u0, l0) in films.items():
        for u, low in every_labelling(u0, l0):
            lines = [orient_line(*line, facing, spacing).as_tuple() for line in (u, low)]
            assert cobb_angle(*lines, spacing) == pytest.approx(reference, abs=1e-9)
            if abs(reference) < 90:
                assert check_lines(*lines, spacing) == pytest.approx(reference, abs=1e-9)
            else:  # ±30° in px is 98.2° in mm at (0.2, 0.1): not a Cobb angle
                with pytest.raises(GuardError, match=r"98\.2° apart"):
                    check_lines(*lines, spacing)


def test_random_pairs_agree_with_the_reference_or_are_refused() -> None:
    rng = np.random.default_rng(20260511)
    for _ in range(300):
        theta_u, theta_l = rng.uniform(-45, 45, 2)
        upper, lower = pair(theta_u, theta_l, gap=rng.uniform(30, 300), length=rng.uniform(8, 80))
        spacing = (rng.uniform(0.1, 0.3), rng.uniform(0.1, 0.3))
        reference = tilt(upper, spacing) - tilt(lower, spacing)
        for facing, mapper in ((Facing.LEFT, lambda p: p), (Facing.RIGHT, mirror)):
            u0, l0 = tuple(map(mapper, upper)), tuple(map(mapper, lower))
            for u, low in every_labelling(u0, l0):
                try:
                    lines = [orient_line(*line, facing, spacing).as_tuple() for line in (u, low)]
                    angle = check_lines(*lines, spacing)
                except (GeometryError, GuardError):
                    continue  # a refusal is allowed; a wrong sign is not
                assert angle == pytest.approx(reference, abs=1e-9)


def test_wrong_facing_flips_the_sign_which_is_why_it_matters() -> None:
    upper, lower = pair(14.0, -14.0)
    right = [orient_line(*line, Facing.RIGHT).as_tuple() for line in (upper, lower)]
    assert cobb_angle(*right) == pytest.approx(-28.0)


def measurement(upper, lower, **kw) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid="1.2.3", pixel_sha256="", template="C2-C7",
        upper=EndplateLine(*upper), lower=EndplateLine(*lower), rater="ab", **kw,
    )  # fmt: skip


def test_orient_measurement_swaps_with_notices_and_keeps_identity() -> None:
    upper, lower = pair(14.0, -14.0)
    m = measurement(upper[::-1], lower, upper_snapped=True)
    oriented, notices = orient_measurement(m, Facing.LEFT)
    assert oriented.angle == pytest.approx(28.0)
    assert (oriented.id, oriented.created_utc, oriented.updated_utc) == (
        m.id, m.created_utc, m.updated_utc,
    )  # fmt: skip
    assert oriented.upper_snapped and oriented.rater == "ab"
    assert notices == (
        "C2 inferior endplate: corners were labelled posterior→anterior; swapped to match "
        "the film's facing (left)",
    )
    again, none = orient_measurement(oriented, "left")
    assert again is oriented and none == ()


def test_orient_measurement_uses_the_pixel_aspect() -> None:
    # 50° in pixels, but rows are 2x columns apart: 67° in aspect units → refused
    line = ((0.0, 0.0), (10.0, 11.92))
    m = measurement(line, ((0.0, 100.0), (30.0, 100.0)), pixel_aspect=(2.0, 1.0))
    with pytest.raises(GeometryError, match="C2 inferior endplate is within 30° of vertical"):
        orient_measurement(m, Facing.LEFT)
    flat = measurement(line, ((0.0, 100.0), (30.0, 100.0)))
    assert orient_measurement(flat, Facing.LEFT)[1] == ()


@pytest.mark.parametrize("region", ["cervical", "lumbar"])
@pytest.mark.parametrize("lordosis", [-15.0, 35.0])
def test_estimate_is_right_or_abstains_on_synthetic_films(region: str, lordosis: float) -> None:
    from cobbdesk.core.measure.facing import estimate_facing
    from cobbdesk.synth.spine import make_lateral_spine

    shape = (1000, 800) if region == "cervical" else (1300, 1000)
    answered = 0
    for facing in Facing:
        spine = make_lateral_spine(
            region, lordosis, rows=shape[0], columns=shape[1], spacing_mm=(0.3, 0.3),
            facing=facing.value, seed=5,
        )  # fmt: skip
        for truth, pixels in ((facing, spine.pixels), (facing.opposite, spine.pixels[:, ::-1])):
            guess = estimate_facing(pixels)
            assert guess.facing in (truth, None), guess
            assert (guess.facing is None) == (guess.confidence == 0.0)
            answered += guess.facing is not None
            # MONOCHROME1: the inverted film read as inverted gives the same answer
            inverted = estimate_facing(pixels.max() - pixels, photometric_inverted=True)
            assert inverted == guess
    assert answered >= 2  # the estimator is not a permanent abstention, cervical included


@pytest.mark.parametrize("region", ["cervical", "lumbar"])
def test_estimate_survives_exposure_gradients_tone_curves_and_tilt(region: str) -> None:
    """A heel-effect ramp towards either side, a gamma curve, a float film with NaNs and a
    film tilted by 8° never turn the answer into the wrong facing."""
    import cv2

    from cobbdesk.core.measure.facing import estimate_facing
    from cobbdesk.synth.spine import make_lateral_spine

    shape = (1000, 800) if region == "cervical" else (1300, 1000)
    spine = make_lateral_spine(
        region, 20.0, rows=shape[0], columns=shape[1], spacing_mm=(0.3, 0.3), facing="right",
        seed=11,
    )  # fmt: skip
    base = spine.pixels.astype(np.float32) / 4095
    ramp = np.linspace(-0.1, 0.1, base.shape[1], dtype=np.float32)[None, :]
    tilt = cv2.getRotationMatrix2D((shape[1] / 2, shape[0] / 2), 8.0, 1.0)
    holed = base.copy()
    holed[:40, :40] = np.nan
    variants = [
        base + ramp, base - ramp, base**2.0, base**0.5, holed,
        cv2.warpAffine(base, tilt, shape[::-1], borderMode=cv2.BORDER_REPLICATE),
    ]  # fmt: skip
    answers = [estimate_facing(v) for v in variants]
    assert all(a.facing in (Facing.RIGHT, None) for a in answers), answers
    assert sum(a.facing is Facing.RIGHT for a in answers) >= 4, answers


def test_estimate_abstains_on_structureless_images() -> None:
    from cobbdesk.core.measure.facing import estimate_facing

    rng = np.random.default_rng(7)
    for pixels in (np.zeros((300, 200)), rng.normal(1000, 50, (400, 300)), np.eye(64) * 4000):
        guess = estimate_facing(pixels)
        assert guess.facing is None and guess.confidence == 0.0 and guess.reason
    with pytest.raises(ValueError, match="2-D image"):
        estimate_facing(np.zeros((3, 40, 40)))
