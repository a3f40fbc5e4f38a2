"""Read the Cobb angles of a DICOM SR (CobbDesk's own and OHIF/cornerstone's): every TID 1501
measurement group holding a NUM "Cobb angle" (SCT 285285000) with an SCOORD POLYLINE of four
points under it and the IMAGE it was selected from, as both CobbDesk
(:mod:`~cobbdesk.core.sr.writer`) and OHIF's cornerstone adapter (``…:CobbAngle``) write it.
SCOORD coordinates are converted to CobbDesk's pixel-centre origin
(:func:`~cobbdesk.core.sr.codes.from_scoord`).  What is done with them:
:mod:`~cobbdesk.core.sr.reader`.  A damaged file (an attribute absent, empty or of the wrong
type) is refused whole, in one line naming the group.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.measure.geometry import Point
from cobbdesk.core.sr import codes as c
from cobbdesk.core.sr.content import children as _children
from cobbdesk.core.sr.content import code_of as _code
from cobbdesk.core.sr.content import walk as _walk
from cobbdesk.core.sr.identifiers import learn_identifiers
from cobbdesk.core.sr.pixels import stated_signed
from cobbdesk.core.sr.record import parse_record


@dataclass(frozen=True)
class SrCobb:
    """One Cobb-angle group as found in an SR: points in CobbDesk coordinates (upper/first line
    start, end, lower/second line start, end, in the polyline's order)."""

    group: int
    referenced_sop_instance_uid: str
    points: tuple[Point, Point, Point, Point]
    scoord: tuple[float, ...]
    stored_angle: float | None
    tracking_uid: str
    tracking_identifier: str
    record: dict[str, Any] | None
    observer: str
    pixel_sha256: str = ""
    """The source image pixel SHA-256 CobbDesk's SRs carry ("" when absent)."""
    signed: float | None = None
    """The signed angle the group states by its Finding / sign convention, record or not
    (:func:`~cobbdesk.core.sr.pixels.stated_signed`); None for OHIF's |angle|."""


def is_sr(path: str | Path) -> bool:
    """True when ``path`` is a DICOM file of a Structured Report SOP class."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
    except Exception:  # not DICOM at all: not an SR
        return False
    return str(ds.get("SOPClassUID", "")) in c.SR_CLASSES


def _observer(ds: Dataset) -> str:
    for item in _children(ds):
        if item.get("ValueType") == "PNAME" and _code(item) == ("121008", "DCM"):
            return str(item.PersonName).removesuffix("^")
    return ""


def read_report(path: str | Path) -> tuple[Dataset, list[SrCobb]]:
    """The SR dataset and its Cobb-angle groups; ValidationError when it is no SR.  The
    identifiers of a readable file's header are handed to redaction first
    (:func:`~cobbdesk.core.sr.identifiers.learn_identifiers`), before any line can name the file."""
    source = Path(path)
    try:
        ds = pydicom.dcmread(source)
    except Exception as exc:
        raise ValidationError(source, f"cannot read the DICOM file: {exc}") from None
    learn_identifiers(ds)
    if str(ds.get("SOPClassUID", "")) not in c.SR_CLASSES:
        raise ValidationError(source, "SOP Class UID (0008,0016) is not a Structured Report")
    number = 0
    try:
        observer = _observer(ds)
        groups = [i for i in _walk(ds) if i.get("ValueType") == "CONTAINER"
                  and _code(i) == ("125007", "DCM")]  # fmt: skip
        found = []
        for number, group in enumerate(groups, 1):
            found.append(_cobb(group, number, observer, source))
        str(ds.SOPInstanceUID)  # the SR's own UID: every report names it
    except _DAMAGED as exc:  # an attribute of the wrong VR, absent or empty: this file refused
        where = f"group {number}" if number else "the SR's content tree"
        raise ValidationError(source, f"{where}: a content item is damaged ({type(exc).__name__}: "
                              "an attribute absent, empty or of the wrong type); the SR was "
                              "refused") from None  # fmt: skip
    return ds, [f for f in found if f is not None]


_DAMAGED = (AttributeError, TypeError, ValueError, IndexError, KeyError, OverflowError)
"""What reading a damaged SR's attributes raises (pydicom's values as found in the file)."""


def _cobb(group: Dataset, number: int, observer: str, source: Path) -> SrCobb | None:
    items = _children(group)
    num = next((i for i in items if i.get("ValueType") == "NUM"
                and _code(i) == (c.COBB_ANGLE.value, "SCT")), None)  # fmt: skip
    if num is None:
        return None
    scoord = next((i for i in _children(num) if i.get("ValueType") == "SCOORD"), None)
    values = None if scoord is None else scoord.get("GraphicData")
    data = tuple(float(v) for v in values) if values is not None and len(values) == 8 else ()
    if scoord is None or scoord.get("GraphicType") != "POLYLINE" or len(data) != 8:
        raise ValidationError(source, f"group {number}: the Cobb angle has no 4-point POLYLINE "
                              "(SCOORD Graphic Data (0070,0022) absent, empty or not 8 "
                              "values)")  # fmt: skip
    if not all(math.isfinite(v) for v in data):
        raise ValidationError(source, f"group {number}: the POLYLINE's Graphic Data (0070,0022) "
                              "holds a value that is not a finite number")  # fmt: skip
    image = next((i for i in _children(scoord) if i.get("ValueType") == "IMAGE"), None)
    if image is None or not image.get("ReferencedSOPSequence"):
        raise ValidationError(source, f"group {number}: the POLYLINE names no source image")
    pts = tuple(c.from_scoord((data[i], data[i + 1])) for i in range(0, 8, 2))
    texts = {_code(i): str(i.get("TextValue", "")) for i in items if i.get("ValueType") == "TEXT"}
    uid = next((str(i.UID) for i in items if i.get("ValueType") == "UIDREF"
                and _code(i) == ("112040", "DCM")), "")  # fmt: skip
    record_text = texts.get((c.RECORD.value, c.PRIVATE_SCHEME))
    return SrCobb(
        group=number,
        referenced_sop_instance_uid=str(image.ReferencedSOPSequence[0].ReferencedSOPInstanceUID),
        points=pts,  # type: ignore[arg-type]
        scoord=data,
        stored_angle=_value(num),
        tracking_uid=uid,
        tracking_identifier=texts.get(("112039", "DCM"), ""),
        record=parse_record(record_text, number, source) if record_text else None,
        observer=observer,
        pixel_sha256=texts.get((c.PIXEL_HASH.value, c.PRIVATE_SCHEME), "").strip(),
        signed=stated_signed(items, _value(num)),
    )


def _value(num: Dataset) -> float | None:
    seq = num.get("MeasuredValueSequence")
    if not seq or "NumericValue" not in seq[0]:
        return None
    value = float(seq[0].NumericValue)
    return value if math.isfinite(value) else None


__all__ = ["SrCobb", "is_sr", "read_report"]
