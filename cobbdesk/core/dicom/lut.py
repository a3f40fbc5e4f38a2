"""LUT Descriptor (0028,3002) and LUT Data (0028,3006): the Modality and VOI lookup tables.

PS3.3 C.11.1.1.1 / C.11.2.1.1: the descriptor is ``[entries, first mapped, bits]``; 0 entries
means 65536.  Only the *second* value has a sign, and it is the sign of the data the table maps:

* Modality LUT: the stored pixel values, signed when Pixel Representation (0028,0103) is 1;
* VOI LUT: the stored values when there is no modality transform (so again Pixel
  Representation), SS when Rescale Slope/Intercept may give negative values, US after a
  Modality LUT Sequence (whose output is always unsigned).

So an unsigned 16-bit first-mapped value 32768 is 32768, not −32768, whatever VR (US or SS) the
writer chose.  The third value, the bit depth of the entries, is wrong in real files (Agfa CR: 16
declared, 12-bit data): the entries' actual largest value decides the depth used for scaling,
as Horos, Cornerstone and dicom-rs do (DCMTK ``DiLookupTable::checkBits`` likewise derives it
from the table when the descriptor is unusable), with a notice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Lut:
    """A parsed lookup table: ``table[clip(v − first_mapped, 0, len − 1)]`` for input ``v``."""

    first_mapped: int
    table: npt.NDArray[np.uint16]
    bits: int
    """Bit depth used to scale the entries (VOI: output = entry / (2**bits − 1))."""
    notices: tuple[str, ...] = ()


def first_mapped(raw: int, signed_input: bool) -> int:
    """The descriptor's second value with the sign of the data it maps (PS3.3 C.11.2.1.1)."""
    value = int(raw) & 0xFFFF
    return value - 0x10000 if signed_input and value > 0x7FFF else value


def _entries(data: Any, count: int, bits: int, little_endian: bool) -> npt.NDArray[np.uint16]:
    if isinstance(data, bytes | bytearray):
        if bits <= 8 and len(data) in (count, count + 1) and len(data) < 2 * count:
            return np.frombuffer(data[:count], np.uint8).astype(np.uint16)
        usable = len(data) // 2 * 2
        raw = np.frombuffer(data[:usable], "<u2" if little_endian else ">u2")
        return raw.astype(np.uint16)
    values = [data] if isinstance(data, int) else list(data)
    return (np.asarray(values, dtype=np.int64) & 0xFFFF).astype(np.uint16)


def read_lut(item: Any, signed_input: bool, little_endian: bool = True) -> Lut:
    """Parse one LUT item (a Modality or VOI LUT Sequence item).

    Raises ValueError (or AttributeError/TypeError from a damaged item) with a short reason:
    the caller turns it into a notice or a :class:`~cobbdesk.core.errors.FilmError`.
    """
    descriptor = [int(v) for v in item.LUTDescriptor]
    if len(descriptor) != 3:
        raise ValueError(f"LUT Descriptor (0028,3002) has {len(descriptor)} values, not 3")
    count = (descriptor[0] & 0xFFFF) or 0x10000
    declared = descriptor[2] & 0xFFFF
    table = _entries(item.LUTData, count, declared, little_endian)
    if table.size < count:
        raise ValueError(
            f"LUT Data (0028,3006) holds {table.size} entries; the descriptor declares {count}"
        )
    table = table[:count]
    actual = max(int(table.max()).bit_length(), 1)
    notices: tuple[str, ...] = ()
    bits = declared
    if actual != declared:
        bits = actual
        notices = (
            f"LUT Descriptor (0028,3002) declares {declared}-bit entries but the largest entry "
            f"is {int(table.max())} ({actual} bits): scaled by the table's actual depth",
        )
    return Lut(first_mapped(descriptor[1], signed_input), table, bits, notices)


def apply_lut(values: npt.NDArray[Any], lut: Lut) -> npt.NDArray[np.uint16]:
    """``lut`` applied to integer ``values`` (inputs outside the table clamp to its ends)."""
    index = values.astype(np.int64) - lut.first_mapped
    np.clip(index, 0, lut.table.size - 1, out=index)
    return np.asarray(lut.table[index], dtype=np.uint16)
