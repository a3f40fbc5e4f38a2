"""Guards refuse pairs of lines that cannot be a Cobb measurement, naming the line."""

from __future__ import annotations

import math
import pickle

import pytest

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.guards import (
    MIN_LINE_MM,
    MIN_LINE_PX,
    PLAUSIBLE_RANGE,
    GuardError,
    check_lines,
    check_measurement,
    plausibility_flag,
)
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template

UPPER = ((100.0, 100.0), (140.0, 110.0))
LOWER = ((100.0, 300.0), (140.0, 290.0))
# hand-computed: each line is atan(10/40) from horizontal, converging posteriorly
REFERENCE = 2 * math.degrees(math.atan(10 / 40))


def test_accepted_pair_returns_the_signed_angle() -> None:
    assert check_lines(UPPER, LOWER, None) == pytest.approx(REFERENCE)
    assert check_lines(UPPER, LOWER, (0.15, 0.15), "C2-C7") == pytest.approx(REFERENCE)
    kyphotic = ((100.0, 100.0), (140.0, 90.0)), ((100.0, 300.0), (140.0, 310.0))
    assert check_lines(*kyphotic, None) == pytest.approx(-REFERENCE)


def test_guard_error_is_a_validation_error_and_pickles() -> None:
    with pytest.raises(ValidationError) as caught:
        check_lines(UPPER, UPPER, None)
    assert isinstance(caught.value, GuardError)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert type(copy) is GuardError and str(copy) == str(caught.value)


def test_tiny_line_is_refused_naming_it() -> None:  # the issue: a 1e-9 px line gave −5.87°
    tiny = ((100.0, 300.0), (100.0 + 1e-9, 300.0))
    with pytest.raises(GuardError, match=r"^C7 inferior endplate is 0\.0 px long"):
        check_lines(UPPER, tiny, None, "C2-C7")
    with pytest.raises(GuardError, match=r"^S1 superior endplate is 0\.0 mm long"):
        check_lines(UPPER, tiny, (0.2, 0.2), "L1-S1")  # UPPER is 8.2 mm long
    with pytest.raises(GuardError, match="has zero length"):
        check_lines(((5.0, 5.0), (5.0, 5.0)), LOWER, None)


def test_length_thresholds() -> None:
    # 4.9 mm and 5.1 mm at 0.1 mm/px: 49 and 51 px, horizontal
    long_upper = ((100.0, 100.0), (200.0, 110.0))
    short = ((100.0, 300.0), (149.0, 300.0))
    with pytest.raises(
        GuardError, match=r"^b is 4\.9 mm long; an endplate line must be at least 5"
    ):
        check_lines(long_upper, short, (0.1, 0.1), levels=("a", "b"))
    assert check_lines(long_upper, ((100.0, 300.0), (151.0, 300.0)), (0.1, 0.1)) > 0
    # uncalibrated: counted in pixels whatever the pixel aspect
    px19 = ((100.0, 300.0), (119.0, 300.0))
    with pytest.raises(GuardError, match=r"19\.0 px long.*at least 20 px \(the film is"):
        check_lines(UPPER, px19, (3.0, 3.0), calibrated=False)
    assert MIN_LINE_MM == 5.0 and MIN_LINE_PX == 20.0


@pytest.mark.parametrize(
    "other",
    [
        UPPER,  # identical (the issue: gave 0°)
        UPPER[::-1],  # identical, ends given the other way round
        ((100.3, 100.2), (140.2, 109.8)),  # within the tolerance
        ((60.0, 90.0), (120.0, 105.0)),  # collinear, overlapping
        ((180.0, 120.0), (220.0, 130.0)),  # collinear, side by side
    ],
)
def test_coincident_lines_are_refused(other) -> None:
    with pytest.raises(GuardError, match="C2 inferior endplate and C7 inferior endplate lie on"):
        check_lines(UPPER, other, None, "C2-C7")
    with pytest.raises(GuardError, match=r"within 1 mm"):
        check_lines(UPPER, other, (0.2, 0.2), "C2-C7")


@pytest.mark.parametrize(
    ("upper", "lower"),
    [
        (((100.0, 100.0), (140.0, 300.0)), ((100.0, 300.0), (140.0, 100.0))),  # an X (issue)
        (((100.0, 100.0), (200.0, 150.0)), ((100.0, 160.0), (200.0, 120.0))),  # X, shallow
        (((100.0, 100.0), (200.0, 140.0)), ((150.0, 130.0), (250.0, 110.0))),  # X, offset
        (((100.0, 100.0), (200.0, 140.0)), ((200.0, 140.0), (300.0, 120.0))),  # touching
        # the lines meet within the span both cover even though the segments do not touch
        (((100.0, 100.0), (200.0, 160.0)), ((100.0, 120.0), (150.0, 130.0))),
    ],
)
def test_crossing_lines_are_refused(upper, lower) -> None:
    for spacing in (None, (0.2, 0.1)):
        with pytest.raises(GuardError, match="cross between the two endplates"):
            check_lines(upper, lower, spacing, "C2-C7")
        with pytest.raises(GuardError, match="cross between the two endplates"):
            check_lines(lower[::-1], upper, spacing, "C2-C7")


