"""Photos and scans of films (JPEG, PNG, TIFF) as :class:`~cobbdesk.core.dicom.film.Film`.

Retrospective studies often hold films only as JPEG exports, flatbed scans or phone photos.
:func:`read_photo` opens them with Pillow:

* recognised by their magic bytes (:func:`image_format`), never by the file name;
* EXIF Orientation (tag 0x0112, values 1–8, EXIF 2.3 §4.6.4 A) is applied with
  ``PIL.ImageOps.exif_transpose`` so the film is upright as the camera meant it;
* 8- and 16-bit greyscale are kept as stored (``uint8``/``uint16``); colour is converted to
  luminance with the ITU-R BT.601 luma weights ``Y = 0.299 R + 0.587 G + 0.114 B`` — the
  weights JPEG/JFIF itself uses for its Y channel (ITU-T T.871 §7) and the ones the DICOM
  reader uses for RGB films — with a notice; an RGB file whose three channels are equal is
  simply grey (no notice);
* the pixel hash is the reader's (SHA-256 over ``"{rows}x{cols}:{dtype}:"`` and the values),
  and the SOP Instance UID is derived from it as a UUID-derived UID (PS3.5 B.2: ``2.25.``
  followed by the decimal value of a UUID): the first 128 bits of the hash with the version
  and variant bits of an RFC 9562 §5.8 version-8 UUID.  The same pixels always get the same
  UID, so ``cobbdesk measure`` and ``cobbdesk film`` address a photo like any DICOM film;
* a photo is uncalibrated (``spacing_mm`` None) until the user calibrates it, and carries a
  notice to check for perspective distortion.  A DPI value in the file is only reported: it
  is the scanner's or camera's sampling, not a size in the patient plane.

Errors are :class:`~cobbdesk.core.errors.PixelDataError` naming the file.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from cobbdesk.core.dicom.film import Film, SpacingSource, VoiFunction
from cobbdesk.core.errors import FilmError, PixelDataError

logger = logging.getLogger(__name__)

#: Magic bytes → format name (JPEG: SOI + marker; PNG: signature; TIFF: both byte orders,
#: classic and BigTIFF).
MAGIC = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),
    (b"MM\x00+", "TIFF"),
)
EXTENSIONS = ("*.jpg", "*.jpeg", "*.png", "*.tif", "*.tiff")
"""File-dialog patterns of the formats :func:`read_photo` opens."""
PERSPECTIVE_NOTICE = (
    "photo/scan of a film: check for perspective distortion (the film must lie flat and "
    "square to the camera); uncalibrated until calibrated on an object of known length"
)
_BT601 = (0.299, 0.587, 0.114)
_SCREEN_DPI = (72.0, 96.0)  # defaults written by software, not a real sampling


def image_format(path: str | os.PathLike[str]) -> str | None:
    """``"JPEG"``, ``"PNG"`` or ``"TIFF"`` from the file's first bytes; None otherwise, for
    DICOM files (``DICM`` at byte 128, whatever the preamble holds) and when the file cannot
    be read (the caller reports that)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(132)
    except OSError:
        return None
    if head[128:132] == b"DICM":  # a DICOM file whose preamble is a TIFF header (PS3.10 7.5)
        return None
    return next((name for magic, name in MAGIC if head.startswith(magic)), None)


def photo_uid(pixel_sha256: str) -> str:
    """The UUID-derived SOP Instance UID of a photo with this pixel hash (module rules).

    >>> photo_uid("0" * 64)
    '2.25.604472133179351442128896'
    """
    raw = bytearray(bytes.fromhex(pixel_sha256[:32]))
    raw[6] = (raw[6] & 0x0F) | 0x80  # version 8 (RFC 9562 §5.8)
    raw[8] = (raw[8] & 0x3F) | 0x80  # variant 10xx (RFC 9562 §4.1)
    return "2.25." + str(int.from_bytes(raw, "big"))


def pixel_hash(stored: npt.NDArray[Any]) -> str:
    """SHA-256 of the values, in the reader's form (rows × columns, dtype, native bytes)."""
    h = hashlib.sha256(f"{stored.shape[0]}x{stored.shape[1]}:{stored.dtype.str}:".encode())
    h.update(np.ascontiguousarray(stored).data)
    return h.hexdigest()


