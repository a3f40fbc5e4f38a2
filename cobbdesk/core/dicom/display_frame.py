"""The screen's modality values of one view geometry, rendered again for each VOI.

A window/level drag changes only the VOI: the values sampled at each device pixel
(:mod:`.screen`) stay, and so does everything about them that does not depend on the VOI.
:class:`ScreenFrame` keeps those — the data's range, for float data the values rounded for a
VOI LUT, the output and scratch buffers — so that each frame is one or a few passes over the
screen's pixels (about 1 MP), with no allocation:

* integer data: the VOI evaluated exactly (float64) once per value in the range, read per pixel
  (:func:`.display_lut.lookup`: one ``cv2.LUT`` pass for 16-bit data);
* float data, VOI LUT: values rounded half to even once per geometry (PS3.3 C.11.2.1.1 indexes
  the LUT by integers), kept as 16-bit codes, then the same table reading;
* float data, LINEAR/LINEAR_EXACT: one saturating ``cv2.addWeighted`` pass to ``uint8``
  (float32, the bound of :func:`.display._fast_linear`);
* float data, SIGMOID: 65,536 fine steps of the values around the window, each holding the
  exact level of its centre (:func:`sigmoid_steps`; within 0.0091 level of the formula), two
  passes; where float32 cannot place the steps finely enough, four float32 passes of the
  formula (the error bound of :func:`.display._float_window`);
* anything else (other dtypes, NaN or infinite values, windows needing float64, tiny arrays):
  :func:`.display.render`.

Every output is therefore what :func:`.display.render` gives (``rint(255 · voi_unit)``, or its
neighbour where the exact value lies within 1/100 of a level of a half level); the tests check
both against the PS3.3 C.11.2.1.2 formulas in float64.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from cobbdesk.core.dicom import display, display_lut
from cobbdesk.core.dicom.film import VoiFunction, VoiLut, Window

U8 = npt.NDArray[np.uint8]
_INT32 = np.iinfo(np.int32)


def finite_range(values: npt.NDArray[Any]) -> tuple[float, float] | None:
    """``(min, max)`` of a 2-D array, or None when a value is NaN or infinite (two passes)."""
    if values.dtype.kind == "f" and not cv2.checkRange(values)[0]:
        return None
    low, high = cv2.minMaxLoc(values)[:2]
    return float(low), float(high)


def sigmoid_steps(voi: Window, x_lo: float, scale: float) -> U8:
    """The SIGMOID level of each step centre ``x_lo + q / scale``, ``q`` = 0 … 65,535.

    The level is the number of half levels ``h = k + 0.5`` (k = 0 … 254) that the exact output
    (PS3.3 C.11.2.1.3.1) exceeds there: the output equals ``h`` at ``x_h = c + w / 4 ·
    ln(h / (255 − h))``, so steps up to ``floor((x_h − x_lo) · scale)`` lie at or below it.  A
    centre exactly on some ``x_h`` (a tie) gets the lower level.  Shape ``(65536,)``, ``uint8``.
    """
    half = np.arange(255) + 0.5
    crossing = voi.center + voi.width / 4.0 * np.log(half / (255.0 - half))
    first = np.clip(np.floor((crossing - x_lo) * scale) + 1, 0, display_lut.LUT16_SIZE)
    bounds = np.concatenate(([0], first.astype(np.intp), [display_lut.LUT16_SIZE]))
    return np.repeat(np.arange(256, dtype=np.uint8), np.diff(bounds))


class FrameBuffers:
    """Scratch memory for the frames of one view, kept from one geometry to the next.

    Flat arrays grown to the largest frame asked for (never shrunk), handed out as views of the
    shape needed; a frame's output image is such a view, so the next frame rendered with the
    same buffers overwrites it.
    """

    def __init__(self) -> None:
        self.table = np.zeros(display_lut.LUT16_SIZE, np.uint8)  # 16-bit value table scratch
        self._flat: dict[str, npt.NDArray[Any]] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype: Any, fill: float | None = None
            ) -> npt.NDArray[Any]:  # fmt: skip
        """A C-contiguous array of ``shape`` and ``dtype`` (named: one per purpose); every
        element equals ``fill`` when given (kept so: callers never write to a filled one)."""
        size = math.prod(shape)
        flat = self._flat.get(name)
        if flat is None or flat.size < size or flat.dtype != np.dtype(dtype):
            flat = np.empty(max(size, 1), dtype) if fill is None else np.full(size, fill, dtype)
            self._flat[name] = flat
        return flat[:size].reshape(shape)


class ScreenFrame:
    """Modality values of the device pixels of one view geometry, with their display cache.

    ``values``: 2-D array (device rows, columns) of modality values, any dtype (kept, not
    copied: do not change it).  ``background``: the device pixels drawn as background (black,
    PS3.3 C.7.5.1.1.2), or None.  ``buffers``: the view's scratch memory (the image returned by
    :meth:`render` lives there until the next render with the same buffers); new ones when
    None.  ``bounds``: a finite ``(low, high)`` holding every value (e.g. the whole film's
    range: samples lie within it), saving a scan of the values; None: found when needed.
    """

    def __init__(
        self,
        values: npt.NDArray[Any],
        background: npt.NDArray[np.bool_] | None = None,
        buffers: FrameBuffers | None = None,
        bounds: tuple[float, float] | None = None,
    ) -> None:
        self.values = values
        self._keep = None if background is None else np.where(background, 0, 255).astype(np.uint8)
        self._range = bounds
        self._codes: tuple[npt.NDArray[np.uint16], int, int] | None = None
        shape_ok = values.ndim == 2 and values.size >= 64  # OpenCV reads tiny arrays as scalars
        self._kind = values.dtype.kind if shape_ok else ""
        self._buffers = buffers if buffers is not None else FrameBuffers()
        self._out: U8 = self._buffers.get("out", values.shape, np.uint8)

    def render(self, voi: display.Voi, inverted: bool) -> U8:
        """``uint8`` image of the values with ``voi`` then inversion, background black.

        The array may be this frame's buffer: valid until the next call.  Raises what
        :func:`.display.render` raises.
        """
        out = self._render(voi, inverted)
        if self._keep is not None:
            cv2.bitwise_and(out, self._keep, dst=out)
        return out

    def _render(self, voi: display.Voi, inverted: bool) -> U8:
        values = self.values
        if self._kind in ("i", "u") and values.dtype.itemsize == 2:
            low, high = (int(v) for v in self._value_range())
            levels = display.levels_table(voi, low, high, inverted)
            return display_lut.lookup(levels, values, low, self._buffers.table, out=self._out)
        fast = None
        if self._kind == "f" and values.dtype == np.float32:
            if isinstance(voi, VoiLut):
                fast = self._float_voi_lut(voi, inverted)
            elif display.effective_function(voi) is VoiFunction.SIGMOID:
                fast = self._sigmoid_by_table(voi, inverted)
                if fast is not None:
                    return fast  # inversion is in the table
                fast = self._float_sigmoid(voi)
            elif not (voi.function is VoiFunction.LINEAR and voi.width == 1):
                fast = self._float_linear(voi)
            if fast is not None and inverted and not isinstance(voi, VoiLut):
                cv2.bitwise_not(fast, dst=fast)
        if fast is None:
            return np.asarray(display.render(values, voi, inverted=inverted), dtype=np.uint8)
        return fast

    def _value_range(self) -> tuple[float, float]:
        """The values' minimum and maximum (for float data NaN when any value is not finite)."""
        if self._range is None:
            self._range = finite_range(self.values) or (math.nan, math.nan)
        return self._range

    def _float_linear(self, voi: Window) -> U8 | None:
        """LINEAR/LINEAR_EXACT: ``saturate(rint(alpha x + beta))`` in one float32 pass.

        ``addWeighted`` to ``uint8`` rounds half to even and saturates at 0 and 255.  Used
        while :func:`.display.single_precision_ok` bounds the float32 error by 1/100 level over
        the data's range, or else over the range clamped to ``[x0, x1]``, the values whose
        exact output is −1 and 256 (a whole level beyond saturation, so the clamped values
        still give 0 and 255); the clamp (two more passes) also keeps ``alpha x + beta`` far
        inside OpenCV's int range.
        """
        low, high = self._value_range()
        if not math.isfinite(low):
            return None
        alpha, beta = display.linear_coefficients(voi)
        source = self.values
        if not display.single_precision_ok(alpha, beta, low, high):
            x0, x1 = (-1.0 - beta) / alpha, (256.0 - beta) / alpha
            low, high = max(low, x0), min(high, x1)
            if not display.single_precision_ok(alpha, beta, low, high):
                return None
            source = cv2.max(self.values, x0, dst=self._float_buffers()[0])
            cv2.min(source, x1, dst=source)
        cv2.addWeighted(source, alpha, source, 0.0, beta, dst=self._out, dtype=cv2.CV_8U)
        return self._out

    def _float_buffers(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """A float32 scratch array and an array of ones, of the values' shape."""
        shape = self.values.shape
        work = self._buffers.get("work", shape, np.float32)
        return work, self._buffers.get("ones", shape, np.float32, fill=1.0)

    def _float_sigmoid(self, voi: Window) -> U8 | None:
        """SIGMOID (PS3.3 C.11.2.1.3.1) ``255 / (1 + exp(t))``, ``t = −4 (x − c) / w``, in float32
        where :func:`.display._float_window`'s error bound allows it (else None).  The division
        is ``255 · 1 / (1 + e^t)`` against a kept array of ones (OpenCV's scalar-over-array
        division is three times slower), rounded half to even and saturated to ``uint8``."""
        error = 255.0 * 2.0**-23 * (1.0 + abs(voi.center) / voi.width) + 255.0 * 2.0**-22
        slope = -4.0 / voi.width
        if error > 0.01 or not math.isfinite(slope) or abs(slope) > 1e37:
            return None
        t, ones = self._float_buffers()
        cv2.addWeighted(self.values, slope, self.values, 0.0, -slope * voi.center, dst=t,
                        dtype=cv2.CV_32F)  # fmt: skip
        cv2.exp(t, dst=t)
        cv2.add(t, 1.0, dst=t)
        cv2.divide(ones, t, dst=self._out, scale=255.0, dtype=cv2.CV_8U)
        return self._out

    def _sigmoid_by_table(self, voi: Window, inverted: bool) -> U8 | None:
        """SIGMOID on float values through 65,536 fine steps of the values (two passes).

        Outside ``[x_lo, x_hi]``, where the exact output is below 0.49 or above 254.51, every
        value shows 0 or 255.  Inside, ``q = rint((x − x_lo) · s)`` with ``s = 65535 /
        (x_hi − x_lo)`` (one saturating ``addWeighted`` pass to ``uint16``: values beyond the
        ends land on 0 and 65,535) indexes a table holding the exact level (float64) of each
        step's centre ``x_lo + q / s``, read by one 16-bit ``cv2.LUT`` pass.  A value lies
        within half a step of its step's centre, where the formula's slope is at most ``255 /
        w`` levels per unit (PS3.3 C.11.2.1.3.1): the table's level is that of a point within
        ``255 / w · (x_hi − x_lo) / 65535 / 2 = 255 · ln(255 / 0.49 − 1) / 4 / 65535 =
        0.0061`` level of the value's exact output, so it is the nearest level unless that
        output lies within 0.0061 of a half level.  The float32 arithmetic of ``q`` errs by at
        most ``2**−22 (s max(|x_lo|, |x_hi|) + s |x_lo| + 65536)`` steps inside ``[x_lo, x_hi]``
        (and beyond it by less than the distance to the ends, which grows faster): used while
        that is at most 0.25 step (0.0030 level more, 0.0091 in all, within the 1/100 level of
        the other paths), and while ``|q|`` stays below 2**30 over the data's range (OpenCV's
        rounding to int would overflow).
        """
        low, high = self._value_range()
        if not math.isfinite(low) or not display_lut.has_lut16():
            return None
        reach = voi.width / 4.0 * math.log(255.0 / 0.49 - 1.0)  # exact output 0.49 / 254.51
        x_lo, x_hi = voi.center - reach, voi.center + reach
        scale = (display_lut.LUT16_SIZE - 1) / (x_hi - x_lo)
        steps_error = 2.0**-22 * (scale * max(abs(x_lo), abs(x_hi)) + scale * abs(x_lo) + 65536)
        largest = scale * max(abs(low), abs(high)) + scale * abs(x_lo)  # OpenCV rounds to int
        if not (math.isfinite(scale) and steps_error <= 0.25 and largest < 2.0**30):
            return None
        codes = self._buffers.get("codes", self.values.shape, np.uint16)
        cv2.addWeighted(self.values, scale, self.values, 0.0, -x_lo * scale, dst=codes,
                        dtype=cv2.CV_16U)  # fmt: skip
        table = sigmoid_steps(voi, x_lo, scale)
        if inverted:
            np.subtract(255, table, out=table)
        return np.asarray(cv2.LUT(codes, table, dst=self._out), dtype=np.uint8)

    def _float_voi_lut(self, lut: VoiLut, inverted: bool) -> U8 | None:
        """VOI LUT on float values: rounded half to even once (``cvRound``, as ``np.rint``),
        kept as 16-bit integers (``first`` is the value of code 0) when the range has at most
        65,536 integers, then read through the table of every integer in the range (PS3.3
        C.11.2.1.1)."""
        if self._codes is None:
            self._codes = self._round_codes()
        codes, first, last = self._codes
        if last < first:  # NaN, infinite or out of int32, or too wide a range
            return None
        levels = display.levels_table(lut, first, last, inverted)
        origin = first if codes.dtype == np.int16 else 0
        return display_lut.lookup(levels, codes, origin, self._buffers.table, out=self._out)

    def _round_codes(self) -> tuple[npt.NDArray[Any], int, int]:
        """Rounded values as 16-bit codes and the range ``[first, last]`` of the integers they
        stand for.  Rounding is monotonic, so the rounded values lie within the rounded ends of
        the values' range: when those fit ``int16`` the values round straight to ``int16``
        (codes are the integers); else to ``int32`` and then offset from their minimum
        (``uint16`` codes, 0 for ``first``).  ``last < first``: no codes (not finite, beyond
        int32, or more than 65,536 integers)."""
        low, high = self._value_range()
        empty = np.empty((0, 0), np.uint16)
        if not (math.isfinite(low) and _INT32.min < low and high < _INT32.max):
            return empty, 0, -1
        first, last = round(low), round(high)  # half to even, as cvRound
        if first >= -32768 and last <= 32767:
            codes = cv2.add(self.values, 0.0, dtype=cv2.CV_16S)
            return np.asarray(codes, dtype=np.int16), first, last
        rounded = cv2.add(self.values, 0.0, dtype=cv2.CV_32S)
        first, last = (int(v) for v in cv2.minMaxLoc(rounded)[:2])
        if last - first >= display_lut.LUT16_SIZE:
            return empty, 0, -1
        codes = cv2.subtract(rounded, float(first), dtype=cv2.CV_16U)
        return np.asarray(codes, dtype=np.uint16), first, last
