"""Which way the patient faces on a lateral film, and endplate lines oriented by it.

A Cobb angle's sign depends on which end of each endplate line is anterior
(:mod:`cobbdesk.core.measure.geometry`).  Trusting the click order or the corner labels of an
imported file lets one slip flip the sign silently; the film's *facing* decides instead:

* :class:`Facing` is the side of the **image** the patient's anterior points to;
* it comes from the user, from the DICOM header (:func:`facing_from_orientation`) or from an
  image estimate (:func:`estimate_facing`, the analysis is in
  :mod:`cobbdesk.core.measure.facing_image`);
* :func:`orient_line` / :func:`orient_measurement` label each line's anterior end as the one
  further towards the anterior side, whatever the order the corners were given in.

>>> orient_line((140.0, 110.0), (100.0, 100.0), Facing.LEFT)
EndplateLine(anterior=(100.0, 100.0), posterior=(140.0, 110.0))
>>> orient_line((100.0, 100.0), (140.0, 110.0), Facing.RIGHT)
EndplateLine(anterior=(140.0, 110.0), posterior=(100.0, 100.0))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from cobbdesk.core.errors import GeometryError
from cobbdesk.core.measure.geometry import Point, Spacing, to_mm, validate_line
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine

__all__ = [
    "MAX_TILT_DEG",
    "Facing",
    "FacingEstimate",
    "FacingSource",
    "estimate_facing",
    "facing_from_orientation",
    "orient_line",
    "orient_measurement",
]

MAX_TILT_DEG = 60.0
"""An endplate line steeper than this (from the image horizontal, in mm) has no clear
anterior end: :func:`orient_line` refuses it rather than guess."""


class Facing(StrEnum):
    """The side of the image the patient's anterior points to."""

    LEFT = "left"
    RIGHT = "right"

    @property
    def opposite(self) -> Facing:
        """The facing of the mirrored film.

        >>> Facing.LEFT.opposite
        <Facing.RIGHT: 'right'>
        """
        return Facing.RIGHT if self is Facing.LEFT else Facing.LEFT


class FacingSource(StrEnum):
    """Where a film's facing came from (stored in ``films.facing_source``)."""

    USER = "user"
    DICOM = "dicom"
    ESTIMATE = "estimate"


def facing_from_orientation(orientation: tuple[str, str] | None) -> Facing | None:
    """The facing implied by DICOM Patient Orientation (0020,0020), or None.

    The first value is the patient direction of the row axis, i.e. towards increasing column
    = image right (DICOM PS3.3 C.7.6.1.1.1): letters A/P (anterior/posterior), R/L, H/F, and
    combinations such as ``"AF"`` for an oblique direction.  Anterior towards image right is
    :attr:`Facing.RIGHT`; posterior towards image right means anterior points left.  No A/P
    letter (a frontal film), both letters, or no value gives None.

    >>> facing_from_orientation(("A", "F")), facing_from_orientation(("P", "F"))
    (<Facing.RIGHT: 'right'>, <Facing.LEFT: 'left'>)
    >>> facing_from_orientation(("AF", "PF")), facing_from_orientation(("pf", "h"))
    (<Facing.RIGHT: 'right'>, <Facing.LEFT: 'left'>)
    >>> facing_from_orientation(("L", "F")), facing_from_orientation(None)
    (None, None)
    >>> facing_from_orientation(("", "")), facing_from_orientation(("AP", "F"))
    (None, None)
    """
    if not orientation:
        return None
    first = str(orientation[0]).strip().upper()
    anterior, posterior = "A" in first, "P" in first
    if anterior and not posterior:
        return Facing.RIGHT
    if posterior and not anterior:
        return Facing.LEFT
    return None


@dataclass(frozen=True)
class FacingEstimate:
    """An image-based guess of a film's facing.

    ``facing`` is None when the estimator abstains; ``confidence`` is in [0, 1] (0 when it
    abstains); ``reason`` says in one line what the estimate rests on, or why it abstained.
    """

    facing: Facing | None
    confidence: float
    reason: str


