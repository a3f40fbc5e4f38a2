"""``read_film``: open one radiograph, safely, into a :class:`~cobbdesk.core.dicom.film.Film`.

Order of work: parse the header (large values deferred, so nothing big is read yet) → validate
the Image Pixel attributes and the declared Pixel Data size (:mod:`.header`) → decode only the
displayed frame → RGB/YBR to luminance → Modality LUT → metadata.  Every failure is a
:class:`~cobbdesk.core.errors.FilmError` that names the file and what is wrong; parser crashes
(RecursionError on absurdly nested sequences, MemoryError, decoder exceptions) are caught here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, pixel_array
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from cobbdesk.core.dicom import codecs, header, photo, voi
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.dicom.spacing import spacing_of
from cobbdesk.core.errors import (
    FilmError,
    MissingFileMetaError,
    NotDicomError,
    PixelDataError,
)

logger = logging.getLogger(__name__)

_DEFER = 256 * 1024  # values larger than this are read only after the header checks
#: Hashing releases the GIL, so it runs beside rendering; one thread keeps memory bounded.
_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cobbdesk-hash")
_PARSE_ERRORS = (OSError, EOFError, ValueError, TypeError, KeyError, struct.error, AttributeError)

codecs.register()
DECODABLE = frozenset(
    {*codecs.SUPPORTED, "1.2.840.10008.1.2.5"}  # RLE Lossless: pydicom's numpy decoder
)


def read_film(path: str | os.PathLike[str], force: bool = False) -> Film:
    """Read a radiograph and return it ready for display and measurement.

    Parameters
    ----------
    path
        The DICOM file, or a JPEG/PNG/TIFF photo or scan of a film (recognised by its magic
        bytes; see :mod:`.photo`).
    force
        Open a legacy file that lacks the DICOM preamble and File Meta header (ACR-NEMA style).
        Never applied silently: without it such files raise :class:`MissingFileMetaError`.

    Raises
    ------
    FilmError
        With a message naming the file and the problem (tag, value, expectation, decoder).
    """
    path = Path(path)
    try:
        if photo.image_format(path) is not None:  # JPEG/PNG/TIFF photo or scan of a film
            return photo.read_photo(path)
        return _read(path, force)
    except FilmError:
        raise
    except RecursionError:
        raise NotDicomError(path, "data elements are nested too deeply to read safely") from None
    except MemoryError:
        raise PixelDataError(path, "not enough memory to decode the image") from None


def _read(path: Path, force: bool) -> Film:
    ds, notices = _open_dataset(path, force)
    hdr = header.check_header(ds, path)
    header.check_transfer_syntax(path, hdr.transfer_syntax, DECODABLE)
    header.check_pixel_data(ds, path, hdr)
    stored = _decode_first_frame(ds, path, hdr)
    if hdr.frames > 1:
        notices.append(f"multi-frame image ({hdr.frames} frames): only the first frame is shown")
    if stored.ndim == 3:
        stored = _luminance(stored)
        notices.append(f"{hdr.photometric} colour image converted to luminance (greyscale)")
    digest = _HASHER.submit(_pixel_hash, stored)  # overlaps the rest of opening and display
    pixels = _modality(stored, ds, path)
    return _build_film(path=path, ds=ds, hdr=hdr, pixels=pixels, digest=digest, notices=notices)


def _open_dataset(path: Path, force: bool) -> tuple[Any, list[str]]:
    notices: list[str] = []
    if not path.is_file():
        raise FilmError(path, "no such file" if not path.exists() else "not a regular file")
    try:
        ds = pydicom.dcmread(path, defer_size=_DEFER)
    except InvalidDicomError:
        if not force:
            raise _no_meta_error(path) from None
        ds = _forced(path)
        notices.append(
            "opened without DICOM File Meta (forced); transfer syntax assumed "
            f"{ds.file_meta.TransferSyntaxUID.name}"
        )
    except _PARSE_ERRORS as exc:
        raise NotDicomError(path, f"the DICOM structure cannot be read: {exc}") from None
    if not ds.get("file_meta") or "TransferSyntaxUID" not in ds.file_meta:
        raise MissingFileMetaError(path, "the File Meta header has no Transfer Syntax UID")
    return ds, notices


def _no_meta_error(path: Path) -> FilmError:
    """Distinguish a legacy DICOM file without File Meta from a file that is not DICOM."""
    try:
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=True, defer_size=_DEFER)
        looks_dicom = any(tag.group in (0x0008, 0x0010, 0x0028) for tag in ds.keys())  # noqa: SIM118 (tags, not elements)
    except (*_PARSE_ERRORS, RecursionError):
        looks_dicom = False
    if looks_dicom:
        return MissingFileMetaError(
            path,
            "no DICOM preamble/File Meta header (a legacy ACR-NEMA style file); it can be "
            "opened anyway with force (command line: --force; viewer: 'Open anyway')",
        )
    return NotDicomError(path, "not a DICOM file (no 'DICM' prefix and no DICOM data elements)")


def _forced(path: Path) -> Any:
    try:
        ds = pydicom.dcmread(path, force=True, defer_size=_DEFER)
    except _PARSE_ERRORS as exc:
        raise NotDicomError(path, f"the DICOM structure cannot be read: {exc}") from None
    implicit, little = ds.original_encoding
    ts = (
        ImplicitVRLittleEndian
        if implicit
        else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    )
    ds.ensure_file_meta()
    ds.file_meta.TransferSyntaxUID = ts
    return ds


def _decode_first_frame(ds: Any, path: Path, hdr: header.ImageHeader) -> npt.NDArray[Any]:
    ts = hdr.transfer_syntax
    plugin = codecs.PLUGIN if ts in codecs.SUPPORTED else ""
    try:
        arr = pixel_array(ds, index=0 if hdr.frames > 1 else None, decoding_plugin=plugin)
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:  # decoders raise anything: report it, never crash
        decoder = plugin or "pydicom"
        raise PixelDataError(
            path, f"{ts.name} pixel data could not be decoded ({decoder}): {exc}"
        ) from None
    expected = (hdr.rows, hdr.columns) + ((3,) if hdr.samples == 3 else ())
    if arr.shape != expected:
        raise PixelDataError(path, f"decoded image is {arr.shape}, expected {expected}")
    native: npt.NDArray[Any] = arr.astype(arr.dtype.newbyteorder("="), copy=False)
    return native  # big endian → native byte order


def _luminance(rgb: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """ITU-R BT.601 luma of an RGB frame, in the input's integer type."""
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return np.rint(luma).astype(rgb.dtype)


