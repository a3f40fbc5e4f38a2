"""Stored pixel values: the bits that count, and the pixels that are padding.

* :func:`ignore_high_bits` — only the low Bits Stored (0028,0101) bits of each sample are the
  pixel value (PS3.5 8.1.1, PS3.3 C.7.6.3.1.1): bits above them (an overlay burnt into bit 15,
  garbage left by a converter, a precision-16 JPEG-LS or JPEG 2000 code stream holding 12-bit
  data) are ignored — masked for unsigned data, replaced by the sign bit for signed data.
  Applied to every decoded frame, whatever the transfer syntax, so that ``pixel_sha256`` is the
  same for a film and its recompressed copies.
* :func:`padding_mask` — Pixel Padding Value (0028,0120) and Pixel Padding Range Limit
  (0028,0121) (PS3.3 C.7.5.1.1.2): stored values that are not image but padding (the area
  outside a collimated or circular field).  They are left out of the automatic window and of the
  statistics and drawn as background.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt


def ignore_high_bits(arr: npt.NDArray[Any], bits_stored: int, signed: bool) -> npt.NDArray[Any]:
    """``arr`` with every bit above ``bits_stored`` ignored (in place when writeable).

    Unsigned: ``v & (2**bits_stored - 1)``.  Signed: the value is the two's complement number in
    the low ``bits_stored`` bits, i.e. ``(v << s) >> s`` with ``s = container bits − bits_stored``
    and an arithmetic right shift (sign extension).  Non-integer arrays and arrays whose
    container is not wider than ``bits_stored`` are returned unchanged.
    """
    container = arr.dtype.itemsize * 8
    if arr.dtype.kind not in "iu" or bits_stored >= container:
        return arr
    if not arr.flags.writeable:
        arr = arr.copy()
    if not signed:
        mask = arr.dtype.type((1 << bits_stored) - 1)
        if arr.ndim == 2 and arr.dtype in (np.uint8, np.uint16) and arr.size >= 64:
            cv2.bitwise_and(arr, int(mask), dst=arr)  # one SIMD pass, no temporary
        else:
            np.bitwise_and(arr, mask, out=arr)
        return arr
    if arr.dtype.kind == "u":
        arr = arr.view(arr.dtype.str.replace("u", "i"))
    shift = container - bits_stored
    np.left_shift(arr, shift, out=arr)
    np.right_shift(arr, shift, out=arr)
    return arr


def stored_value(raw: int, bits_allocated: int, bits_stored: int, signed: bool) -> int:
    """A US/SS attribute value (e.g. Pixel Padding Value) read as a stored pixel value.

    The attribute may have been encoded with the wrong sign (US for signed data) or carry bits
    above Bits Stored (0xFFFF in a 12-bit film); it is interpreted exactly like the pixels.
    """
    value = int(raw) & ((1 << bits_allocated) - 1)
    value &= (1 << bits_stored) - 1
    if signed and value >= 1 << (bits_stored - 1):
        value -= 1 << bits_stored
    return value


def padding_mask(
    stored: npt.NDArray[Any], ds: Any, bits_allocated: int, bits_stored: int, signed: bool
) -> tuple[npt.NDArray[np.bool_] | None, str | None]:
    """(mask of padding pixels or None, notice or None) for the stored frame ``stored``.

    With Pixel Padding Range Limit the padding is every value between the two attributes,
    inclusive (PS3.3 C.7.5.1.1.2); without it, the values equal to Pixel Padding Value.  A mask
    covering the whole image is dropped with a notice (it would leave nothing to display).
    """
    raw_value = ds.get("PixelPaddingValue")
    if raw_value is None or raw_value == "" or stored.ndim != 2:
        return None, None
    raw_limit = ds.get("PixelPaddingRangeLimit")
    try:
        value = stored_value(_single(raw_value), bits_allocated, bits_stored, signed)
        limit = (
            value
            if raw_limit in (None, "")
            else stored_value(_single(raw_limit), bits_allocated, bits_stored, signed)
        )
    except (TypeError, ValueError):
        return None, "Pixel Padding Value (0028,0120) is not a number; no padding assumed"
    low, high = min(value, limit), max(value, limit)
    mask: npt.NDArray[np.bool_] = (stored >= low) & (stored <= high)
    count = int(np.count_nonzero(mask))
    if count == 0:
        return None, None
    if count == mask.size:
        return None, "every pixel equals the Pixel Padding Value (0028,0120); padding ignored"
    return mask, None


def _single(raw: Any) -> int:
    if isinstance(raw, bytes):
        raise ValueError("undecoded value")
    if isinstance(raw, list | tuple) or type(raw).__name__ == "MultiValue":
        raw = raw[0]
    return int(raw)
