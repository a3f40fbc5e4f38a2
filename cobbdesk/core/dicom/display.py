"""Display pipeline: modality values → VOI → MONOCHROME1 inversion → ``uint8``.

Small pure functions in the order of PS3.3 C.11 (after pydicom ``pixels/processing.py``):

1. the Modality LUT is already applied by the reader (``Film.pixels``);
2. VOI: a window (C.11.2.1.2: LINEAR, LINEAR_EXACT, SIGMOID) or a VOI LUT Sequence item;
3. inversion for MONOCHROME1 or Presentation LUT Shape INVERSE, applied **once, after VOI**
   (inverting before VOI flips the window; inverting twice shows a negative);
4. output 0..255.

:func:`voi_unit` is the exact reference formula.  :func:`render` picks a fast path that gives
its nearest level, ``rint(255 · voi_unit)``: a 256-entry ``cv2.LUT`` for 8-bit data, a value
table (float64) read in one ``cv2.LUT`` pass for 16-bit data (:mod:`.display_lut`), a
saturating ``cv2.convertScaleAbs`` (float32) for LINEAR/LINEAR_EXACT windows on other data
where its error is below 1/100 level (:func:`_fast_linear`), a value table for other integer
data (every VOI function, SIGMOID and VOI LUT included), and for float data the SIGMOID
formula vectorised in OpenCV (:func:`_float_window`).  The single-precision paths may
therefore show the neighbouring level only where the exact value lies within 1/100 of a level
of a half level (tests/core/dicom/test_voi_reference.py checks exactly that).  The viewer
applies these to the screen's pixels only (:mod:`.screen`, :mod:`.display_frame`).

>>> import numpy as np
>>> from cobbdesk.core.dicom.film import Window
>>> render(np.array([[0, 1024, 2048, 4095]], np.uint16), Window(2048, 4096), inverted=False)
array([[  0,  64, 128, 255]], dtype=uint8)
>>> render(np.array([[0, 4095]], np.uint16), Window(2048, 4096), inverted=True)
array([[255,   0]], dtype=uint8)
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from cobbdesk.core.dicom import display_lut, faults
from cobbdesk.core.dicom.film import Film, VoiFunction, VoiLut, Window

Voi = Window | VoiLut
U8 = npt.NDArray[np.uint8]

#: Percentiles of the auto window (robust to collimator edges and burned-in labels).
AUTO_PERCENTILES = (0.5, 99.5)
_MAX_VALUE_LUT = 1 << 20  # value-indexed LUTs are used up to this many distinct values
_MIN_CV_PIXELS = 64


def effective_function(voi: Window) -> VoiFunction:
    """The formula used: LINEAR narrower than 1 (float data) is evaluated as LINEAR_EXACT.

    PS3.3 C.11.2.1.2.1's LINEAR divides by ``width − 1``, undefined below width 1; the window
    classes accept any width > 0 (see :class:`~cobbdesk.core.dicom.film.Window`).
    """
    if voi.function is VoiFunction.LINEAR and voi.width < 1:
        return VoiFunction.LINEAR_EXACT
    return voi.function


def voi_unit(values: npt.NDArray[Any], voi: Voi) -> npt.NDArray[np.floating[Any]]:
    """Exact VOI output in [0, 1] for modality ``values`` (PS3.3 C.11.2.1.2 / C.11.2.1.1)."""
    x = np.asarray(values, dtype=np.float64)
    if isinstance(voi, VoiLut):
        index = np.clip(np.rint(x) - voi.first_mapped, 0, voi.table.size - 1).astype(np.intp)
        return np.asarray(voi.table[index] / float((1 << voi.bits) - 1), dtype=np.float64)
    c, w = voi.center, voi.width
    function = effective_function(voi)
    if function is VoiFunction.SIGMOID:
        return 0.5 * (1.0 + np.tanh(2.0 * (x - c) / w))  # = 1 / (1 + exp(-4 (x - c) / w))
    if function is VoiFunction.LINEAR_EXACT:
        return np.clip((x - c) / w + 0.5, 0.0, 1.0)
    return np.clip((x - (c - 0.5)) / (w - 1) + 0.5, 0.0, 1.0) if w > 1 else (x > c - 0.5) * 1.0


def linear_coefficients(voi: Window) -> tuple[float, float]:
    """``alpha, beta`` with output = alpha * x + beta (before clipping to 0..255)."""
    if effective_function(voi) is VoiFunction.LINEAR_EXACT:
        alpha = 255.0 / voi.width
        return alpha, 255.0 * (0.5 - voi.center / voi.width)
    alpha = 255.0 / (voi.width - 1)
    return alpha, 255.0 * (0.5 - (voi.center - 0.5) / (voi.width - 1))


def _fast_linear(pixels: npt.NDArray[Any], voi: Window) -> U8 | None:
    """Saturating affine map for LINEAR/LINEAR_EXACT windows (None when not applicable).

    ``convertScaleAbs`` computes ``|alpha x + beta|`` in float32, rounded and saturated at 255.
    Clamping x from below at the zero crossing makes the argument non-negative.  For integer
    data the clamp is ``k = ceil(-beta / alpha)``; pixels below ``k`` then map to
    ``alpha k + beta``, which is below 0.5 (hence 0) when ``alpha <= 0.5``, and are zeroed by a
    mask otherwise.  Values far above the window are clamped at the first saturating value
    (``alpha x`` would overflow OpenCV's rounding to int).  Used only while the float32 error,
    at most ``2**−22 (|alpha x| + |beta|)`` over the clamped range, is below 1/100 of a level
    (:func:`single_precision_ok`); the exact value table otherwise.
    """
    step = voi.function is VoiFunction.LINEAR and voi.width == 1  # a threshold, not a ramp
    if voi.function is VoiFunction.SIGMOID or step or pixels.dtype.itemsize > 4:
        return None
    if pixels.ndim != 2 or pixels.size < _MIN_CV_PIXELS:  # OpenCV reads tiny arrays as scalars
        return None
    if pixels.dtype == np.uint32:  # not an OpenCV depth
        return None
    alpha, beta = linear_coefficients(voi)
    low, high = (float(v) for v in cv2.minMaxLoc(pixels)[:2])
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    floating = pixels.dtype.kind == "f"
    if floating:
        k = -beta / alpha
    else:
        info = np.iinfo(pixels.dtype)
        k = float(min(max(math.ceil(-beta / alpha), info.min), info.max))
    saturated = (256.0 - beta) / alpha  # at and above: 255
    top = high
    if alpha * high + beta > 2.0**30 or not single_precision_ok(alpha, beta, max(low, k), top):
        top = min(high, saturated)  # clamp from above too (one more pass)
        if not single_precision_ok(alpha, beta, max(low, k), top):
            return None
    work = cv2.max(pixels, k)
    if top < high:
        cv2.min(work, saturated if floating else float(math.ceil(saturated)), dst=work)
    out = cv2.convertScaleAbs(work, alpha=alpha, beta=beta)
    if not floating and alpha > 0.5:
        cv2.bitwise_and(out, cv2.compare(pixels, k, cv2.CMP_GE), dst=out)
    return np.asarray(out, dtype=np.uint8)


def single_precision_ok(alpha: float, beta: float, low: float, high: float) -> bool:
    """True when ``alpha x + beta`` in float32 is within 1/100 level for x in [low, high]."""
    largest = abs(alpha) * max(abs(low), abs(high), abs(math.ceil(high))) + abs(beta)
    return largest * 2.0**-22 <= 0.01


def levels_table(voi: Voi, start: int, stop: int, inverted: bool) -> U8:
    """``rint(255 · voi_unit(v))`` (then inverted) for each integer ``v`` from ``start`` to
    ``stop``: the exact output of every value, shape ``(stop − start + 1,)``, ``uint8``."""
    unit = voi_unit(np.arange(start, stop + 1), voi)
    out: U8 = np.rint(unit * 255.0).astype(np.uint8)
    return np.asarray(255 - out, dtype=np.uint8) if inverted else out


def render(pixels: npt.NDArray[Any], voi: Voi, *, inverted: bool, out: U8 | None = None) -> U8:
    """Apply ``voi`` then (if ``inverted``) inversion, returning a ``uint8`` image.

    ``pixels``: a 2-D array of modality values (any integer or float dtype; other shapes are
    evaluated by the reference formula); the result has its shape.  Each output is
    ``rint(255 ·`` :func:`voi_unit` ``)``, or its neighbour where that value is within 1/100
    of a level of a half level (see the module notes).  ``out``: destination for 8-bit data.
    """
    if pixels.dtype == np.uint8:
        result = cv2.LUT(pixels, levels_table(voi, 0, 255, inverted), dst=out)
        return np.asarray(result, dtype=np.uint8)
    sixteen = pixels.dtype in (np.uint16, np.int16) and display_lut.has_lut16()
    fast = _fast_linear(pixels, voi) if isinstance(voi, Window) and not sixteen else None
    if fast is None and pixels.ndim == 2 and pixels.size >= _MIN_CV_PIXELS:
        if pixels.dtype.kind in "iu":
            looked_up = _value_lut(pixels, voi, inverted)
            if looked_up is not None:
                return looked_up
        if isinstance(voi, Window):
            fast = _float_window(pixels, voi)
        elif pixels.dtype.kind == "f":
            return _float_voi_lut(pixels, voi, inverted)
    if fast is not None:
        return np.asarray(cv2.bitwise_not(fast, dst=fast) if inverted else fast, dtype=np.uint8)
    unit = voi_unit(pixels, voi)
    result8: U8 = np.rint(unit * 255.0).astype(np.uint8)
    return np.asarray(255 - result8, dtype=np.uint8) if inverted else result8


def _value_lut(pixels: npt.NDArray[Any], voi: Voi, inverted: bool) -> U8 | None:
    """Integer data through a table of the exact output for every value in their range.

    ``rint(255 · voi_unit(v))`` for each ``v`` from the data's minimum to maximum (``n`` values,
    at most ``_MAX_VALUE_LUT``; None otherwise), read by :func:`.display_lut.lookup`.
    """
    low, high = (int(v) for v in cv2.minMaxLoc(_as_cv(pixels))[:2])
    if high - low + 1 > _MAX_VALUE_LUT:
        return None
    return display_lut.lookup(levels_table(voi, low, high, inverted), pixels, low)


def _float_voi_lut(pixels: npt.NDArray[Any], lut: VoiLut, inverted: bool) -> U8:
    """Float data through a VOI LUT: each value rounded to the nearest integer (half to even,
    as :func:`voi_unit`), then looked up as integer data are (:func:`.display_lut.take_range`:
    the levels of every integer in the range, the table's ends beyond it, PS3.3 C.11.2.1.1).

    OpenCV rounds to int32 in one pass (``cvRound``, half to even) and gives ``INT_MIN`` for
    NaN and values outside int32: those films take the float path below.
    """
    info = np.iinfo(np.int32)
    if pixels.dtype == np.float32:
        rounded = cv2.add(pixels, 0.0, dtype=cv2.CV_32S)
        low, high = (int(v) for v in cv2.minMaxLoc(rounded)[:2])
        if info.min < low and high < info.max and high - low < _MAX_VALUE_LUT:
            levels = levels_table(lut, low, high, inverted)
            return display_lut.take_range(levels, rounded, low, high)
    index = np.clip(np.rint(pixels) - lut.first_mapped, 0, lut.table.size - 1)
    np.nan_to_num(index, copy=False, nan=0.0)  # a NaN pixel reads the first entry
    levels = np.rint(lut.table / float((1 << lut.bits) - 1) * 255.0).astype(np.uint8)
    if inverted:
        levels = np.asarray(255 - levels, dtype=np.uint8)
    return np.asarray(np.take(levels, index.astype(np.intp), mode="clip"), dtype=np.uint8)


def _float_window(pixels: npt.NDArray[Any], voi: Window) -> U8 | None:
    """Float data: SIGMOID by the formula, vectorised in OpenCV; a LINEAR width-1 threshold.

    SIGMOID (PS3.3 C.11.2.1.3.1) ``y = 255 / (1 + exp(t))`` with ``t = −4 (x − c) / w``,
    rounded to the nearest level (OpenCV's saturating ``cvRound``, half to even like
    ``np.rint``).  ``t = k x + b`` (``k = −4 / w``, ``b = 4 c / w``) in float32 carries an
    absolute error of at most about ``2**−23 (|k x| + |b| + |t|)``, i.e. ``2**−21 (1 + |c| / w)``
    where the output is not saturated, and ``|dy/dt| <= 255 / 4``, so the output is within
    ``255 · 2**−23 (1 + |c| / w)`` of exact (exp and the division add about ``255 · 2**−22``):
    float32 is used while that sum is below 1/100 of a grey level (``|c| / w`` up to about
    160), float64 beyond.  The result is ``rint`` of a value within 0.01 of the exact one: the
    same level, or for a value within 0.01 of a half level the next one.  exp overflows to
    infinity for ``t > 88`` in float32, giving 0 as the formula does.  LINEAR of width 1
    (C.11.2.1.2.1's step ``x > c − 0.5``) is exact.
    """
    if pixels.dtype not in (np.float32, np.float64):
        return None
    if voi.function is VoiFunction.LINEAR and voi.width == 1:
        above = cv2.compare(pixels, voi.center - 0.5, cv2.CMP_GT)
        return np.asarray(above, dtype=np.uint8)  # 255 where above, else 0
    if voi.function is not VoiFunction.SIGMOID:
        return None
    error = 255.0 * 2.0**-23 * (1.0 + abs(voi.center) / voi.width) + 255.0 * 2.0**-22
    depth = cv2.CV_64F if pixels.dtype == np.float64 or error > 0.01 else cv2.CV_32F
    slope = -4.0 / voi.width
    if not math.isfinite(slope) or (depth == cv2.CV_32F and abs(slope) > 1e37):
        return None  # so narrow that the slope overflows: the reference formula
    t = cv2.addWeighted(pixels, slope, pixels, 0.0, -slope * voi.center, dtype=depth)
    cv2.exp(t, dst=t)
    cv2.add(t, 1.0, dst=t)
    return np.asarray(cv2.divide(255.0, t, dtype=cv2.CV_8U), dtype=np.uint8)


def _as_cv(pixels: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """A view cv2.minMaxLoc accepts (it has no uint32/int64 support)."""
    return (
        pixels
        if pixels.dtype.itemsize <= 4 and pixels.dtype != np.uint32
        else pixels.astype(np.float64)
    )


def auto_window(
    pixels: npt.NDArray[Any],
    function: VoiFunction = VoiFunction.LINEAR,
    padding: npt.NDArray[np.bool_] | None = None,
) -> Window:
    """A window spanning the robust range (``AUTO_PERCENTILES``) of the data.

    Pixels marked in ``padding`` (Pixel Padding Value, PS3.3 C.7.5.1.1.2) are left out.  Integer
    data get a LINEAR window one wider than the range (C.11.2.1.2.1 maps ``c ± (w − 1)/2``); a
    constant image gets width 1.  Float data (a rescale to e.g. 0.24…0.73) get a LINEAR_EXACT
    window exactly as wide as their range, so any range, however small, has full contrast.
    """
    step = max(1, int(math.sqrt(pixels.size / 250_000)))
    sample = np.asarray(pixels[::step, ::step], dtype=np.float64)
    if padding is not None:
        sample = sample[~padding[::step, ::step]]
    sample = sample.ravel()
    if sample.size == 0:
        sample = np.asarray(pixels, dtype=np.float64).ravel()
    low, high = (float(v) for v in np.percentile(sample, AUTO_PERCENTILES))
    if pixels.dtype.kind == "f":
        if high - low <= 0:
            low, high = float(sample.min()), float(sample.max())
        exact = VoiFunction.SIGMOID if function is VoiFunction.SIGMOID else VoiFunction.LINEAR_EXACT
        width = high - low if high > low else max(abs(high) * 1e-6, 1e-6)
        return Window((low + high) / 2, width, exact, "auto")
    if high - low < 1:
        low, high = float(sample.min()), float(sample.max())
    width = max(high - low, 1.0) + (1.0 if function is VoiFunction.LINEAR else 0.0)
    center = (low + high) / 2 + (0.5 if function is VoiFunction.LINEAR else 0.0)
    return Window(center, width, function, "auto")


def window_covers_data(window: Window, pixel_range: tuple[float, float]) -> bool:
    """True when the window overlaps at least 1 % of the data's value range."""
    low, high = pixel_range
    overlap = min(high, window.center + window.width / 2) - max(
        low, window.center - window.width / 2
    )
    return overlap > 0.01 * max(high - low, 1.0)


def default_voi(film: Film) -> Voi:
    """The VOI a film opens with: its first usable window, else its VOI LUT, else automatic."""
    for window in film.windows:
        if window_covers_data(window, film.pixel_range):
            return window
    if film.voi_luts:
        return film.voi_luts[0]
    return auto_window(film.pixels, film.voi_function, film.padding)


def voi_presets(film: Film) -> list[tuple[str, Voi]]:
    """Named VOI choices for a film: its windows and LUTs, then the automatic window."""
    presets: list[tuple[str, Voi]] = []
    for i, window in enumerate(film.windows, 1):
        presets.append((window.explanation or f"File window {i}", window))
    for i, lut in enumerate(film.voi_luts, 1):
        presets.append((lut.explanation or f"File VOI LUT {i}", lut))
    presets.append(("Auto", auto_window(film.pixels, film.voi_function, film.padding)))
    return presets


def fit_size(image: U8, max_size: int | None) -> U8:
    """Shrink ``image`` (area averaging) so its longer side is at most ``max_size``."""
    if not max_size or max(image.shape[:2]) <= max_size:
        return image
    scale = max_size / max(image.shape[:2])
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def render_film(
    film: Film, voi: Voi | None = None, *, invert: bool = False, max_size: int | None = None
) -> U8:
    """Display image of ``film``: its default VOI unless given; ``invert`` flips once more.

    Padding pixels (``film.padding``) are drawn as background, black (PS3.3 C.7.5.1.1.2).
    Shape ``(rows, columns)`` ``uint8`` (shrunk to ``max_size``).  Raises only
    :class:`~cobbdesk.core.errors.FilmError`: a film that cannot be shown says why.
    """
    try:
        chosen = voi if voi is not None else default_voi(film)
        image = render(film.pixels, chosen, inverted=film.inverted != invert)
        if film.padding is not None and film.padding.shape == image.shape:
            image[film.padding] = 0
        return fit_size(image, max_size)
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:
        raise faults.film_error(film.path, exc, "the display image") from None
