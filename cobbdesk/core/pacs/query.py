"""C-FIND: studies, series and instances of a PACS (Study Root model, PS3.4 C.6.2).

Every response generator is drained into a list before the next request is sent on the same
association: a second request while pynetdicom's generator is still open would run inside
the first one's exchange and the peer aborts the association.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset

from cobbdesk.core.pacs.node import STUDY_ROOT_FIND, Node, PacsError, associate, query_contexts

IMAGE_MODALITIES = ("CR", "DX")
_STUDY_KEYS = ("PatientID", "PatientName", "PatientBirthDate", "StudyInstanceUID", "StudyDate",
               "AccessionNumber", "StudyDescription", "ModalitiesInStudy",
               "NumberOfStudyRelatedInstances")  # fmt: skip
_SERIES_KEYS = ("SeriesInstanceUID", "Modality", "SeriesNumber", "SeriesDescription",
                "BodyPartExamined", "NumberOfSeriesRelatedInstances")  # fmt: skip


@dataclass(frozen=True)
class Query:
    """What to search for; empty fields match anything.  ``date_from``/``date_to`` are DICOM
    dates (YYYYMMDD) forming a range match (PS3.4 C.2.2.2.5); ``modalities`` filters series."""

    patient_id: str = ""
    patient_name: str = ""
    accession: str = ""
    study_uid: str = ""
    date_from: str = ""
    date_to: str = ""
    modalities: tuple[str, ...] = IMAGE_MODALITIES
    series_uids: tuple[str, ...] = ()
    """When given, only these series (of the matching studies) are listed or retrieved."""

    def keeps(self, series: Any) -> bool:
        """Whether a found series (a Dataset or a dict of its keys) passes the filters."""
        modality, uid = str(series.get("Modality", "")), str(series.get("SeriesInstanceUID", ""))
        return ((not self.modalities or modality in self.modalities)
                and (not self.series_uids or uid in self.series_uids))  # fmt: skip

    def identifier(self) -> Dataset:
        """The STUDY-level C-FIND identifier (PS3.4 C.6.2): the study return keys empty, the
        search fields as given, and ``StudyDate`` as the range ``date_from-date_to`` when either
        is set.
        """
        ds = Dataset()
        ds.QueryRetrieveLevel = "STUDY"
        for key in _STUDY_KEYS:
            setattr(ds, key, "")
        ds.PatientID, ds.PatientName = self.patient_id, self.patient_name
        ds.AccessionNumber, ds.StudyInstanceUID = self.accession, self.study_uid
        if self.date_from or self.date_to:
            ds.StudyDate = f"{self.date_from}-{self.date_to}"
        return ds


def _value(ds: Dataset, key: str) -> Any:
    value = ds.get(key, "")
    value = "" if value is None else value
    if key == "ModalitiesInStudy":
        return [str(v) for v in value] if not isinstance(value, str) else [v for v in [value] if v]
    if key.startswith("NumberOf") or key == "SeriesNumber":
        text = str(value).strip()
        return int(text) if text.lstrip("-").isdigit() else None
    return str(value)


def _drain(assoc: Any, identifier: Dataset, node: Node) -> list[Dataset]:
    """All pending identifiers of one C-FIND, the generator drained before returning."""
    found: list[Dataset] = []
    for status, ds in list(assoc.send_c_find(identifier, STUDY_ROOT_FIND)):
        if not status or "Status" not in status:
            raise PacsError(None, f"PACS {node.label}: C-FIND timed out or the link dropped")
        code = int(status.Status)
        if code in (0xFF00, 0xFF01) and ds is not None:
            found.append(ds)
        elif code != 0x0000:
            raise PacsError(None, f"PACS {node.label} refused the C-FIND (status 0x{code:04X})")
    return found


def find_studies(node: Node, query: Query, *, with_series: bool = True) -> list[dict[str, Any]]:
    """Studies matching ``query`` (dicts of the study keys), each with ``series`` (dicts of
    the series keys, filtered by ``query.modalities``) when ``with_series``."""
    assoc = associate(node, query_contexts((STUDY_ROOT_FIND,)))
    try:
        studies = [{k: _value(ds, k) for k in _STUDY_KEYS}
                   for ds in _drain(assoc, query.identifier(), node)]  # fmt: skip
        for study in studies if with_series else []:
            series = _drain(assoc, _series_identifier(study["StudyInstanceUID"]), node)
            study["series"] = [
                {k: _value(ds, k) for k in _SERIES_KEYS} for ds in series if query.keeps(ds)
            ]  # fmt: skip
    finally:
        assoc.release()
    return studies


def _series_identifier(study_uid: str) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "SERIES"
    ds.StudyInstanceUID = study_uid
    for key in _SERIES_KEYS:
        setattr(ds, key, "")
    return ds


def find_instances(node: Node, assoc: Any, study_uid: str, series_uid: str) -> list[str]:
    """SOP Instance UIDs of one series (IMAGE level), on an open association."""
    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = study_uid, series_uid, ""
    return [str(found.SOPInstanceUID) for found in _drain(assoc, ds, node)]


__all__ = ["IMAGE_MODALITIES", "Query", "find_instances", "find_studies"]