def estimate_facing(
    pixels: npt.NDArray[np.generic], photometric_inverted: bool = False
) -> FacingEstimate:
    """Guess the facing of a lateral spine film from its pixels (after the Modality LUT).

    ``pixels`` is a 2-D array (rows, columns); ``photometric_inverted`` is True for
    MONOCHROME1 / Presentation LUT INVERSE films (bone dark).  The analysis is described in
    :func:`cobbdesk.core.measure.facing_image.anterior_side`; it abstains (facing None) on
    anything that does not look like a lateral spine.  A guess: the user confirms it, and
    ``benchmarks/eval_facing.py`` measures it.  Raises ``ValueError`` for a non-2-D array.
    """
    from cobbdesk.core.measure.facing_image import anterior_side  # OpenCV: only when estimating

    side, confidence, reason = anterior_side(pixels, inverted=photometric_inverted)
    facing = None if side == 0 else (Facing.RIGHT if side > 0 else Facing.LEFT)
    return FacingEstimate(facing, confidence if facing else 0.0, reason)


def _tilt_deg(dx_mm: float, dy_mm: float) -> float:
    """Angle of a direction from the image horizontal, in [0, 90] degrees."""
    return math.degrees(math.atan2(abs(dy_mm), abs(dx_mm)))


def orient_line(
    p1: Point,
    p2: Point,
    facing: Facing | str,
    spacing: Spacing = None,
    name: str = "endplate line",
) -> EndplateLine:
    """The line through ``p1`` and ``p2`` with its anterior end chosen by ``facing``.

    The anterior end is the point further towards the anterior side of the image: the smaller
    x for :attr:`Facing.LEFT`, the larger for :attr:`Facing.RIGHT`.  Points are ``(x, y)``
    image pixels; ``spacing`` is ``(row_mm, column_mm)`` or a pixel aspect ratio in the same
    order (None = square pixels) so that the steepness is judged in mm.  Raises
    :class:`GeometryError` for a zero-length or non-finite line and for a line more than
    :data:`MAX_TILT_DEG` from the image horizontal.

    >>> orient_line((0, 0), (10, 30), "left", name="C7 inferior endplate")
    Traceback (most recent call last):
    ...
    cobbdesk.core.errors.GeometryError: C7 inferior endplate is within 30° of vertical (71.6° \
from horizontal): cannot tell its anterior end; is the film rotated?
    >>> orient_line((0, 0), (10, 30), "left", spacing=(0.1, 0.5)).anterior   # 31° in mm
    (0.0, 0.0)
    """
    facing = Facing(facing)
    a, b = validate_line((p1, p2), name)
    (ax, ay), (bx, by) = to_mm(a, spacing), to_mm(b, spacing)
    tilt = _tilt_deg(bx - ax, by - ay)
    if tilt > MAX_TILT_DEG:
        raise GeometryError(
            None,
            f"{name} is within {90 - MAX_TILT_DEG:g}° of vertical ({tilt:.1f}° from horizontal)"
            ": cannot tell its anterior end; is the film rotated?",
        )
    a_is_anterior = ax < bx if facing is Facing.LEFT else ax > bx
    return EndplateLine(a, b) if a_is_anterior else EndplateLine(b, a)


def orient_measurement(
    m: CobbMeasurement, facing: Facing | str
) -> tuple[CobbMeasurement, tuple[str, ...]]:
    """``m`` with both lines oriented by ``facing`` (:func:`orient_line`), and a notice per
    line whose corners were swapped.

    Identity, times, template, spacing and snapping flags are kept (the measurement is
    returned unchanged, not copied, when nothing is swapped).  The angle is judged with
    :attr:`CobbMeasurement.angle_spacing`.  Raises :class:`GeometryError` as
    :func:`orient_line` does, naming the template's endplate.

    >>> m = CobbMeasurement(sop_instance_uid="1.2", pixel_sha256="", template="C2-C7",
    ...     upper=EndplateLine((140, 110), (100, 100)), lower=EndplateLine((100, 300), (140, 290)))
    >>> round(m.angle, 3)          # the upper line was clicked back to front
    -151.928
    >>> oriented, notices = orient_measurement(m, "left")
    >>> round(oriented.angle, 3), oriented.id == m.id
    (28.072, True)
    >>> notices
    ("C2 inferior endplate: corners were labelled posterior→anterior; swapped to match the \
film's facing (left)",)
    """
    facing = Facing(facing)
    spacing = m.angle_spacing
    names = m.template.levels
    lines = []
    notices = []
    for line, name in ((m.upper, names[0]), (m.lower, names[1])):
        oriented = orient_line(line.anterior, line.posterior, facing, spacing, name)
        if oriented != line:
            notices.append(
                f"{name}: corners were labelled posterior→anterior; swapped to match the "
                f"film's facing ({facing.value})"
            )
        lines.append(oriented)
    if not notices:
        return m, ()
    return replace(m, upper=lines[0], lower=lines[1]), tuple(notices)