def test_lines_meeting_outside_their_common_span_are_accepted() -> None:
    # a strong lordosis: the lines meet posteriorly, beyond both segments
    upper, lower = ((100.0, 100.0), (140.0, 120.0)), ((100.0, 160.0), (140.0, 140.0))
    expected = 2 * math.degrees(math.atan(20 / 40))
    assert check_lines(upper, lower, None) == pytest.approx(expected)
    # lines side by side with no common span: not crossing
    assert check_lines(((0.0, 0.0), (40.0, 0.0)), ((100.0, 30.0), (140.0, 25.0)), None) != 0


def test_ninety_degrees_or_more_is_refused() -> None:
    reversed_lower = LOWER[::-1]  # 151.9° apart: one line's corners swapped
    with pytest.raises(GuardError, match=r"151\.9° apart; a Cobb angle is under 90°"):
        check_lines(UPPER, reversed_lower, None, "C2-C7")
    # exactly 90°: a horizontal and a (steep, still above) line
    with pytest.raises(GuardError, match=r"90\.0° apart"):
        check_lines(((0.0, 0.0), (40.0, 0.0)), ((0.0, 100.0), (0.0, 60.0)), None)
    assert abs(check_lines(((0.0, 0.0), (40.0, 0.0)), ((0.0, 100.0), (30.0, 60.0)), None)) < 90
    # 89.96° would be shown as "90.0°": refused as well (the check is on the displayed value)
    tilt = math.radians(89.96)
    steep = ((0.0, 100.0), (40.0 * math.cos(tilt), 100.0 - 40.0 * math.sin(tilt)))
    with pytest.raises(GuardError, match=r"90\.0° apart"):
        check_lines(((0.0, 0.0), (40.0, 0.0)), steep, None)
    tilt = math.radians(89.94)  # shown as 89.9°: a (flagged) angle, not refused
    steep = ((0.0, 100.0), (40.0 * math.cos(tilt), 100.0 - 40.0 * math.sin(tilt)))
    assert round(abs(check_lines(((0.0, 0.0), (40.0, 0.0)), steep, None)), 2) == 89.94


def measurement(upper, lower, **kw) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid="1.2.3", pixel_sha256="", template="L1-S1",
        upper=EndplateLine(*upper), lower=EndplateLine(*lower), **kw,
    )  # fmt: skip


def test_check_measurement_uses_mm_or_pixels_and_the_aspect() -> None:
    assert check_measurement(measurement(UPPER, LOWER)) == pytest.approx(REFERENCE)
    aspect = measurement(UPPER, LOWER, pixel_aspect=(2.0, 1.0))
    expected = 2 * math.degrees(math.atan(20 / 40))  # rows twice as far apart as columns
    assert check_measurement(aspect) == pytest.approx(expected)
    short = ((100.0, 300.0), (115.0, 300.0))  # 15 px: refused uncalibrated, even with aspect
    with pytest.raises(GuardError, match=r"S1 superior endplate is 15\.0 px"):
        check_measurement(measurement(UPPER, short, pixel_aspect=(2.0, 1.0)))
    calibrated = measurement(UPPER, short, spacing=(0.5, 0.5), spacing_source="PixelSpacing")
    # 7.5 mm is long enough; the horizontal lower line leaves the upper one's tilt
    assert check_measurement(calibrated) == pytest.approx(REFERENCE / 2)


def test_plausibility_flags() -> None:
    assert PLAUSIBLE_RANGE[Template.C2_C7] == (-40.0, 60.0)
    assert PLAUSIBLE_RANGE[Template.L1_S1] == (-20.0, 90.0)
    assert plausibility_flag("C2-C7", 40.0) is None
    assert plausibility_flag("C2-C7", -40.0) is None and plausibility_flag("C2-C7", 60.0) is None
    assert plausibility_flag("C2-C7", 60.5) == "outside the plausible range −40…+60° for C2–C7"
    assert plausibility_flag(Template.L1_S1, -21.0) == (
        "outside the plausible range −20…+90° for L1–S1"
    )
    assert plausibility_flag("FREE", 120.0) is None
