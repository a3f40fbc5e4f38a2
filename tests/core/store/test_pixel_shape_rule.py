"""The one pixel-shape rule (store.calibration.film_shape): spacing ratio, else Pixel Aspect
Ratio, else square — and the callers that read a shape from a film file use it.

Hand-computed cases: Pixel Spacing is adjacent row spacing \\ adjacent column spacing (PS3.3
10.7.1.3), so 0.1 \\ 0.2 mm is a pixel 0.1 mm tall and 0.2 mm wide: height:width = 1:2 = 0.5
(twice as wide as tall).  Pixel Aspect Ratio 1 \\ 2 is vertical \\ horizontal (PS3.3
C.7.6.3.1.7): the same 0.5.  Zero, negative and non-finite values are no spacing (as the header
reader treats them, core.dicom.spacing) and the next source decides.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.importing import relink
from cobbdesk.core.importing.film_shapes import file_shape
from cobbdesk.core.importing.header_fields import HeaderInfo
from cobbdesk.core.store.calibration import film_shape

PS = SpacingSource.PIXEL_SPACING.value
NAN, INF = float("nan"), float("inf")

# (spacing, its source, Pixel Aspect Ratio) -> (shape, height/width computed by hand)
CASES = [
    ((0.1, 0.2), PS, None, (0.1, 0.2), 0.5),
    ((0.2, 0.1), PS, None, (0.2, 0.1), 2.0),
    ((0.143, 0.143), PS, None, (0.143, 0.143), 1.0),
    (None, "none", (1.0, 2.0), (1.0, 2.0), 0.5),
    (None, "none", (2.0, 1.0), (2.0, 1.0), 2.0),
    (None, "none", None, None, 1.0),
    ((0.1, 0.1), PS, (1.0, 2.0), (0.1, 0.1), 1.0),  # a spacing wins over an aspect
    ((0.0, 0.1), PS, (1.0, 2.0), (1.0, 2.0), 0.5),  # zero spacing: the aspect decides
    ((0.1, 0.0), PS, None, None, 1.0),
    ((-0.1, 0.2), PS, None, None, 1.0),
    ((NAN, 0.2), PS, (2.0, 1.0), (2.0, 1.0), 2.0),
    ((0.1, INF), PS, None, None, 1.0),
    (None, "none", (0.0, 1.0), None, 1.0),  # a zero aspect: square
    (None, "none", (NAN, 1.0), None, 1.0),
    ((0.1, 0.2), SpacingSource.USER.value, (1.0, 2.0), (0.1, 0.2), 0.5),  # user calibration
    # a calibration in force (apply_calibration clears the aspect) keeps its film's shape:
    ((0.1, 0.2), SpacingSource.USER.value, None, (0.1, 0.2), 0.5),
]


def _header(spacing, source, aspect) -> HeaderInfo:  # type: ignore[no-untyped-def]
    return HeaderInfo(Path("a.dcm"), "1.2.3", "P1", spacing_mm=spacing, spacing_source=source,
                      pixel_aspect=aspect)  # fmt: skip


@pytest.mark.parametrize(("spacing", "source", "aspect", "shape", "ratio"), CASES)
def test_the_pixel_shape_rule(spacing, source, aspect, shape, ratio) -> None:  # type: ignore[no-untyped-def]
    found = film_shape(_header(spacing, source, aspect))
    assert found == shape
    vertical, horizontal = found or (1.0, 1.0)
    assert math.isclose(vertical / horizontal, ratio)


@pytest.mark.parametrize(("spacing", "source", "aspect", "shape", "ratio"),
                         [c for c in CASES if c[1] != SpacingSource.USER.value])  # fmt: skip
def test_verify_and_relink_read_a_file_shape_by_the_same_rule(
    spacing, source, aspect, shape, ratio
) -> None:  # type: ignore[no-untyped-def]
    header = _header(spacing, source, aspect)
    found, how = file_shape(header)  # verify's check of a measurement against its file
    assert math.isclose(found, ratio)
    assert how == (f"Pixel Spacing (0028,0030) {spacing[0]:g} × {spacing[1]:g} mm"
                   if shape is not None and shape == spacing else
                   f"Pixel Aspect Ratio (0028,0034) {shape[0]:g}:{shape[1]:g}, no spacing"
                   if shape is not None else
                   "no spacing and no Pixel Aspect Ratio (0028,0034): square pixels")  # fmt: skip
    # relinking: measurements in pixels computed with this shape agree, another one does not
    same = relink.Recorded(None, shapes=(shape or (1.0, 1.0),))  # type: ignore[arg-type]
    assert relink._shape(same, header) is None
    other = relink.Recorded(None, shapes=((3.0, 1.0),))  # type: ignore[arg-type]
    vertical, horizontal = shape or (1.0, 1.0)
    assert f"is {vertical:g}:{horizontal:g} (vertical" in (relink._shape(other, header) or "")


def test_relink_compares_with_its_one_tolerance(monkeypatch: pytest.MonkeyPatch) -> None:
    """REL_TOL (1e-6, values round-trip through text) is the one tolerance of relink's
    spacing, aspect and shape comparisons: changing it changes all three."""
    near, off = (0.1, 0.1 * (1 + 1e-7)), (0.1, 0.1 * (1 + 1e-5))
    square = relink.Recorded(None, shapes=((1.0, 1.0),))  # type: ignore[arg-type]
    assert relink._close((0.1, 0.1), near) and not relink._close((0.1, 0.1), off)
    assert relink._shape(square, _header(off, PS, None)) is not None
    monkeypatch.setattr(relink, "REL_TOL", 1e-4)
    assert relink._close((0.1, 0.1), off)
    assert relink._shape(square, _header(off, PS, None)) is None
    assert relink._aspect(relink.Recorded(None, pixel_aspect=(1.0, 1.0 + 1e-5)),  # type: ignore[arg-type]
                          _header(None, "none", None)) is None  # fmt: skip
