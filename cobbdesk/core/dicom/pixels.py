"""Decoding the displayed frame and mapping it to modality values.

Order (PS3.4 N.2): code stream header checked against the DICOM header → decode → bits above
Bits Stored ignored (:func:`.stored.ignore_high_bits`) → Modality LUT Sequence or Rescale
Slope/Intercept (PS3.3 C.11.1).  Every failure is a :class:`~cobbdesk.core.errors.FilmError`
naming the file and the element.
"""

from __future__ import annotations

import math
import re
import warnings
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom import uid
from pydicom.encaps import generate_fragments, parse_basic_offsets
from pydicom.pixels import pixel_array

from cobbdesk.core.dicom import codecs, codestream, faults
from cobbdesk.core.dicom.header import ImageHeader
from cobbdesk.core.dicom.lut import apply_lut, read_lut
from cobbdesk.core.dicom.stored import ignore_high_bits
from cobbdesk.core.errors import DicomHeaderError, FilmError, PixelDataError

_KIND = {
    **dict.fromkeys(
        (uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLossless, uid.JPEGLosslessSV1),
        "jpeg",
    ),
    **dict.fromkeys((uid.JPEGLSLossless, uid.JPEGLSNearLossless), "jpegls"),
    **dict.fromkeys((uid.JPEG2000Lossless, uid.JPEG2000), "j2k"),
}
_HEADER_BYTES = 64 * 1024  # enough for any marker segments before SOF/SIZ
_RLE_PADDING = re.compile(r"(\d+) vs\. (\d+) bytes expected")
#: Largest modality value magnitude kept exact (float64 integers, 2**53).
MAX_MODALITY = float(2**53)
PIXEL_DATA = "Pixel Data (7FE0,0010)"


def _stream_start(ds: Any) -> bytes:
    """The first bytes of the first frame's code stream (fragments joined, ≤ 64 KB)."""
    buffer = BytesIO(ds.PixelData)
    parse_basic_offsets(buffer)
    chunks: list[bytes] = []
    size = 0
    for fragment in generate_fragments(buffer):
        chunks.append(fragment)
        size += len(fragment)
        if size >= _HEADER_BYTES:
            break
    return b"".join(chunks)


def check_code_stream(ds: Any, path: Path, hdr: ImageHeader) -> None:
    """Refuse a code stream whose own header disagrees with Rows × Columns (before decoding).

    Raises PixelDataError naming the marker, the code stream's values and the header's.
    """
    kind = _KIND.get(hdr.transfer_syntax)
    if kind is None:
        return
    try:
        info = codestream.stream_header(_stream_start(ds), kind)
    except FilmError:
        raise
    except Exception as exc:  # a damaged item structure or marker segment
        reason = str(exc) if isinstance(exc, ValueError) else faults.describe(exc)
        raise PixelDataError(
            path,
            f"{PIXEL_DATA}: the {hdr.transfer_syntax.name} code stream of frame 1 "
            f"cannot be read: {reason.splitlines()[0][:160] if reason else type(exc).__name__}",
        ) from None
    found = (info.rows, info.columns, info.components)
    expected = (hdr.rows, hdr.columns, hdr.samples)
    if found != expected or info.precision > max(hdr.bits_allocated, 8):
        raise PixelDataError(
            path,
            f"{PIXEL_DATA}: the {info.source} declares {info.rows} × {info.columns} × "
            f"{info.components} samples of {info.precision} bits, but Rows (0028,0010) × "
            f"Columns (0028,0011) × Samples per Pixel (0028,0002) are {hdr.rows} × "
            f"{hdr.columns} × {hdr.samples} with Bits Allocated (0028,0100) "
            f"{hdr.bits_allocated}; not decoded",
        )


def _rle_warnings(caught: list[warnings.WarningMessage], path: Path) -> None:
    for record in caught:
        match = _RLE_PADDING.search(str(record.message))
        if match and int(match.group(1)) > int(match.group(2)) + 1:
            raise PixelDataError(
                path,
                f"{PIXEL_DATA}: an RLE segment of frame 1 decodes to {match.group(1)} bytes "
                f"but Rows × Columns is {match.group(2)}: the frame size disagrees with the "
                "header",
            )


