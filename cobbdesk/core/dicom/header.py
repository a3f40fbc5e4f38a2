"""Header checks made before any pixel data is read or allocated.

Every check raises a :class:`~cobbdesk.core.errors.FilmError` subclass naming the tag, the value
found and what was expected, so that a crafted header (a "decompression bomb" declaring
65535 × 65535 pixels in a 1 kB file, a declared length of 3 GB, a missing Rows) is refused
before it can cost memory or time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.tag import Tag
from pydicom.uid import UID

from cobbdesk.core.errors import DicomHeaderError, PixelDataError, UnsupportedTransferSyntaxError

#: Largest accepted Rows or Columns: large enough for any radiograph (43 cm at 0.05 mm is 8600).
MAX_DIMENSION = 16384
#: Largest accepted frame, in pixels (16384 × 8192): bounds the memory one decode can ask for.
MAX_PIXELS = MAX_DIMENSION * MAX_DIMENSION // 2

MONOCHROME = ("MONOCHROME1", "MONOCHROME2")
COLOUR = ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT", "YBR_PARTIAL_420")
PIXEL_DATA = Tag(0x7FE0, 0x0010)
UNDEFINED_LENGTH = 0xFFFFFFFF


@dataclass(frozen=True)
class ImageHeader:
    """The Image Pixel module attributes, validated."""

    rows: int
    columns: int
    samples: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    frames: int
    transfer_syntax: UID

    @property
    def frame_bytes(self) -> int:
        """Bytes of one native (uncompressed) frame."""
        return self.rows * self.columns * self.samples * self.bits_allocated // 8


def _int(ds: Any, path: Path, keyword: str, tag: str, allowed: range | tuple[int, ...]) -> int:
    """A required single-valued integer attribute within ``allowed``."""
    if keyword not in ds:
        raise DicomHeaderError(path, f"{keyword} ({tag}) is missing; it is required for pixels")
    value = ds[keyword].value
    if not isinstance(value, int) or isinstance(value, bool):
        raise DicomHeaderError(
            path, f"{keyword} ({tag}) is {_show(value)}; expected one integer in {_span(allowed)}"
        )
    if value not in allowed:
        raise DicomHeaderError(path, f"{keyword} ({tag}) is {value}; expected {_span(allowed)}")
    return value


def _show(value: Any) -> str:
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return "[" + ", ".join(str(v) for v in value) + "] (several values)"
    return repr(value)


def _span(allowed: range | tuple[int, ...]) -> str:
    if isinstance(allowed, range):
        return f"{allowed.start}..{allowed.stop - 1}"
    return " or ".join(str(v) for v in allowed)


def _frames(ds: Any, path: Path) -> int:
    raw = ds.get("NumberOfFrames", 1)
    try:
        frames = int(raw) if raw not in (None, "") else 1
    except (TypeError, ValueError):
        raise DicomHeaderError(
            path, f"NumberOfFrames (0028,0008) is {raw!r}; expected a positive integer"
        ) from None
    if frames < 1:
        raise DicomHeaderError(path, f"NumberOfFrames (0028,0008) is {frames}; expected ≥ 1")
    return frames


def _photometric(ds: Any, path: Path, samples: int) -> str:
    value = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if not value:
        raise DicomHeaderError(path, "PhotometricInterpretation (0028,0004) is missing")
    if value in MONOCHROME and samples == 1:
        return value
    if value in COLOUR and samples == 3:
        return value
    expected = "MONOCHROME1/2 with 1 sample" if samples == 1 else "RGB or YBR_* with 3 samples"
    raise DicomHeaderError(
        path,
        f"PhotometricInterpretation (0028,0004) is {value!r} with SamplesPerPixel {samples}; "
        f"expected {expected}",
    )


def check_header(ds: Any, path: Path) -> ImageHeader:
    """Validate the Image Pixel attributes of ``ds``; raise with a precise message if wrong."""
    rows = _int(ds, path, "Rows", "0028,0010", range(1, MAX_DIMENSION + 1))
    columns = _int(ds, path, "Columns", "0028,0011", range(1, MAX_DIMENSION + 1))
    if rows * columns > MAX_PIXELS:
        raise DicomHeaderError(
            path, f"image of {rows} × {columns} pixels exceeds the limit of {MAX_PIXELS:,} pixels"
        )
    samples = _int(ds, path, "SamplesPerPixel", "0028,0002", (1, 3))
    bits_allocated = _int(ds, path, "BitsAllocated", "0028,0100", (8, 16, 32))
    bits_stored = _int(ds, path, "BitsStored", "0028,0101", range(1, bits_allocated + 1))
    representation = _int(ds, path, "PixelRepresentation", "0028,0103", (0, 1))
    ts = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if not ts:
        raise DicomHeaderError(path, "Transfer Syntax UID (0002,0010) is missing")
    return ImageHeader(
        rows=rows,
        columns=columns,
        samples=samples,
        bits_allocated=bits_allocated,
        bits_stored=bits_stored,
        pixel_representation=representation,
        photometric=_photometric(ds, path, samples),
        frames=_frames(ds, path),
        transfer_syntax=UID(str(ts)),
    )


def _pixel_data_length(ds: Any) -> tuple[int, bool, int | None]:
    """(length in bytes, undefined-length flag, file offset of the value or None)."""
    raw = ds.get_item(PIXEL_DATA)
    if hasattr(raw, "value_tell") and raw.value is None:  # deferred: read nothing yet
        undefined = raw.length == UNDEFINED_LENGTH
        return (0 if undefined else raw.length), undefined, raw.value_tell
    undefined = bool(getattr(raw, "is_undefined_length", False))
    value = raw.value
    return len(value or b""), undefined, None


def check_pixel_data(ds: Any, path: Path, header: ImageHeader) -> None:
    """Refuse absent, empty, truncated or wrongly sized Pixel Data before decoding it."""
    if PIXEL_DATA not in ds:
        raise PixelDataError(
            path, "there is no Pixel Data (7FE0,0010): the file holds a header only"
        )
    length, undefined, offset = _pixel_data_length(ds)
    if length == 0 and not undefined:
        raise PixelDataError(path, "Pixel Data (7FE0,0010) is empty (length 0)")
    size = path.stat().st_size
    if offset is not None and offset + length > size:
        raise PixelDataError(
            path,
            f"Pixel Data (7FE0,0010) declares {length:,} bytes but the file ends after "
            f"{size - offset:,}: the file is truncated",
        )
    if header.transfer_syntax.is_encapsulated:
        return
    expected = header.frame_bytes * header.frames
    if undefined or not expected <= length <= expected + 1:
        shown = f"{length:,} bytes" + (" with an undefined length" if undefined else "")
        raise PixelDataError(
            path,
            f"Pixel Data (7FE0,0010) holds {shown}; uncompressed "
            f"{header.transfer_syntax.name} needs Rows {header.rows} × Columns {header.columns}"
            f" × Samples {header.samples} × {header.bits_allocated // 8} bytes × "
            f"{header.frames} frame(s) = {expected:,} bytes",
        )


def check_transfer_syntax(path: Path, ts: UID, decodable: frozenset[str]) -> None:
    """Refuse transfer syntaxes that no installed decoder handles, naming what is missing."""
    if not ts.is_transfer_syntax:
        raise UnsupportedTransferSyntaxError(
            path,
            f"Transfer Syntax UID (0002,0010) {str(ts)[:64]!r} is not a known transfer syntax",
        )
    if ts.is_encapsulated and ts not in decodable:
        raise UnsupportedTransferSyntaxError(
            path,
            f"transfer syntax {ts.name} ({ts}) is not supported: no decoder for it is installed "
            "(CobbDesk decodes JPEG, JPEG-LS, JPEG 2000 and RLE via imagecodecs and pydicom)",
        )
