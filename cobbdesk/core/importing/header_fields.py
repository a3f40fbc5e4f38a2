"""What the import needs from one film's header, read off a parsed dataset.

:func:`header_info` turns a header parsed by :mod:`~cobbdesk.core.importing.scan` (raw data
elements, pydicom's or :mod:`~cobbdesk.core.importing.quick_header`'s) into a
:class:`HeaderInfo`: the identifiers, the text fields decoded with the Specific Character Set
(0008,0005), Rows/Columns, Patient Orientation (0020,0020) and the pixel spacing as the viewer
reads it.  Plain ASCII values are decoded without pydicom's value conversion (see
:func:`_text`).  It raises :class:`SkipError` for a DICOM object that is not an image and
:class:`FailError` for an image that cannot be identified or is truncated; the scan reports
them as skipped files and errors.

Patient names and birth dates are kept only to fill a new patient's optional identifiers;
they are excluded from ``repr`` and never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataelem import RawDataElement
from pydicom.tag import BaseTag, Tag

from cobbdesk.core.dicom.orientation import patient_orientation
from cobbdesk.core.dicom.spacing import spacing_of
from cobbdesk.core.dicom.text import element_text

ESC = b"\x1b"  # starts an ISO 2022 escape sequence (code extension, PS3.5 §6.1.2.5.3)


@dataclass(frozen=True)
class HeaderInfo:
    """What the import needs from one film's header (empty strings when absent)."""

    path: Path
    sop_instance_uid: str
    patient_id: str
    patient_name: str = field(default="", repr=False)
    birth_date: str = field(default="", repr=False)
    sex: str = ""
    study_date: str = ""
    body_part: str = ""
    series_description: str = ""
    study_description: str = ""
    view_position: str = ""
    rows: int | None = None
    columns: int | None = None
    modality: str = ""
    patient_orientation: tuple[str, str] | None = None
    """Patient Orientation (0020,0020), which gives the film's facing (source ``"dicom"``)."""
    pixel_aspect: tuple[float, float] | None = None
    """Pixel Aspect Ratio (0028,0034) of a film without spacing and with non-square pixels."""
    spacing_mm: tuple[float, float] | None = None
    """The header's pixel spacing ``(row_mm, col_mm)`` and its source below, as the viewer
    reads it (:func:`~cobbdesk.core.dicom.spacing.spacing_of`); None: no usable spacing."""
    spacing_source: str = "none"
    """:class:`~cobbdesk.core.dicom.film.SpacingSource` value of :attr:`spacing_mm`."""


class SkipError(Exception):
    """The file is not a DICOM image; the message says why."""


class FailError(Exception):
    """The file is DICOM but unusable; the message says why."""


def _text(ds: Any, keyword: str) -> str:
    """A text attribute decoded with the Specific Character Set (0008,0005); "" when absent.

    Values of ASCII bytes without an ESC (0x1B) skip pydicom's value conversion (a third of
    the scan time): every character set pydicom knows decodes such bytes as ASCII (checked in
    the tests).  Anything else — non-ASCII bytes, ISO 2022 escape sequences (PS3.5 §6.1.2.5),
    which are ASCII-only bytes — goes through pydicom, as do person names, which it splits
    into component groups before decoding (PS3.5 §6.2.1.2); see
    :func:`~cobbdesk.core.dicom.text.element_text`.
    """
    raw = ds.get_item(_tag(keyword))
    value = getattr(raw, "value", None)
    if isinstance(raw, RawDataElement) and isinstance(value, bytes) and _plain_ascii(value):
        return value.decode("ascii").strip(" \x00")
    try:
        return element_text(ds, keyword)
    except Exception:  # undecodable character sets must not stop a scan
        return ""


def _plain_ascii(value: bytes) -> bool:
    """True for bytes that decode to the same text under every character set."""
    return value.isascii() and ESC not in value


def _tag(keyword: str) -> BaseTag:
    """The tag of a dictionary keyword (looked up once per keyword)."""
    found = _TAGS.get(keyword)
    if found is None:
        found = _TAGS[keyword] = Tag(keyword)
    return found


_TAGS: dict[str, BaseTag] = {}


def _dimension(ds: Any, keyword: str, tag: str) -> int | None:
    raw = ds.get_item(_tag(keyword))
    if raw is None:
        return None
    value = getattr(raw, "value", None)
    fast = isinstance(raw, RawDataElement) and raw.is_little_endian and raw.VR == "US"
    if fast and isinstance(value, bytes) and len(value) == 2:
        number: Any = int.from_bytes(value, "little")
    else:
        number = ds[keyword].value
    if not isinstance(number, int) or isinstance(number, bool) or number <= 0:
        raise FailError(f"{keyword} ({tag}) is {number!r}; expected one positive integer")
    return number


def header_info(path: Path, ds: Any, complete: bool) -> HeaderInfo:
    """The fields; a header without Rows/Columns is a non-image object when the data go on
    past them (SR, presentation state, key object), and a truncated file when they end."""
    rows = _dimension(ds, "Rows", "0028,0010")
    columns = _dimension(ds, "Columns", "0028,0011")
    if (rows is None or columns is None) and not complete:
        raise FailError("the data end before Rows/Columns (0028,0010/0011): truncated?")
    if rows is None or columns is None:
        kind = _text(ds, "SOPClassUID") or "unknown SOP class"
        name = getattr(ds.get("SOPClassUID"), "name", kind)
        raise SkipError(f"not an image (no Rows/Columns): {name}")
    sop = _text(ds, "SOPInstanceUID")
    if not sop:
        raise FailError("SOP Instance UID (0008,0018) is missing; the film cannot be identified")
    spacing = spacing_of(ds)
    return HeaderInfo(
        path=path,
        sop_instance_uid=sop,
        patient_id=_text(ds, "PatientID"),
        patient_name=_text(ds, "PatientName"),
        birth_date=_text(ds, "PatientBirthDate"),
        sex=_text(ds, "PatientSex"),
        study_date=_text(ds, "StudyDate"),
        body_part=_text(ds, "BodyPartExamined"),
        series_description=_text(ds, "SeriesDescription"),
        study_description=_text(ds, "StudyDescription"),
        view_position=_text(ds, "ViewPosition"),
        rows=rows,
        columns=columns,
        modality=_text(ds, "Modality"),
        patient_orientation=patient_orientation(ds),
        pixel_aspect=spacing.pixel_aspect,
        spacing_mm=spacing.spacing_mm,
        spacing_source=str(spacing.source),
    )
