"""The one way CobbDesk writes an angle and a visit day, everywhere (film, panel, compare, CLI).

Angles are rounded **first** and classified after, so a value that displays as zero is called
parallel everywhere (never "−0.0° kyphosis" next to "0.0° parallel").  Signs use the true
minus sign U+2212 and an explicit "+" for lordosis (the CobbDesk convention: positive =
lordosis, see :mod:`cobbdesk.core.measure.geometry`).

>>> angle_text(23.44), angle_text(-8.2), angle_text(-0.03)
('+23.4° lordosis', '−8.2° kyphosis', '0.0° parallel')
>>> angle_text(-0.03, decimals=2), angle_text(12.0, sign_word=False)
('−0.03° kyphosis', '+12.0°')
>>> angle_text(0.01, calibrated=False)
'0.0° parallel (px, uncalibrated)'
>>> angle_text(-5.0, calibrated=False, separator="\\n")
'−5.0° kyphosis\\n(px, uncalibrated)'
>>> day_text(0), day_text(91), day_text(-4), day_text(None)
('day 0', 'day +91', 'day −4', 'day ?')
"""

from __future__ import annotations

import math

__all__ = ["MINUS", "UNCALIBRATED", "angle_text", "day_text", "signed_number"]

MINUS = "\u2212"
"""The minus sign used in every displayed number."""
UNCALIBRATED = "(px, uncalibrated)"
"""Appended to an angle measured on a film without a pixel spacing."""


def signed_number(value: float, decimals: int = 1) -> str:
    """``value`` rounded to ``decimals`` with "+" or "−" ("0.0" unsigned when it rounds to 0).

    >>> signed_number(3.14159, 2), signed_number(-0.04), signed_number(float("nan"))
    ('+3.14', '0.0', 'nan')
    """
    if not math.isfinite(value):
        return str(value)
    rounded = round(value, decimals)
    magnitude = f"{abs(rounded):.{max(decimals, 0)}f}"
    if rounded == 0:
        return magnitude
    return ("+" if rounded > 0 else MINUS) + magnitude


def angle_text(
    angle_deg: float,
    *,
    decimals: int = 1,
    calibrated: bool = True,
    sign_word: bool = True,
    separator: str = " ",
) -> str:
    """A signed Cobb angle in degrees as ``"+23.4° lordosis"`` / ``"−8.2° kyphosis"`` /
    ``"0.0° parallel"``.

    Rounded to ``decimals`` before it is classified; ``sign_word=False`` leaves out the word;
    an uncalibrated angle gets :data:`UNCALIBRATED` after ``separator`` (``"\\n"`` gives the
    film's two-line label).  A non-finite angle reads ``"nan°"`` / ``"inf°"``.
    """
    number = signed_number(angle_deg, decimals)
    text = f"{number}°"
    if sign_word and math.isfinite(angle_deg):
        rounded = round(angle_deg, decimals)
        word = "parallel" if rounded == 0 else ("lordosis" if rounded > 0 else "kyphosis")
        text = f"{text} {word}"
    return text if calibrated else f"{text}{separator}{UNCALIBRATED}"


def day_text(days: int | None) -> str:
    """Days from admission as a visit label: ``"day 0"``, ``"day +88"``, ``"day −3"``, or
    ``"day ?"`` when a date is unknown (None)."""
    if days is None:
        return "day ?"
    return "day 0" if days == 0 else f"day {signed_number(days, 0)}"