def read_photo(path: str | os.PathLike[str]) -> Film:
    """Open a JPEG/PNG/TIFF photo or scan of a film (module rules).

    Raises :class:`PixelDataError` (the file cannot be decoded, is too large, or holds
    floating-point or 32-bit samples) or :class:`FilmError` (no such file).
    """
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise FilmError(path, "no such file" if not path.exists() else "not a regular file")
    fmt = image_format(path) or "image"
    notices: list[str] = [PERSPECTIVE_NOTICE]
    try:
        with Image.open(path) as image:
            pixels, dpi = _decode(image, path, notices)
    except (FilmError, MemoryError):
        raise
    except Image.DecompressionBombError as exc:
        raise PixelDataError(path, f"{fmt} image is too large to open safely: {exc}") from None
    except Exception as exc:  # Pillow raises anything on damaged files
        raise PixelDataError(path, f"{fmt} image cannot be decoded (Pillow): {exc}") from None
    _dpi_notice(dpi, notices)
    return _film(path, fmt, pixels, notices)


def _decode(image: Any, path: Path, notices: list[str]) -> tuple[npt.NDArray[Any], Any]:
    from PIL import ImageOps

    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        notices.append(f"multi-page image ({frames} pages): only the first is shown")
    dpi = image.info.get("dpi")
    orientation = image.getexif().get(0x0112)
    upright = ImageOps.exif_transpose(image)
    if orientation not in (None, 1):
        notices.append(f"EXIF orientation {orientation} applied (image turned upright)")
    return _grey(upright, path, notices), dpi


def _grey(image: Any, path: Path, notices: list[str]) -> npt.NDArray[Any]:
    """2-D ``uint8``/``uint16`` values of ``image`` (colour → BT.601 luma, with a notice)."""
    mode = image.mode
    if mode in ("1", "L", "LA", "La"):
        return np.asarray(image.convert("L"), dtype=np.uint8)
    if mode.startswith("I;16"):
        values = np.asarray(image)
        return values.astype(np.uint16)  # native byte order
    if mode == "I":
        values = np.asarray(image)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise PixelDataError(path, "32-bit integer images are not supported")
        return values.astype(np.uint16)
    if mode == "F":
        raise PixelDataError(path, "floating-point images are not supported")
    rgb = np.asarray(image.convert("RGB"))
    if (rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all():
        return np.ascontiguousarray(rgb[..., 0])
    notices.append(f"{mode} colour image converted to luminance (ITU-R BT.601 luma weights)")
    r, g, b = _BT601
    luma = rgb[..., 0] * r + rgb[..., 1] * g + rgb[..., 2] * b
    return np.rint(luma).astype(np.uint8)


def _dpi_notice(dpi: Any, notices: list[str]) -> None:
    try:
        x, y = (float(dpi[0]), float(dpi[1])) if dpi else (0.0, 0.0)
    except (TypeError, ValueError, IndexError):
        return
    if not (math.isfinite(x) and math.isfinite(y) and x > 0 and y > 0) or x in _SCREEN_DPI:
        return
    notices.append(
        f"the file states {x:g} × {y:g} dpi ({25.4 / y:.4g} × {25.4 / x:.4g} mm per pixel on "
        "the film); not used, because film is magnified: calibrate on an object of known length"
    )


def _film(path: Path, fmt: str, pixels: npt.NDArray[Any], notices: list[str]) -> Film:
    digest = pixel_hash(pixels)
    bits = 8 * pixels.dtype.itemsize
    logger.info("Opened a %s photo/scan (%d × %d, %d-bit)", fmt, *pixels.shape, bits)
    return Film(
        path=path,
        pixels=pixels,
        rows=int(pixels.shape[0]),
        columns=int(pixels.shape[1]),
        bits_stored=bits,
        bits_allocated=bits,
        pixel_representation=0,
        photometric="MONOCHROME2",
        transfer_syntax="",
        transfer_syntax_name=f"{fmt} image (not DICOM)",
        windows=[],
        voi_luts=[],
        voi_function=VoiFunction.LINEAR,
        presentation_lut_shape="",
        spacing_mm=None,
        spacing_source=SpacingSource.NONE,
        digest=digest,
        pixel_range=(float(pixels.min()), float(pixels.max())),
        sop_instance_uid=photo_uid(digest),
        modality="OT",
        series_description=f"{fmt} photo/scan",
        notices=notices,
    )
