"""Value tables read per pixel: ``levels[v − low]`` for integer modality values ``v``.

The display's integer paths (:mod:`.display`, :mod:`.display_frame`) evaluate the VOI once per
distinct value in the data's range (``levels``, exact in float64) and read that table at each
pixel.  Two readers, the same result:

* 16-bit data (``uint16``/``int16``) with OpenCV >= 5, whose ``cv2.LUT`` takes a 16-bit image
  and a 65,536-entry table indexed by the value's 16-bit pattern (an ``int16`` value ``v`` reads
  entry ``v mod 65536``): one pass, about 0.3 ms per megapixel.  Whether the installed OpenCV
  does is checked once, on first use, by reading a probe with known answers
  (:func:`has_lut16`);
* any other integer data, or an older OpenCV: ``np.take`` in blocks of rows
  (:func:`take_range`), about 1 ms per megapixel.
"""

from __future__ import annotations

import functools
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

U8 = npt.NDArray[np.uint8]
LUT16_SIZE = 1 << 16
_TAKE_ROWS = 64  # rows per np.take: its int64 copy of the indices stays in the CPU cache
_SIXTEEN_BITS = (np.dtype(np.uint16), np.dtype(np.int16))


@functools.cache
def has_lut16() -> bool:
    """True when ``cv2.LUT`` reads 16-bit images through a 65,536-entry table (OpenCV >= 5).

    Checked on a probe of every 16-bit pattern, unsigned and signed, against ``v mod 65536``
    (entry ``i`` of the probe table holds ``i mod 251``).
    """
    table = (np.arange(LUT16_SIZE) % 251).astype(np.uint8)
    unsigned = np.arange(LUT16_SIZE, dtype=np.uint16).reshape(256, 256)
    try:
        plain = cv2.LUT(unsigned, table)
        signed = cv2.LUT(unsigned.view(np.int16), table)
    except cv2.error:
        return False
    expected = (np.arange(LUT16_SIZE) % 251).astype(np.uint8).reshape(256, 256)
    return bool(np.array_equal(plain, expected) and np.array_equal(signed, expected))


def lookup(
    levels: U8, values: npt.NDArray[Any], low: int, table: U8 | None = None,
    out: U8 | None = None,
) -> U8:  # fmt: skip
    """``levels[v − low]`` for each integer ``v`` of the 2-D ``values`` (all within
    ``[low, low + levels.size − 1]``: the caller took ``low`` and the size from the data).

    ``table``: a reusable 65,536-entry ``uint8`` scratch table for the 16-bit reader (entries
    outside the data's range are left as they were: no value reads them).  ``out``: the
    destination (shape of ``values``).  Shape of ``values``, ``uint8``.
    """
    if values.dtype in _SIXTEEN_BITS and values.ndim == 2 and has_lut16():
        if table is None:
            table = np.zeros(LUT16_SIZE, np.uint8)
        start, count = low % LUT16_SIZE, levels.size
        head = min(count, LUT16_SIZE - start)  # a signed range wraps past entry 65,535
        table[start : start + head] = levels[:head]
        table[: count - head] = levels[head:]
        return np.asarray(cv2.LUT(values, table, dst=out), dtype=np.uint8)
    return take_range(levels, values, low, low + levels.size - 1, out)


def take_range(
    table: U8, values: npt.NDArray[Any], low: int, high: int, out: U8 | None = None
) -> U8:
    """``table[v − low]`` for integer ``values`` in ``[low, high]`` (``n`` = the table's size).

    Near 0 (``−n <= low``, ``high < 2n``) the table is rotated to position ``v mod n`` and read
    with ``np.take(mode="wrap")`` on the values themselves (numpy wraps by at most one step
    there; ``n`` consecutive integers have ``n`` different residues).  Elsewhere ``v − low`` is
    computed in the values' own type, where it may wrap (an int16 range wider than 32,767), and
    read as the unsigned type of the same size, exact because ``0 <= v − low < 2**bits``.
    """
    count = high - low + 1
    if out is None:
        out = np.empty(values.shape, np.uint8)
    near = -count <= low and high < 2 * count
    if near:
        table = np.asarray(np.roll(table, low % count), dtype=np.uint8)
    unsigned = np.dtype(f"u{values.dtype.itemsize}")
    for start in range(0, values.shape[0], _TAKE_ROWS):  # numpy's intp copy stays in cache
        rows = values[start : start + _TAKE_ROWS]
        if near:
            np.take(table, rows, mode="wrap", out=out[start : start + _TAKE_ROWS])
            continue
        index = rows - np.asarray(low, dtype=values.dtype)
        if index.dtype.kind == "i":
            index = index.view(unsigned)
        np.take(table, index, out=out[start : start + _TAKE_ROWS])
    return out