def decode_first_frame(ds: Any, path: Path, hdr: ImageHeader) -> npt.NDArray[Any]:
    """The stored values of frame 1 in native byte order, bits above Bits Stored ignored.

    Shape ``(rows, columns)`` or ``(rows, columns, 3)``.  Raises PixelDataError.
    """
    ts = hdr.transfer_syntax
    if ts.is_encapsulated:
        check_code_stream(ds, path, hdr)
    plugin = codecs.PLUGIN if ts in codecs.SUPPORTED else ""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            arr = pixel_array(ds, index=0 if hdr.frames > 1 else None, decoding_plugin=plugin)
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:  # decoders raise anything: report it, never crash
        raise PixelDataError(
            path,
            f"{PIXEL_DATA}: {ts.name} pixel data could not be decoded "
            f"({plugin or 'pydicom'}: {faults.describe(exc)})",
        ) from None
    _rle_warnings(caught, path)
    expected = (hdr.rows, hdr.columns) + ((3,) if hdr.samples == 3 else ())
    if arr.shape != expected:
        raise PixelDataError(
            path, f"{PIXEL_DATA}: decoded image is {arr.shape}, expected {expected}"
        )
    native: npt.NDArray[Any] = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    if ts.is_encapsulated:  # pydicom already does this for native transfer syntaxes
        native = ignore_high_bits(native, hdr.bits_stored, hdr.pixel_representation == 1)
    return native


def stored_limits(hdr: ImageHeader) -> tuple[int, int]:
    """Smallest and largest value Bits Stored and Pixel Representation allow."""
    if hdr.pixel_representation == 1:
        return -(1 << (hdr.bits_stored - 1)), (1 << (hdr.bits_stored - 1)) - 1
    return 0, (1 << hdr.bits_stored) - 1


def _rescale(ds: Any, path: Path, notices: list[str]) -> tuple[float, float]:
    try:
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
    except (TypeError, ValueError, OverflowError):
        raise DicomHeaderError(
            path, "Rescale Slope/Intercept (0028,1053/1052) are not numbers"
        ) from None
    if not (math.isfinite(slope) and math.isfinite(intercept)) or slope == 0:
        notices.append(
            f"Rescale Slope/Intercept (0028,1053/1052) {slope:g}/{intercept:g} unusable; "
            "stored values shown unscaled"
        )
        return 1.0, 0.0
    for value, name in (
        (intercept, "Rescale Intercept (0028,1052)"),
        (slope, "Rescale Slope (0028,1053)"),
    ):
        if abs(value) > MAX_MODALITY:
            raise DicomHeaderError(
                path, f"{name} is {value:g}; modality values would exceed ±2**53"
            )
    return slope, intercept


def modality(
    stored: npt.NDArray[Any], ds: Any, path: Path, hdr: ImageHeader, notices: list[str]
) -> tuple[npt.NDArray[Any], bool]:
    """(modality values, whether the VOI input may be signed) — PS3.3 C.11.1, C.11.2.1.1.

    Integer output when the mapping keeps values integral, float32 otherwise.  Raises
    FilmError for a damaged Modality LUT Sequence or a rescale overflowing 2**53.
    """
    signed = hdr.pixel_representation == 1
    if "ModalityLUTSequence" in ds:
        try:
            item = ds.ModalityLUTSequence[0]
            lut = read_lut(item, signed, hdr.transfer_syntax.is_little_endian)
            return apply_lut(stored, lut), False
        except Exception as exc:
            reason = str(exc) if isinstance(exc, ValueError) else faults.describe(exc)
            raise PixelDataError(
                path, f"Modality LUT Sequence (0028,3000) is invalid: {reason.splitlines()[0]}"
            ) from None
    slope, intercept = _rescale(ds, path, notices)
    low, high = stored_limits(hdr)
    may_be_negative = min(low * slope + intercept, high * slope + intercept) < 0
    if slope == 1 and intercept == 0:
        return stored, signed
    ends = (float(stored.min()) * slope + intercept, float(stored.max()) * slope + intercept)
    if max(abs(e) for e in ends) > MAX_MODALITY:
        raise DicomHeaderError(
            path,
            f"Rescale Slope/Intercept (0028,1053/1052) {slope:g}/{intercept:g} map the stored "
            "values beyond ±2**53",
        )
    if slope.is_integer() and intercept.is_integer():
        dtype = np.result_type(
            np.min_scalar_type(int(min(ends))), np.min_scalar_type(int(max(ends)))
        )
        dtype = dtype if dtype.itemsize <= 4 else np.dtype(np.int64)
        work = np.result_type(
            dtype, stored.dtype, np.min_scalar_type(int(slope)), np.min_scalar_type(int(intercept))
        )
        work = work if work.itemsize <= 4 else np.dtype(np.int64)
        mapped = stored.astype(work) * work.type(int(slope)) + work.type(int(intercept))
        return mapped.astype(dtype, copy=False), may_be_negative
    scaled = stored.astype(np.float32) * np.float32(slope) + np.float32(intercept)
    return scaled.astype(np.float32), may_be_negative


def value_range(
    pixels: npt.NDArray[Any], padding: npt.NDArray[np.bool_] | None
) -> tuple[float, float]:
    """(min, max) of ``pixels`` outside ``padding`` (PS3.3 C.7.5.1.1.2)."""
    values = pixels[~padding] if padding is not None else pixels
    return float(values.min()), float(values.max())
