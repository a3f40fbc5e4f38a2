"""The one angle and day formatter: round first, then classify; true minus sign."""

from __future__ import annotations

import pytest

from cobbdesk.core.measure.formatting import MINUS, angle_text, day_text, signed_number


@pytest.mark.parametrize(
    ("angle", "expected"),
    [
        (23.44, "+23.4° lordosis"),
        (23.45000001, "+23.5° lordosis"),
        (-8.2, "\u22128.2° kyphosis"),
        (-0.03, "0.0° parallel"),
        (0.049, "0.0° parallel"),
        (-0.049, "0.0° parallel"),
        (0.05000001, "+0.1° lordosis"),
        (-0.0, "0.0° parallel"),
        (0.0, "0.0° parallel"),
        (89.99, "+90.0° lordosis"),
    ],
)
def test_round_first_then_classify(angle: float, expected: str) -> None:
    assert angle_text(angle) == expected


def test_no_negative_zero_anywhere() -> None:
    for hundredths in range(-9, 10):
        for decimals in (0, 1):
            text = angle_text(hundredths / 200, decimals=decimals)
            assert not text.startswith(MINUS + "0") or "kyphosis" in text
            assert "-" not in text  # never the ASCII hyphen-minus


def test_decimals_change_the_class() -> None:
    assert angle_text(-0.03, decimals=2) == "\u22120.03° kyphosis"
    assert angle_text(-0.03, decimals=1) == "0.0° parallel"
    assert angle_text(12.345, decimals=0) == "+12° lordosis"


def test_sign_word_and_uncalibrated() -> None:
    assert angle_text(-3.0, sign_word=False) == "\u22123.0°"
    assert angle_text(0.01, sign_word=False) == "0.0°"
    assert angle_text(5.0, calibrated=False) == "+5.0° lordosis (px, uncalibrated)"
    two_lines = angle_text(-5.0, calibrated=False, separator="\n")
    assert two_lines == "\u22125.0° kyphosis\n(px, uncalibrated)"


def test_non_finite_angles_are_not_classified() -> None:
    assert angle_text(float("nan")) == "nan°"
    assert angle_text(float("inf"), calibrated=False) == "inf° (px, uncalibrated)"


def test_signed_number() -> None:
    assert signed_number(1.25, 1) in {"+1.2", "+1.3"}  # banker's or not: never "1.25"
    assert signed_number(-2.0, 0) == "\u22122"
    assert signed_number(0.4, 0) == "0"


@pytest.mark.parametrize(
    ("days", "expected"),
    [(None, "day ?"), (0, "day 0"), (88, "day +88"), (1, "day +1"), (-3, "day \u22123")],
)
def test_day_text(days: int | None, expected: str) -> None:
    assert day_text(days) == expected
