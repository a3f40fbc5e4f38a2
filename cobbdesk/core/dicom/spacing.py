"""Physical pixel size of a projection radiograph, and where it came from.

The order is DICOM's: ``(row_spacing, column_spacing)`` in mm, i.e. (vertical, horizontal).
Priority (PS3.3 C.8.11.1.1.1 and the DX/CR modules):

1. Pixel Spacing (0028,0030): spacing in the patient plane (or as calibrated by the modality);
2. Imager Pixel Spacing (0018,1164) divided by Estimated Radiographic Magnification Factor
   (0018,1114) when that factor is present and plausible;
3. Imager Pixel Spacing alone (detector plane: lengths are magnified, angles are not);
4. none: the film is uncalibrated and measurements are made in pixels.

A zero, negative, non-finite or malformed value never counts as a spacing (it would divide by
zero or silently mislabel pixels as millimetres); the reason is returned as a notice.

>>> from pydicom.dataset import Dataset
>>> ds = Dataset()
>>> ds.ImagerPixelSpacing = ["0.2", "0.2"]
>>> ds.EstimatedRadiographicMagnificationFactor = "1.25"
>>> result = spacing_of(ds)
>>> result.spacing_mm, result.source.value
((0.16, 0.16), 'ImagerPixelSpacing/ERMF')
>>> ds = Dataset(); ds.PixelSpacing = ["0", "0"]
>>> spacing_of(ds).source.value, spacing_of(ds).notices
('none', ('Pixel Spacing (0028,0030) is [0, 0]; expected two positive numbers: ignored',))
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from cobbdesk.core.dicom.film import SpacingSource

_ERMF_RANGE = (0.5, 3.0)


class SpacingResult(NamedTuple):
    spacing_mm: tuple[float, float] | None
    source: SpacingSource
    notices: tuple[str, ...]


def _pair(ds: Any, keyword: str, tag: str, notices: list[str]) -> tuple[float, float] | None:
    """Two positive finite numbers from a DS attribute, or None (with a notice why)."""
    element = ds.get(keyword)
    if element is None or (not isinstance(element, int | float) and len(element) == 0):
        return None
    items = [element] if isinstance(element, str | bytes | float | int) else list(element)
    try:
        values = [float(v) for v in items]
    except (TypeError, ValueError):
        values = []
    shown = "[" + ", ".join(f"{v:g}" for v in values) + "]" if values else repr(element)
    if len(values) != 2 or not all(math.isfinite(v) and v > 0 for v in values):
        notices.append(
            f"{_NAMES[keyword]} ({tag}) is {shown}; expected two positive numbers: ignored"
        )
        return None
    return (values[0], values[1])


_NAMES = {"PixelSpacing": "Pixel Spacing", "ImagerPixelSpacing": "Imager Pixel Spacing"}


def _ermf(ds: Any, notices: list[str]) -> float | None:
    raw = ds.get("EstimatedRadiographicMagnificationFactor")
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and _ERMF_RANGE[0] <= value <= _ERMF_RANGE[1]):
        notices.append(
            f"Estimated Radiographic Magnification Factor (0018,1114) is {raw!s}; expected "
            f"{_ERMF_RANGE[0]}..{_ERMF_RANGE[1]}: ignored"
        )
        return None
    return value


def spacing_of(ds: Any) -> SpacingResult:
    """Pixel spacing ``(row_mm, column_mm)`` of dataset ``ds`` and its source."""
    notices: list[str] = []
    pixel = _pair(ds, "PixelSpacing", "0028,0030", notices)
    if pixel is not None:
        return SpacingResult(pixel, SpacingSource.PIXEL_SPACING, tuple(notices))
    imager = _pair(ds, "ImagerPixelSpacing", "0018,1164", notices)
    if imager is not None:
        factor = _ermf(ds, notices)
        if factor is not None:
            scaled = (round(imager[0] / factor, 9), round(imager[1] / factor, 9))
            return SpacingResult(scaled, SpacingSource.IMAGER_ERMF, tuple(notices))
        return SpacingResult(imager, SpacingSource.IMAGER, tuple(notices))
    return SpacingResult(None, SpacingSource.NONE, tuple(notices))
