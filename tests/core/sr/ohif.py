"""A Cobb-angle SR laid out as OHIF writes it (dcmjs ``TID300/CobbAngle.js`` under the
cornerstone3D adapter): TID 1500 report, one TID 1501 group with the tracking identifier
``cornerstone3DTools@^0.1.0:CobbAngle``, a tracking UID, a NUM "Cobb angle" (SCT 285285000,
UCUM deg, unsigned) holding an SCOORD POLYLINE (INFERRED FROM) of the four handles, which holds
the IMAGE (SELECTED FROM).  Built by hand with pydicom, independently of CobbDesk's writer."""

from __future__ import annotations

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"


def _code(value: str, scheme: str, meaning: str) -> Sequence:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return Sequence([item])


def _item(relationship: str, value_type: str, concept: tuple[str, str, str]) -> Dataset:
    item = Dataset()
    item.RelationshipType, item.ValueType = relationship, value_type
    item.ConceptNameCodeSequence = _code(*concept)
    return item


def ohif_cobb_sr(image: Dataset, points: list[tuple[float, float]], angle: float) -> Dataset:
    """The SR of one OHIF Cobb angle on ``image``; ``points`` in DICOM SCOORD coordinates."""
    ref = Dataset()
    ref.ReferencedSOPClassUID = image.SOPClassUID
    ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
    img = _item("SELECTED FROM", "IMAGE", ("111040", "DCM", "Original Source"))
    img.ReferencedSOPSequence = Sequence([ref])
    scoord = Dataset()
    scoord.RelationshipType, scoord.ValueType = "INFERRED FROM", "SCOORD"
    scoord.GraphicType = "POLYLINE"
    scoord.GraphicData = [v for p in points for v in p]
    scoord.ContentSequence = Sequence([img])
    num = _item("CONTAINS", "NUM", ("285285000", "SCT", "Cobb angle"))
    value = Dataset()
    value.MeasurementUnitsCodeSequence = _code("deg", "UCUM", "deg")
    value.NumericValue = f"{angle:.6g}"
    num.MeasuredValueSequence = Sequence([value])
    num.ContentSequence = Sequence([scoord])
    tracking = _item("HAS OBS CONTEXT", "TEXT", ("112039", "DCM", "Tracking Identifier"))
    tracking.TextValue = "cornerstone3DTools@^0.1.0:CobbAngle"
    uid = _item("HAS OBS CONTEXT", "UIDREF", ("112040", "DCM", "Tracking Unique Identifier"))
    uid.UID = generate_uid()
    group = _item("CONTAINS", "CONTAINER", ("125007", "DCM", "Measurement Group"))
    group.ContinuityOfContent = "SEPARATE"
    group.ContentSequence = Sequence([tracking, uid, num])
    measurements = _item("CONTAINS", "CONTAINER", ("126010", "DCM", "Imaging Measurements"))
    measurements.ContinuityOfContent = "SEPARATE"
    measurements.ContentSequence = Sequence([group])
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = COMPREHENSIVE_SR
    ds.SOPClassUID = COMPREHENSIVE_SR
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = image.StudyInstanceUID, generate_uid()
    ds.PatientID, ds.Modality = image.PatientID, "SR"
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    ds.ConceptNameCodeSequence = _code("126000", "DCM", "Imaging Measurement Report")
    ds.ContentSequence = Sequence([measurements])
    return ds
