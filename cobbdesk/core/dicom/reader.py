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
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from cobbdesk.core.dicom import codecs, faults, header, photo, pixels, voi
from cobbdesk.core.dicom.film import Film
from cobbdesk.core.dicom.orientation import patient_orientation
from cobbdesk.core.dicom.pixels import value_range
from cobbdesk.core.dicom.spacing import spacing_of
from cobbdesk.core.dicom.stored import padding_mask
from cobbdesk.core.dicom.text import clean_decoded
from cobbdesk.core.errors import (
    FilmError,
    MissingFileMetaError,
    NotDicomError,
    PixelDataError,
)
from cobbdesk.core.library_warnings import reading

logger = logging.getLogger(__name__)

_DEFER = 256 * 1024  # values larger than this are read only after the header checks
#: Hashing releases the GIL, so it runs beside rendering; one thread keeps memory bounded.
_HASHER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cobbdesk-hash")

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
        with reading(path):  # library warnings name this file (core.library_warnings)
            if photo.image_format(path) is not None:  # JPEG/PNG/TIFF photo or scan of a film
                return photo.read_photo(path)
            return _read(path, force)
    except FilmError as exc:
        if exc.problem.isprintable():
            raise
        raise type(exc)(path, faults.one_line(exc.problem)) from None
    except RecursionError:
        raise NotDicomError(path, "data elements are nested too deeply to read safely") from None
    except MemoryError:
        raise PixelDataError(path, "not enough memory to decode the image") from None
    except Exception as exc:  # any parser/decoder exception becomes one line naming the element
        raise faults.film_error(path, exc) from None


def _read(path: Path, force: bool) -> Film:
    ds, notices = _open_dataset(path, force)
    hdr = header.check_header(ds, path)
    header.check_transfer_syntax(path, hdr.transfer_syntax, DECODABLE)
    header.check_pixel_data(ds, path, hdr)
    stored = pixels.decode_first_frame(ds, path, hdr)
    if hdr.frames > 1:
        notices.append(f"multi-frame image ({hdr.frames} frames): only the first frame is shown")
    if stored.ndim == 3:
        stored = _luminance(stored)
        notices.append(f"{hdr.photometric} colour image converted to luminance (greyscale)")
    digest = _HASHER.submit(_pixel_hash, stored)  # overlaps the rest of opening and display
    signed = hdr.pixel_representation == 1
    padding, note = padding_mask(stored, ds, hdr.bits_allocated, hdr.bits_stored, signed)
    notices.extend([note] if note else [])
    mapped, voi_signed = pixels.modality(stored, ds, path, hdr, notices)
    return _build_film(
        path=path,
        ds=ds,
        hdr=hdr,
        pixels=mapped,
        digest=digest,
        notices=notices,
        extra={"padding": padding, "voi_signed": voi_signed},
    )


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
    except Exception as exc:  # zlib.error, NotImplementedError, BytesLengthException …
        raise faults.film_error(path, exc) from None
    if not ds.get("file_meta") or "TransferSyntaxUID" not in ds.file_meta:
        raise MissingFileMetaError(path, "the File Meta header has no Transfer Syntax UID")
    return ds, notices


def _no_meta_error(path: Path) -> FilmError:
    """Distinguish a legacy DICOM file without File Meta from a file that is not DICOM."""
    try:
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=True, defer_size=_DEFER)
        looks_dicom = any(tag.group in (0x0008, 0x0010, 0x0028) for tag in ds.keys())  # noqa: SIM118 (tags, not elements)
    except Exception:  # any failure means: not readable as DICOM
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
    except Exception as exc:
        raise faults.film_error(path, exc) from None
    implicit, little = ds.original_encoding
    ts = (
        ImplicitVRLittleEndian
        if implicit
        else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    )
    ds.ensure_file_meta()
    ds.file_meta.TransferSyntaxUID = ts
    return ds


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


def _text(ds: Any, keyword: str) -> str:
    try:
        value = ds.get(keyword, "")
        return "" if value is None else clean_decoded(str(value)).strip()
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
    extra: dict[str, Any],
) -> Film:
    spacing = spacing_of(ds)
    notices.extend(spacing.notices)
    function = voi.voi_function(ds, notices)
    padding = extra["padding"]
    low, high = value_range(pixels, padding)
    little = hdr.transfer_syntax.is_little_endian
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
        voi_luts=voi.voi_luts(ds, notices, extra["voi_signed"], little),
        voi_function=function,
        presentation_lut_shape=_text(ds, "PresentationLUTShape").upper(),
        spacing_mm=spacing.spacing_mm,
        spacing_source=spacing.source,
        digest=digest,
        pixel_range=(low, high),
        number_of_frames=hdr.frames,
        notices=notices,
        padding=padding,
        pixel_aspect=spacing.pixel_aspect,
        spacing_calibration=spacing.calibration,
    )
    for field, keyword in _TEXT_FIELDS:
        setattr(film, field, _text(ds, keyword))
    film.patient_orientation = patient_orientation(ds)
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
