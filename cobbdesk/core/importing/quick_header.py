"""The header scan's fast path: an Explicit VR Little Endian header walked by offsets.

pydicom's reader costs ~4 µs per data element in Python; a film header holds one to two
hundred elements before Rows/Columns (vendor private groups mostly), so parsing was most of
an import (``benchmarks/bench_import.py``: 10,000 films, the header scan 6.4 s of a 9.7 s
import, the walk below ~0.6 µs per element).  :func:`quick_parse` walks the same
bytes with one ``struct`` unpack per element (PS3.5 §7.1.2: tag, VR, 16- or 32-bit length)
and hands pydicom a dataset of the same :class:`~pydicom.dataelem.RawDataElement` values its
own reader would have made, so every field is still decoded by pydicom (character sets,
multi-values, person names) and by the same CobbDesk functions as before.

It only takes the plain case and declines (returns None) everything else, which then goes
through pydicom's reader unchanged:

* a ``DICM`` file whose File Meta group (PS3.10 §7.1) is followed by an Explicit VR Little
  Endian data set: Explicit VR Little Endian or any encapsulated syntax (PS3.5 §A.4); not
  Implicit VR, Big Endian, Deflated, a private syntax pydicom maps, or no Transfer Syntax;
* every VR one pydicom knows; undefined lengths only on sequences (skipped item by item to
  their Sequence Delimitation Item, PS3.5 §7.5.2, nesting at most :data:`MAX_DEPTH` deep);
* no Command group (0000), no value of a kept element longer than the scan's deferral size,
  no item delimiter at the top level; a header running past the bytes read is walked again
  on a longer read when the caller can give one (else pydicom reads the file).

Kept: the top-level public (even-group) elements before the stop
tag — the import reads attributes by keyword, which private elements never have.  Values
are the raw bytes as pydicom's reader would hold them (an empty value as
:func:`~pydicom.dataelem.empty_value_for_VR` gives); a sequence of undefined length is kept
as the bytes of its items, which pydicom decodes as the same items.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from pydicom.charset import convert_encodings, default_encoding
from pydicom.dataelem import RawDataElement, convert_raw_data_element, empty_value_for_VR
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ImplicitVRLittleEndian,
    PrivateTransferSyntaxes,
)
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32, VR

#: Sequences nested deeper than this are left to pydicom (which guards its own recursion).
MAX_DEPTH = 16
_HEADER = struct.Struct("<HH2sH")  # group, element, VR, 16-bit length
_LONG = struct.Struct("<L")
_ITEM = struct.Struct("<HHL")  # item tags: group, element, 32-bit length
_VRS = {vr.value.encode("ascii"): vr.value for vr in VR}
_LONG_VRS = frozenset(vr.encode("ascii") for vr in EXPLICIT_VR_LENGTH_32)
_UNDEFINED = 0xFFFFFFFF
_ITEM_TAG, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_CHARSET = 0x00080005
_META = (0x00020000, 0x0002FFFF)  # the File Meta group (0002,xxxx) and nothing else
_DICOMDIR = b"1.2.840.10008.1.3.10"  # Media Storage Directory Storage SOP Class
_OTHER_SYNTAXES = frozenset(
    [ImplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian,
     *PrivateTransferSyntaxes]
)  # fmt: skip


class _DeclineError(Exception):
    """Internal: not the plain case; pydicom's reader takes the file."""


class _ShortError(_DeclineError):
    """Internal: the header goes on past the bytes given."""


More = Callable[[], "tuple[bytes, bool] | None"]
"""Reads more of the file: ``(its first bytes, whether that is the whole file)`` or None."""


def quick_parse(
    head: bytes, last_tag: int, defer_size: int, whole: bool, more: More | None = None
) -> Any:
    """``(dataset, reached)`` for the first bytes ``head`` of a ``DICM`` file, or None.

    ``dataset`` is a :class:`~pydicom.dataset.Dataset` holding, as raw elements, the
    top-level public elements whose tags are at most ``last_tag`` (the File Meta group is
    read for its Transfer Syntax and to leave a DICOMDIR to pydicom, and not attached);
    ``reached`` says whether an element past ``last_tag`` was met (False: the data ended
    there, at an element boundary, and ``whole`` says ``head`` is the whole file).  None:
    not the plain case (module rules) — read the file with pydicom.  Never raises.

    When the header runs past ``head`` (not the whole file), ``more()`` is asked once for a
    longer start of the file and the walk starts again on it.
    """
    try:
        return _parse(head, last_tag, defer_size, whole)
    except (_ShortError, struct.error):
        longer = None if whole or more is None else more()
        if longer is None or len(longer[0]) <= len(head):
            return None
        return quick_parse(longer[0], last_tag, defer_size, longer[1])
    except _DeclineError:
        return None


