"""Physical pixel size of a projection radiograph, its pixel shape, and where they came from.

The order is DICOM's: ``(row_spacing, column_spacing)`` in mm, i.e. (vertical, horizontal).
Priority (PS3.3 C.8.11.1.1.1, C.7.6.3.1.1 and the DX/CR/SC modules):

1. Pixel Spacing (0028,0030): spacing in the patient plane (or as calibrated by the modality);
2. Imager Pixel Spacing (0018,1164) divided by Estimated Radiographic Magnification Factor
   (0018,1114) when that factor is present and plausible;
3. Imager Pixel Spacing alone (detector plane: lengths are magnified, angles are not);
4. Nominal Scanned Pixel Spacing (0018,2010): the scanner's sampling of a digitised film
   (SC Equipment module, PS3.3 C.8.6.1) — the film plane, so magnified like 3;
5. none: the film is uncalibrated and measurements are made in pixels.  Then Pixel Aspect
   Ratio (0028,0034) (PS3.3 C.7.6.3.1.7: "vertical size \\ horizontal size" of a pixel) still
   gives the pixel *shape*, which angles must honour although lengths stay in pixels.

A spacing must be physically possible for a radiograph: two finite numbers between
:data:`PLAUSIBLE_MM` (0.01–5 mm per pixel).  Zero, negative, non-finite, denormal or absurd
values never count (they would divide by zero, or silently mislabel pixels as millimetres);
the reason is returned as a notice and the next source is tried.

Pixel Spacing Calibration Type (0028,0A02) and its Description (0028,0A04) (PS3.3 C.7.6.3.1.7)
say how a Pixel Spacing was calibrated (``GEOMETRY``: for the magnification at an assumed
geometry; ``FIDUCIAL``: against an object of known size); they are returned for display.

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
>>> ds = Dataset(); ds.PixelAspectRatio = [2, 1]
>>> spacing_of(ds).pixel_aspect
(2.0, 1.0)
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from cobbdesk.core.dicom.film import SpacingSource

_ERMF_RANGE = (0.5, 3.0)
#: Physically possible pixel spacings of a radiograph or a film scan, in mm per pixel:
#: detectors sample at 0.05–0.2 mm, film scanners at up to ~0.02 mm (1200 dpi); 5 mm per pixel
#: would make a whole spine a few dozen pixels.
PLAUSIBLE_MM = (0.01, 5.0)
#: Accepted pixel shapes (vertical / horizontal); beyond this a stated ratio is an error.
_ASPECT_RANGE = (0.1, 10.0)


class SpacingResult(NamedTuple):
    """What :func:`spacing_of` found.

    ``spacing_mm`` is ``(row_mm, col_mm)`` or None; ``pixel_aspect`` is ``(vertical,
    horizontal)`` of a non-square pixel when there is no spacing (else None);
    ``calibration`` is the Pixel Spacing Calibration Type/Description text ("" when absent).
    """

    spacing_mm: tuple[float, float] | None
    source: SpacingSource
    notices: tuple[str, ...]
    pixel_aspect: tuple[float, float] | None = None
    calibration: str = ""


_NAMES = {
    "PixelSpacing": ("Pixel Spacing", "0028,0030"),
    "ImagerPixelSpacing": ("Imager Pixel Spacing", "0018,1164"),
    "NominalScannedPixelSpacing": ("Nominal Scanned Pixel Spacing", "0018,2010"),
    "PixelAspectRatio": ("Pixel Aspect Ratio", "0028,0034"),
}


def _numbers(ds: Any, keyword: str) -> tuple[list[float], str] | None:
    """The values of a numeric attribute as floats (possibly empty) and how to show them."""
    try:
        element = ds.get(keyword)
    except Exception:  # a malformed value cannot be converted at all
        return [], "unreadable"
    if element is None or (not isinstance(element, int | float) and len(element) == 0):
        return None
    items = [element] if isinstance(element, str | bytes | float | int) else list(element)
    try:
        values = [float(v) for v in items]
    except (TypeError, ValueError):
        return [], repr(element)
    return values, "[" + ", ".join(f"{v:g}" for v in values) + "]"


def _pair(ds: Any, keyword: str, notices: list[str]) -> tuple[float, float] | None:
    """Two positive finite numbers from a DS attribute, or None (with a notice why)."""
    found = _numbers(ds, keyword)
    if found is None:
        return None
    values, shown = found
    name, tag = _NAMES[keyword]
    if len(values) != 2 or not all(math.isfinite(v) and v > 0 for v in values):
        notices.append(f"{name} ({tag}) is {shown}; expected two positive numbers: ignored")
        return None
    pair = (values[0], values[1])
    if not plausible(pair):
        notices.append(implausible_notice(f"{name} ({tag})", pair))
        return None
    return pair


def plausible(spacing: tuple[float, float]) -> bool:
    """True when both values lie in :data:`PLAUSIBLE_MM` (normal floats, mm per pixel).

    >>> plausible((0.143, 0.143)), plausible((1e-310, 1e-310)), plausible((0.1, 7.0))
    (True, False, False)
    """
    low, high = PLAUSIBLE_MM
    return all(math.isfinite(v) and low <= v <= high for v in spacing)


def implausible_notice(what: str, spacing: tuple[float, float]) -> str:
    """The notice for a spacing outside :data:`PLAUSIBLE_MM`."""
    shown = ", ".join(f"{v:g}" for v in spacing)
    low, high = PLAUSIBLE_MM
    return (
        f"{what} is [{shown}] mm per pixel, which no radiograph can have (expected "
        f"{low:g}–{high:g} mm): treated as absent, measurements in pixels"
    )


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


def pixel_aspect_of(ds: Any, notices: list[str]) -> tuple[float, float] | None:
    """Pixel Aspect Ratio (0028,0034) as ``(vertical, horizontal)``; None when absent, square
    or invalid (invalid: a notice; the pixels are then treated as square)."""
    found = _numbers(ds, "PixelAspectRatio")
    if found is None:
        return None
    values, shown = found
    valid = len(values) == 2 and all(math.isfinite(v) and v > 0 for v in values)
    if valid and not _ASPECT_RANGE[0] <= values[0] / values[1] <= _ASPECT_RANGE[1]:
        valid = False
    if not valid:
        notices.append(
            f"Pixel Aspect Ratio (0028,0034) is {shown}; expected two positive integers "
            "(vertical\\horizontal): ignored, pixels treated as square"
        )
        return None
    if values[0] == values[1]:
        return None
    notices.append(
        f"pixels are not square (Pixel Aspect Ratio {values[0]:g}:{values[1]:g}, vertical:"
        "horizontal): angles honour the pixel shape, lengths stay in pixels"
    )
    return (values[0], values[1])


def calibration_of(ds: Any) -> str:
    """Pixel Spacing Calibration Type (0028,0A02) and Description (0028,0A04), joined.

    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset(); ds.PixelSpacingCalibrationType = "FIDUCIAL"
    >>> ds.PixelSpacingCalibrationDescription = "ball 25 mm"
    >>> calibration_of(ds)
    'FIDUCIAL: ball 25 mm'
    """
    parts = []
    for keyword in ("PixelSpacingCalibrationType", "PixelSpacingCalibrationDescription"):
        try:
            parts.append(str(ds.get(keyword, "") or "").strip())
        except Exception:  # undecodable text must not stop a film from opening
            parts.append("")
    return ": ".join(p for p in parts if p)


def _imager(ds: Any, notices: list[str]) -> SpacingResult | None:
    imager = _pair(ds, "ImagerPixelSpacing", notices)
    if imager is None:
        return None
    factor = _ermf(ds, notices)
    if factor is None:
        return SpacingResult(imager, SpacingSource.IMAGER, ())
    scaled = (round(imager[0] / factor, 9), round(imager[1] / factor, 9))
    if not plausible(scaled):
        notices.append(implausible_notice("Imager Pixel Spacing / magnification factor", scaled))
        return SpacingResult(imager, SpacingSource.IMAGER, ())
    return SpacingResult(scaled, SpacingSource.IMAGER_ERMF, ())


def spacing_of(ds: Any) -> SpacingResult:
    """Pixel spacing ``(row_mm, column_mm)`` of dataset ``ds``, its source, and the pixel
    shape when there is no spacing (see the module rules)."""
    notices: list[str] = []
    calibration = calibration_of(ds)
    if calibration:
        notices.append(f"Pixel Spacing Calibration (0028,0A02/0A04): {calibration}")
    found: SpacingResult | None = None
    pixel = _pair(ds, "PixelSpacing", notices)
    if pixel is not None:
        found = SpacingResult(pixel, SpacingSource.PIXEL_SPACING, ())
    found = found or _imager(ds, notices)
    if found is None:
        scanned = _pair(ds, "NominalScannedPixelSpacing", notices)
        if scanned is not None:
            notices.append(
                "spacing from Nominal Scanned Pixel Spacing (0018,2010): the scanner's "
                "sampling of the film, so lengths are magnified like the film"
            )
            found = SpacingResult(scanned, SpacingSource.NOMINAL_SCANNED, ())
    if found is None:
        aspect = pixel_aspect_of(ds, notices)
        return SpacingResult(None, SpacingSource.NONE, tuple(notices), aspect, calibration)
    return found._replace(notices=tuple(notices), calibration=calibration)
