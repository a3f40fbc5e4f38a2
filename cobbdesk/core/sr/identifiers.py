"""An SR's own patient identifiers, handed to redaction before any line names the SR."""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from cobbdesk.core import redact

#: The header elements that identify the patient (PS3.3 C.7.1.1, Patient Module).
NAME = "PatientName"
OTHERS = ("PatientID", "PatientBirthDate", "OtherPatientIDs")


def learn_identifiers(ds: Dataset) -> None:
    """Hand the patient identifiers of the SR dataset ``ds``'s own header (:data:`NAME`,
    :data:`OTHERS`) to redaction (:func:`cobbdesk.core.redact.remember_later`: one name, the
    other values one a line), as a film's header is when it is read: an SR's patient need not
    be in the study, and its file name or folder may hold them.  Absent elements are skipped."""
    values: list[str] = []
    for keyword in OTHERS:
        value = ds.get(keyword)
        many = isinstance(value, MultiValue | list | tuple)
        values += [str(v) for v in (value if many else [value]) if v]
    clean = (v.replace("\n", " ").strip() for v in values)
    name = str(ds.get(NAME) or "").replace("\n", " ").strip()
    redact.remember_later(name, "\n".join(v for v in clean if v))


__all__ = ["NAME", "OTHERS", "learn_identifiers"]