def _pixel_hash(stored: npt.NDArray[Any]) -> str:
    """SHA-256 of the decoded stored values of the displayed frame.

    Independent of the transfer syntax (the same image JPEG-LS or uncompressed hashes the
    same), so it identifies the film even after a PACS re-encodes it.
    """
    h = hashlib.sha256(f"{stored.shape[0]}x{stored.shape[1]}:{stored.dtype.str}:".encode())
    h.update(np.ascontiguousarray(stored).data)
    return h.hexdigest()


def _modality(stored: npt.NDArray[Any], ds: Any, path: Path) -> npt.NDArray[Any]:
    """Apply the Modality LUT Sequence or Rescale Slope/Intercept (PS3.3 C.11.1)."""
    if "ModalityLUTSequence" in ds:
        try:
            return np.asarray(apply_modality_lut(stored, ds))
        except Exception as exc:
            raise PixelDataError(
                path, f"Modality LUT Sequence (0028,3000) is invalid: {exc}"
            ) from None
    try:
        slope = float(ds.get("RescaleSlope", 1) or 1)
        intercept = float(ds.get("RescaleIntercept", 0) or 0)
    except (TypeError, ValueError):
        raise PixelDataError(
            path, "Rescale Slope/Intercept (0028,1053/1052) are not numbers"
        ) from None
    if slope == 1 and intercept == 0:
        return stored
    if slope.is_integer() and intercept.is_integer():
        ends = [int(stored.min()) * int(slope) + int(intercept)]
        ends.append(int(stored.max()) * int(slope) + int(intercept))
        dtype = np.result_type(np.min_scalar_type(min(ends)), np.min_scalar_type(max(ends)))
        dtype = dtype if dtype.itemsize <= 4 else np.dtype(np.int64)
        mapped: npt.NDArray[Any] = stored.astype(dtype) * int(slope) + dtype.type(intercept)
        return mapped.astype(dtype)
    return (stored.astype(np.float32) * np.float32(slope) + np.float32(intercept)).astype(
        np.float32
    )


def _text(ds: Any, keyword: str) -> str:
    try:
        value = ds.get(keyword, "")
        return "" if value is None else str(value).strip()
    except Exception:  # undecodable character sets must not stop a film from opening
        return ""


def _build_film(
    *,
    path: Path,
    ds: Any,
    hdr: header.ImageHeader,
    pixels: npt.NDArray[Any],
    digest: Future[str],
    notices: list[str],
) -> Film:
    spacing = spacing_of(ds)
    notices.extend(spacing.notices)
    function = voi.voi_function(ds, notices)
    low, high = float(pixels.min()), float(pixels.max())
    ts = UID(hdr.transfer_syntax)
    film = Film(
        path=path,
        pixels=pixels,
        rows=hdr.rows,
        columns=hdr.columns,
        bits_stored=hdr.bits_stored,
        bits_allocated=hdr.bits_allocated,
        pixel_representation=hdr.pixel_representation,
        photometric="MONOCHROME2" if hdr.samples == 3 else hdr.photometric,
        transfer_syntax=str(ts),
        transfer_syntax_name=ts.name,
        windows=voi.windows(ds, function, notices),
        voi_luts=voi.voi_luts(ds, notices),
        voi_function=function,
        presentation_lut_shape=_text(ds, "PresentationLUTShape").upper(),
        spacing_mm=spacing.spacing_mm,
        spacing_source=spacing.source,
        digest=digest,
        pixel_range=(low, high),
        number_of_frames=hdr.frames,
        notices=notices,
        pixel_aspect=spacing.pixel_aspect,
        spacing_calibration=spacing.calibration,
    )
    for field, keyword in _TEXT_FIELDS:
        setattr(film, field, _text(ds, keyword))
    return film


_TEXT_FIELDS = (
    ("patient_id", "PatientID"),
    ("patient_name", "PatientName"),
    ("patient_birth_date", "PatientBirthDate"),
    ("patient_sex", "PatientSex"),
    ("study_date", "StudyDate"),
    ("study_instance_uid", "StudyInstanceUID"),
    ("series_instance_uid", "SeriesInstanceUID"),
    ("sop_instance_uid", "SOPInstanceUID"),
    ("modality", "Modality"),
    ("body_part_examined", "BodyPartExamined"),
    ("view_position", "ViewPosition"),
    ("series_description", "SeriesDescription"),
)
