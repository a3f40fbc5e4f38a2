"""Reading the frame size out of a compressed code stream **before** it is decoded.

A 2 KB file whose JPEG frame header declares 40000 × 40000 pixels makes a decoder allocate
gigabytes before it notices that the data run out.  The DICOM header (Rows, Columns) is checked
by :mod:`.header`; this module reads the dimensions the *code stream* declares, so the two can
be compared and a disagreement refused without decoding:

* JPEG (ITU-T T.81 B.2.2): the frame header of any SOFn marker (``FFC0``–``FFCF`` except
  ``FFC4`` DHT, ``FFC8`` JPG and ``FFCC`` DAC): ``Lf P Y X Nf``;
* JPEG-LS (ITU-T T.87 C.2.2): the SOF55 marker ``FFF7`` has the same layout;
* JPEG 2000 (ITU-T T.800 A.5.1): the SIZ marker segment ``FF51`` right after SOC ``FF4F``:
  ``Lsiz Rsiz Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz XTOsiz YTOsiz Csiz {Ssiz XRsiz YRsiz}``; the
  image is ``(Xsiz − XOsiz) × (Ysiz − YOsiz)``, the precision ``(Ssiz & 0x7F) + 1``;
* a JP2 file (T.800 I.5.3.1) instead of a bare code stream: the ``ihdr`` box inside ``jp2h``
  (``HEIGHT WIDTH NC BPC``) and the code stream of the ``jp2c`` box.

All functions are pure: bytes in, :class:`StreamHeader` out, :class:`ValueError` with a short
reason for a header that cannot be read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

#: SOFn markers of T.81 Table B.1 (all but DHT C4, JPG C8 and DAC CC) plus JPEG-LS SOF55 (T.87).
SOF_MARKERS = frozenset({*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}) | {0xF7}
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RSTm, SOI: no length field
_SOS, _EOI = 0xDA, 0xD9
_J2K_SOC = b"\xff\x4f\xff\x51"
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"


@dataclass(frozen=True)
class StreamHeader:
    """What a code stream says about its image."""

    rows: int
    columns: int
    components: int
    precision: int
    """Bits per sample (the largest over the components for JPEG 2000)."""
    source: str
    """The marker or box the values come from, e.g. ``"JPEG SOF3 (T.81 B.2.2)"``."""


def jpeg_frame_header(data: bytes) -> StreamHeader:
    """The SOFn / SOF55 frame header of a JPEG or JPEG-LS stream (T.81 B.2.2, T.87 C.2.2).

    Raises ValueError when the stream does not start with SOI or has no frame header before
    the first scan.
    """
    if data[:2] != b"\xff\xd8":
        raise ValueError("the JPEG stream does not start with SOI (FFD8)")
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError(f"no marker at byte {pos} of the JPEG stream")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte (T.81 B.1.1.2)
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker in (_SOS, _EOI):
            break
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if marker in SOF_MARKERS:
            if length < 8 or pos + 10 > len(data):
                raise ValueError("the JPEG frame header is truncated")
            precision, rows, columns, components = struct.unpack_from(">BHHB", data, pos + 4)
            name = (
                "JPEG-LS SOF55 (T.87 C.2.2)"
                if marker == 0xF7
                else f"JPEG SOF{marker - 0xC0} (T.81 B.2.2)"
            )
            return StreamHeader(rows, columns, components, precision, name)
        if length < 2:
            raise ValueError(f"JPEG marker FF{marker:02X} has an impossible length {length}")
        pos += 2 + length
    raise ValueError("the JPEG stream has no frame header (SOFn) before its first scan")


def j2k_siz(data: bytes, offset: int = 0) -> StreamHeader:
    """The SIZ marker segment of a JPEG 2000 code stream starting at ``offset`` (T.800 A.5.1)."""
    if data[offset : offset + 4] != _J2K_SOC:
        raise ValueError("the JPEG 2000 code stream does not start with SOC and SIZ (FF4F FF51)")
    if offset + 42 > len(data):
        raise ValueError("the JPEG 2000 SIZ marker segment is truncated")
    fields = struct.unpack_from(">HHIIIIIIIIH", data, offset + 4)
    xsiz, ysiz, xosiz, yosiz = fields[2:6]
    components = fields[10]
    if xosiz >= xsiz or yosiz >= ysiz:
        raise ValueError(
            f"the JPEG 2000 SIZ image offset ({xosiz}, {yosiz}) is not inside its size "
            f"({xsiz}, {ysiz})"
        )
    first = offset + 42
    if components < 1 or first + 3 * components > len(data):
        raise ValueError(f"the JPEG 2000 SIZ marker segment declares {components} components")
    precision = max((data[first + 3 * i] & 0x7F) + 1 for i in range(components))
    return StreamHeader(
        ysiz - yosiz, xsiz - xosiz, components, precision, "JPEG 2000 SIZ (T.800 A.5.1)"
    )


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, content start, content end) of the JP2 boxes in ``data[start:end]`` (I.4)."""
    boxes = []
    pos = start
    while pos + 8 <= end:
        length, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if length == 1 and pos + 16 <= end:  # XLBox: 64-bit length
            (length,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif length == 0:  # the box runs to the end of the file
            length = end - pos
        if length < header:
            raise ValueError(f"JP2 box {kind!r} has an impossible length {length}")
        boxes.append((kind, pos + header, min(pos + length, end)))
        pos += length
    return boxes


def jp2_header(data: bytes) -> StreamHeader:
    """Dimensions of a JP2 file: its ``ihdr`` box (T.800 I.5.3.1), checked against ``jp2c``."""
    boxes = _boxes(data, 0, len(data))
    ihdr = next(
        (
            inner
            for kind, start, end in boxes
            if kind == b"jp2h"
            for inner in _boxes(data, start, end)
            if inner[0] == b"ihdr"
        ),
        None,
    )
    if ihdr is None or ihdr[1] + 14 > len(data):
        raise ValueError("the JP2 file has no image header box (ihdr)")
    height, width, components, bpc = struct.unpack_from(">IIHB", data, ihdr[1])
    box = StreamHeader(height, width, components, (bpc & 0x7F) + 1, "JP2 ihdr box (T.800 I.5.3.1)")
    stream = next((start for kind, start, _ in boxes if kind == b"jp2c"), None)
    if stream is None:
        raise ValueError("the JP2 file has no code stream box (jp2c)")
    siz = j2k_siz(data, stream)
    if (siz.rows, siz.columns, siz.components) != (box.rows, box.columns, box.components):
        raise ValueError(
            f"the JP2 ihdr box declares {box.rows} × {box.columns} × {box.components} but its "
            f"code stream {siz.rows} × {siz.columns} × {siz.components}"
        )
    return siz


def stream_header(data: bytes, kind: str) -> StreamHeader:
    """The header of ``data`` for ``kind`` ``"jpeg"``, ``"jpegls"`` or ``"j2k"``."""
    if kind == "j2k":
        return jp2_header(data) if data.startswith(_JP2_SIGNATURE) else j2k_siz(data)
    return jpeg_frame_header(data)
