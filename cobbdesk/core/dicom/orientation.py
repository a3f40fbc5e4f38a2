"""Patient Orientation (0020,0020) of a projection radiograph, read defensively.

Used by the loader (the film's facing, see :mod:`cobbdesk.core.measure.facing`) and by the
header-only import scan, which stores a facing read from it with the source ``"dicom"``.
"""

from __future__ import annotations

from typing import Any


def patient_orientation(ds: Any) -> tuple[str, str] | None:
    """Patient Orientation (0020,0020) as ``(row direction, column direction)``, or None.

    PS3.3 C.7.6.1.1.1: two values, each a string of the letters A, P, R, L, H, F (the patient
    direction along increasing column index, then along increasing row index).  A value that
    is absent, not two items or has other letters gives None (the facing is then asked or
    estimated, never guessed from a malformed header).

    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset(); ds.PatientOrientation = ["A", "F"]
    >>> patient_orientation(ds)
    ('A', 'F')
    >>> ds.PatientOrientation = ["X", "F"]; patient_orientation(ds) is None
    True
    >>> ds.PatientOrientation = "A"; patient_orientation(ds) is None
    True
    """
    try:
        value = ds.get("PatientOrientation")
        if value is None or isinstance(value, str | bytes):
            value = [] if not value else [value]
        items = [str(v).strip().upper() for v in value]
    except Exception:  # a malformed element is the same as an absent one here
        return None
    if len(items) != 2 or not all(item and set(item) <= set("APRLHF") for item in items):
        return None
    return (items[0], items[1])