def _parse(head: bytes, last_tag: int, defer_size: int, whole: bool) -> Any:
    meta_raw: dict[int, RawDataElement] = {}
    pos = _elements(head, 132, meta_raw, _META, defer_size)[0]
    if not meta_raw or pos >= len(head) - 8:
        raise _DeclineError
    syntax = meta_raw.get(0x00020010)
    if syntax is None or not syntax.value:
        raise _DeclineError
    text = syntax.value.decode("ascii", "replace").rstrip("\x00 ").strip()
    if text in _OTHER_SYNTAXES or head[pos : pos + 2] == b"\x00\x00":  # group 0000
        raise _DeclineError
    sop_class = meta_raw.get(0x00020002)
    if sop_class is not None and _DICOMDIR in (sop_class.value or b""):
        raise _DeclineError  # pydicom's reader tells a DICOMDIR (the scan skips it)
    raw: dict[int, RawDataElement] = {}
    reached = _elements(head, pos, raw, (0, last_tag), defer_size)[1]
    if not reached and not whole:
        raise _ShortError
    return _dataset(raw), reached


def _elements(
    buf: bytes, pos: int, kept: dict[int, RawDataElement], tags: tuple[int, int], defer: int
) -> tuple[int, bool]:
    """Walk top-level elements from ``pos`` into ``kept`` (even groups) until a tag past
    ``tags[1]``; returns ``(offset reached, stopped)``; the data ending cleanly gives
    ``(len, False)``.  A tag below ``tags[0]``, or a kept value longer than ``defer`` (other
    than the Specific Character Set: pydicom's reader would defer it) is declined."""
    first_tag, last_tag = tags
    size, vrs, long_vrs = len(buf), _VRS, _LONG_VRS
    unpack, long_unpack = _HEADER.unpack_from, _LONG.unpack_from
    while pos < size:
        group, element, vr, length = unpack(buf, pos)
        tag = group << 16 | element
        if tag > last_tag:
            if tag == _ITEM_END:
                raise _DeclineError
            return pos, True
        if tag < first_tag:
            raise _DeclineError
        if vr in long_vrs:
            length, start = long_unpack(buf, pos + 8)[0], pos + 12
        elif vr in vrs:
            start = pos + 8
        else:
            raise _DeclineError
        if length == _UNDEFINED:
            if vr != b"SQ":
                raise _DeclineError
            end = _sequence_end(buf, start, 1)
            pos = end + 8
        else:
            end = pos = start + length
        if end > size:
            raise _ShortError
        if not group & 1:
            length = end - start
            if length > defer and tag != _CHARSET:
                raise _DeclineError
            name = vrs[vr]
            value = buf[start:end] if length else empty_value_for_VR(name, raw=True)
            kept[tag] = RawDataElement(BaseTag(tag), name, length, value, start, False, True)
    return pos, False


def _sequence_end(buf: bytes, pos: int, depth: int) -> int:
    """Offset of the Sequence Delimitation Item ending the sequence whose items start at
    ``pos`` (items of defined length skipped, of undefined length walked)."""
    if depth > MAX_DEPTH:
        raise _DeclineError
    while True:
        group, element, length = _ITEM.unpack_from(buf, pos)
        tag = group << 16 | element
        if tag == _SEQUENCE_END:
            return pos
        if tag != _ITEM_TAG:
            raise _DeclineError
        pos += 8
        pos = pos + length if length != _UNDEFINED else _item_end(buf, pos, depth) + 8


def _item_end(buf: bytes, pos: int, depth: int) -> int:
    """Offset of the Item Delimitation Item ending the item whose elements start at ``pos``."""
    unpack = _HEADER.unpack_from
    while True:
        group, element, vr, length = unpack(buf, pos)
        if group << 16 | element == _ITEM_END:
            return pos
        if vr in _LONG_VRS:
            length, pos = _LONG.unpack_from(buf, pos + 8)[0], pos + 12
        elif vr in _VRS:
            pos += 8
        else:
            raise _DeclineError
        if length == _UNDEFINED:
            if vr != b"SQ":
                raise _DeclineError
            pos = _sequence_end(buf, pos, depth + 1) + 8
        else:
            pos += length
        if pos > len(buf):
            raise _ShortError


def _dataset(raw: dict[int, RawDataElement]) -> Dataset:
    """The data set as :func:`pydicom.filereader.read_dataset` builds it from ``raw``."""
    ds = Dataset(raw)
    encoding: Any = default_encoding
    if _CHARSET in raw:
        encoding = convert_encodings(convert_raw_data_element(raw[_CHARSET]).value)
    ds.set_original_encoding(False, True, encoding)
    return ds
