"""Coded concepts and coordinates shared by the SR writer and reader.

Sources: SNOMED CT 285285000 "Cobb angle", 122494005 "Cervical spine", 122496007 "Lumbar
spine"; LOINC 24943-3 "XR Cervical spine Lateral", 24969-8 "XR Lumbar spine Lateral"; UCUM
``deg``; DCM 121071 "Finding", 112039 "Tracking Identifier" (PS3.16).  The layout follows the
Cobb-angle adapter of OHIF/cornerstone (``cornerstone3DTools@^0.1.0:CobbAngle`` tracking
identifier, one NUM "Cobb angle" with the SCOORD POLYLINE of the four points INFERRED FROM under
it), so OHIF loads the angle as its own Cobb-angle tool.

Concepts that no standard code system names (the sign convention, the template, the
calibration source, CobbDesk's exact record) use the private coding scheme ``99COBBDESK``
(PS3.16 §8: coding scheme designators beginning with "99" are private).

Coordinates: CobbDesk's image coordinates put (0, 0) at the *centre* of the top-left pixel;
DICOM SCOORD (PS3.3 C.18.6.1.1) puts it at the top-left *corner* of that pixel, so the centre
of the top-left pixel is (0.5, 0.5).  Hence SCOORD = CobbDesk + 0.5 on both axes, exactly.
"""

from __future__ import annotations

from pydicom.sr.coding import Code

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.measure.geometry import Point
from cobbdesk.core.store.records import Region

SR_CLASSES = frozenset({
    "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    "1.2.840.10008.5.1.4.1.1.88.34",  # Comprehensive 3D SR
})  # fmt: skip
"""SOP Class UIDs of the Structured Reports read and recognised (PS3.4 B.5)."""
MANUFACTURER = "CobbDesk"
"""Manufacturer (0008,0070) of the SRs CobbDesk writes."""
PRIVATE_SCHEME = "99COBBDESK"
CORNERSTONE_TAG = "cornerstone3DTools@^0.1.0"
"""The tag OHIF's cornerstone3D adapters put before ``:CobbAngle`` (``cornerstone3DTag.js``)."""
LEGACY_CORNERSTONE_TAG = "cornerstoneTools@^4.0.0"
"""The tag of OHIF's older (cornerstone 1.x) adapters, still read by OHIF."""
TRACKING_COBB = f"{CORNERSTONE_TAG}:CobbAngle"

COBB_ANGLE = Code("285285000", "SCT", "Cobb angle")
DEGREES = Code("deg", "UCUM", "degree")
FINDING_SITE = {
    Region.CERVICAL: Code("122494005", "SCT", "Cervical spine"),
    Region.LUMBAR: Code("122496007", "SCT", "Lumbar spine"),
}
PROCEDURE = {
    Region.CERVICAL: Code("24943-3", "LN", "XR Cervical spine Lateral"),
    Region.LUMBAR: Code("24969-8", "LN", "XR Lumbar spine Lateral"),
}
GENERIC_PROCEDURE = Code("XRSPINELAT", PRIVATE_SCHEME, "Lateral spine radiograph, region unknown")
LORDOSIS = Code("LORDOSIS", PRIVATE_SCHEME, "Lordotic curvature (signed Cobb angle > 0)")
KYPHOSIS = Code("KYPHOSIS", PRIVATE_SCHEME, "Kyphotic curvature (signed Cobb angle < 0)")
STRAIGHT = Code("STRAIGHT", PRIVATE_SCHEME, "Straight (signed Cobb angle = 0)")
SIGN_CONVENTION = Code("SIGN", PRIVATE_SCHEME, "Sign convention")
POSITIVE_LORDOSIS = Code(
    "LORDOSIS+", PRIVATE_SCHEME, "Cobb angle positive = lordosis, negative = kyphosis"
)
CALIBRATION = Code("CALIB", PRIVATE_SCHEME, "Calibration source")
RECORD = Code("RECORD", PRIVATE_SCHEME, "CobbDesk measurement record")
PIXEL_HASH = Code("PIXELSHA256", PRIVATE_SCHEME, "Source image pixel SHA-256")
"""TEXT: SHA-256 (64 hex digits) of the decoded pixels the angle was measured on."""
TEMPLATE = {
    "C2-C7": Code("C2-C7", PRIVATE_SCHEME, "C2 inferior endplate to C7 inferior endplate"),
    "L1-S1": Code("L1-S1", PRIVATE_SCHEME, "L1 superior endplate to S1 superior endplate"),
    "FREE": Code("FREE", PRIVATE_SCHEME, "Two endplate lines chosen by the rater"),
}


def curvature(angle: float) -> Code:
    """The finding that states the sign: lordosis (> 0), kyphosis (< 0) or straight.

    >>> curvature(-3.5).value, curvature(12.0).value
    ('KYPHOSIS', 'LORDOSIS')
    """
    if angle > 0:
        return LORDOSIS
    return KYPHOSIS if angle < 0 else STRAIGHT


def calibration_code(spacing_source: str) -> Code:
    """The calibration source (a SpacingSource value) as a private code named by the enum.

    >>> calibration_code("ImagerPixelSpacing/ERMF").value
    'IMAGER_ERMF'
    """
    source = SpacingSource(spacing_source)
    return Code(source.name, PRIVATE_SCHEME, f"Pixel spacing source: {source.value}")


def to_scoord(point: Point) -> tuple[float, float]:
    """CobbDesk (column, row) with pixel-centre origin → DICOM SCOORD (column, row).

    PS3.3 C.18.6.1.1: the top-left corner of the top-left pixel is (0, 0), its centre
    (0.5, 0.5).

    >>> to_scoord((0.0, 0.0)), to_scoord((10.25, 3.0))
    ((0.5, 0.5), (10.75, 3.5))
    """
    return (point[0] + 0.5, point[1] + 0.5)


def from_scoord(point: tuple[float, float]) -> Point:
    """DICOM SCOORD (column, row) → CobbDesk image coordinates; inverse of :func:`to_scoord`.

    >>> from_scoord((0.5, 0.5)), from_scoord((10.75, 3.5))
    ((0.0, 0.0), (10.25, 3.0))
    """
    return (float(point[0]) - 0.5, float(point[1]) - 0.5)


def uuid_to_uid(value: str) -> str:
    """A UUID as a DICOM UID under the ``2.25`` root (PS3.5 B.2).

    >>> uuid_to_uid("00000000-0000-0000-0000-00000000000a")
    '2.25.10'
    """
    import uuid

    return f"2.25.{uuid.UUID(value).int}"


def uid_to_uuid(uid: str) -> str | None:
    """The UUID inside a ``2.25`` UID, or None for any other UID (inverse of uuid_to_uid).

    >>> uid_to_uuid("2.25.10"), uid_to_uuid("1.2.3")
    ('00000000-0000-0000-0000-00000000000a', None)
    """
    import uuid

    if not uid.startswith("2.25."):
        return None
    try:
        return str(uuid.UUID(int=int(uid[5:])))
    except ValueError:
        return None
