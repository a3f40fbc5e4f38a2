"""Signed Cobb angle: checked against an independent formula and for invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cobbdesk
from cobbdesk.core.errors import GeometryError
from cobbdesk.core.measure.geometry import (
    Units,
    cobb_angle,
    cobb_construction,
    convergence_sign,
    from_mm,
    length_units,
    line_intersection,
    line_length,
    lower_side_normal,
    to_mm,
    unsigned_angle,
)

Line = tuple[tuple[float, float], tuple[float, float]]


def independent_cobb(upper: Line, lower: Line, spacing: tuple[float, float] | None) -> float:
    """Each line's own atan2 angle in mm; sign from which way the patient faces.

    Facing left (anterior ends at smaller x) with y down, a lordotic pair has the upper line
    sloping down towards the back and the lower line sloping up: lordosis = θ_upper − θ_lower.
    Facing right, mirror the x components first.
    """
    row, col = spacing if spacing is not None else (1.0, 1.0)

    def theta(line: Line, mirror: bool) -> float:
        (ax, ay), (px, py) = line
        dx, dy = (px - ax) * col, (py - ay) * row
        return math.atan2(dy, -dx if mirror else dx)

    facing_right = (upper[1][0] - upper[0][0]) + (lower[1][0] - lower[0][0]) < 0
    diff = math.degrees(theta(upper, facing_right) - theta(lower, facing_right))
    return (diff + 180.0) % 360.0 - 180.0


def random_pair(rng: np.random.Generator, spacing: tuple[float, float] | None) -> Line:
    """A plausible upper/lower endplate pair, built in mm and returned in pixels."""
    row, col = spacing if spacing is not None else (1.0, 1.0)
    cu = (rng.uniform(20, 40), rng.uniform(10, 20))
    cl = (cu[0] + rng.uniform(-5, 5), cu[1] + rng.uniform(40, 80))
    facing_right = rng.random() < 0.5
    lines = []
    for centre in (cu, cl):
        theta, half = math.radians(rng.uniform(-40, 40)), rng.uniform(5, 10)
        ends = [(centre[0] + k * half * math.cos(theta), centre[1] + k * half * math.sin(theta))
                for k in (-1, 1)]  # fmt: skip
        if facing_right:
            ends = [(100.0 - x, y) for x, y in ends]
        lines.append(tuple((x / col, y / row) for x, y in ends))
    return lines[0], lines[1]  # type: ignore[return-value]


@pytest.mark.parametrize("spacing", [None, (0.15, 0.15), (0.1, 0.2), (0.2, 0.1), (0.143, 0.0875)])
def test_matches_independent_formula_on_1000_random_pairs(spacing: tuple[float, float]) -> None:
    rng = np.random.default_rng(20260101)
    worst = 0.0
    for _ in range(1000):
        upper, lower = random_pair(rng, spacing)
        worst = max(worst, abs(cobb_angle(upper, lower, spacing) - independent_cobb(
            upper, lower, spacing)))  # fmt: skip
    assert worst < 0.01


def test_public_api_is_exported() -> None:
    assert cobbdesk.cobb_angle is cobb_angle


def test_spacing_order_matters_on_anisotropic_films() -> None:
    upper = ((100.0, 100.0), (140.0, 110.0))
    lower = ((100.0, 300.0), (140.0, 290.0))
    row_first = cobb_angle(upper, lower, spacing=(0.1, 0.2))
    swapped = cobb_angle(upper, lower, spacing=(0.2, 0.1))
    assert abs(row_first - swapped) > 10
    # (x * column_mm, y * row_mm): the upper line is 8 mm across and 1 mm down
    expected = 2 * math.degrees(math.atan2(1.0, 8.0))
    assert row_first == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("spacing", [None, (0.1, 0.2)])
def test_mirror_invariance(spacing: tuple[float, float] | None) -> None:
    rng = np.random.default_rng(7)
    width = 2048.0
    for _ in range(300):
        upper, lower = random_pair(rng, spacing)
        mirrored = [tuple((width - x, y) for x, y in line) for line in (upper, lower)]
        original = cobb_angle(upper, lower, spacing)
        assert cobb_angle(mirrored[0], mirrored[1], spacing) == pytest.approx(original, abs=1e-9)


def rotate(line: Line, angle_deg: float, centre: tuple[float, float]) -> Line:
    c, s = math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg))
    out = []
    for x, y in line:
        dx, dy = x - centre[0], y - centre[1]
        out.append((centre[0] + c * dx - s * dy, centre[1] + s * dx + c * dy))
    return out[0], out[1]


@pytest.mark.parametrize("spacing", [None, (0.15, 0.15)])
def test_rotation_invariance_of_the_signed_value(spacing: tuple[float, float] | None) -> None:
    rng = np.random.default_rng(11)
    for _ in range(300):
        upper, lower = random_pair(rng, spacing)
        angle, centre = rng.uniform(0, 360), tuple(rng.uniform(-500, 3000, 2))
        original = cobb_angle(upper, lower, spacing)
        rotated = cobb_angle(rotate(upper, angle, centre), rotate(lower, angle, centre), spacing)
        assert rotated == pytest.approx(original, abs=1e-7)


def test_hand_made_lordosis_is_positive_and_kyphosis_negative() -> None:
    # facing left: lines 20 px apart at the front, 10 px at the back -> lordosis
    assert cobb_angle(((0, 0), (100, 5)), ((0, 20), (100, 15))) > 0
    assert cobb_angle(((0, 0), (100, -5)), ((0, 20), (100, 25))) < 0
    # facing right, 10° each way: lordosis of 20°
    t = math.tan(math.radians(10))
    upper = ((200, 0), (100, 100 * t))
    lower = ((200, 50), (100, 50 - 100 * t))
    assert cobb_angle(upper, lower) == pytest.approx(20.0)
    assert cobb_angle(((200, 0), (100, -100 * t)), ((200, 50), (100, 50 + 100 * t))) == (
        pytest.approx(-20.0))  # fmt: skip


def test_parallel_lines_give_zero() -> None:
    assert cobb_angle(((0, 0), (10, 3)), ((5, 40), (25, 46))) == 0.0
    assert cobb_angle(((0, 0), (10, 3)), ((0, 40), (10, 43)), spacing=(0.1, 0.3)) == 0.0


@pytest.mark.parametrize(
    "upper",
    [((3, 4), (3, 4)), ((math.nan, 0), (1, 1)), ((0, 0), (math.inf, 1)), ((0, 0),), "ab"],
)
def test_degenerate_lines_raise_geometry_error(upper: Line) -> None:
    with pytest.raises(GeometryError, match="upper endplate line"):
        cobb_angle(upper, ((0, 10), (10, 10)))


@pytest.mark.parametrize("spacing", [(0.0, 0.1), (-1.0, 0.1), (math.nan, 0.1), (0.1,)])
def test_bad_spacing_raises(spacing: tuple[float, float]) -> None:
    with pytest.raises(GeometryError, match="spacing"):
        cobb_angle(((0, 0), (10, 0)), ((0, 10), (10, 11)), spacing)


def test_uncalibrated_is_pixel_space() -> None:
    upper, lower = ((0, 0), (10, 1)), ((0, 10), (10, 8))
    assert cobb_angle(upper, lower) == cobb_angle(upper, lower, (1.0, 1.0))
    assert cobb_angle(upper, lower, (0.2, 0.2)) == pytest.approx(cobb_angle(upper, lower))
    assert length_units(None) is Units.PX and length_units((0.1, 0.1)) is Units.MM


def test_convergence_sign_and_normal_are_label_independent() -> None:
    upper, lower = ((0.0, 0.0), (10.0, 1.0)), ((0.0, 10.0), (10.0, 9.0))
    assert convergence_sign(upper, lower) == convergence_sign(lower, upper) == 1
    n = lower_side_normal(upper, lower)
    assert n[1] > 0.99
    n_swapped = lower_side_normal(lower, upper)
    assert n_swapped[1] < -0.99


def test_unsigned_angle_range() -> None:
    assert unsigned_angle((1, 0), (-1, 0)) == pytest.approx(180.0)
    assert unsigned_angle((1, 0), (0, -3)) == pytest.approx(90.0)


def test_mm_helpers_round_trip_and_lengths() -> None:
    spacing = (0.1, 0.25)
    assert to_mm((8.0, 30.0), spacing) == (2.0, 3.0)
    assert from_mm(to_mm((8.0, 30.0), spacing), spacing) == pytest.approx((8.0, 30.0))
    assert line_length(((0, 0), (12, 0)), spacing) == pytest.approx(3.0)
    assert line_length(((0, 0), (0, 12)), spacing) == pytest.approx(1.2)
    assert line_length(((0, 0), (0, 12))) == 12.0


def test_construction_perpendiculars_meet_on_both_perpendiculars() -> None:
    spacing = (0.1, 0.2)
    upper, lower = ((10.0, 10.0), (60.0, 20.0)), ((12.0, 200.0), (58.0, 185.0))
    c = cobb_construction(upper, lower, spacing)
    assert c.perpendiculars_meet is not None and c.lines_meet is not None
    for line, mid in ((upper, c.upper_mid), (lower, c.lower_mid)):
        d = np.subtract(to_mm(line[1], spacing), to_mm(line[0], spacing))
        r = np.subtract(to_mm(c.perpendiculars_meet, spacing), to_mm(mid, spacing))
        assert abs(float(d @ r)) < 1e-9 * np.linalg.norm(d) * np.linalg.norm(r)
    # the (acute) angle between the perpendiculars is the Cobb angle
    ru = np.subtract(to_mm(c.upper_mid, spacing), to_mm(c.perpendiculars_meet, spacing))
    rl = np.subtract(to_mm(c.lower_mid, spacing), to_mm(c.perpendiculars_meet, spacing))
    between = unsigned_angle(tuple(ru), tuple(rl))
    between = min(between, 180.0 - between)
    assert between == pytest.approx(abs(cobb_angle(upper, lower, spacing)))


def test_parallel_construction_has_no_meeting_points() -> None:
    c = cobb_construction(((0, 0), (10, 0)), ((0, 5), (10, 5)))
    assert c.perpendiculars_meet is None and c.lines_meet is None
    assert line_intersection(((0, 0), (1, 1)), ((0, 1), (1, 2))) is None
