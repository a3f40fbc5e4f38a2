"""Writing a :class:`~cobbdesk.synth.spine.SyntheticSpine` as a DX DICOM file.

MONOCHROME1 stores ``max - v`` (with Presentation LUT Shape INVERSE, as the DX IOD requires) so
that it displays the same anatomy as MONOCHROME2; JPEG lossless (process 14, SV1) is encoded
with imagecodecs and encapsulated with pydicom.  UIDs are derived deterministically from the
pixels and arguments, so the same call writes a byte-identical file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydicom.dataset import Dataset, FileMetaDataset

from cobbdesk.synth.spine import SyntheticSpine, pixel_digest

DX_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.1.1"


def _uid(*parts: object) -> str:
    """A deterministic UID derived from ``parts``."""
    from pydicom.uid import generate_uid

    return str(generate_uid(entropy_srcs=[str(p) for p in parts]))


def write_dicom(
    spine: SyntheticSpine,
    path: str | Path,
    *,
    photometric: Literal["MONOCHROME2", "MONOCHROME1"] = "MONOCHROME2",
    transfer_syntax: Literal["explicit", "jpeg-lossless"] = "explicit",
    patient_id: str = "SYN-0001",
    patient_name: str = "",
    study_date: str = "20260101",
    sop_instance_uid: str | None = None,
    spacing_tag: Literal["PixelSpacing", "ImagerPixelSpacing"] | None = "PixelSpacing",
    body_part: str | None = None,
    view_position: str = "LL",
    series_description: str | None = None,
    ermf: float | None = None,
    window: tuple[float, float] | None = None,
) -> Path:
    """Write ``spine`` as a DX "For Presentation" file and return its path.

    MONOCHROME1 stores ``max - value`` (with Presentation LUT Shape INVERSE, so it displays the
    same anatomy).  ``spacing_tag`` None leaves the film uncalibrated.  ImagerPixelSpacing is
    the detector-plane spacing, ``spine.spacing_mm * ermf`` when ``ermf`` is given (so dividing
    by the ERMF recovers the anatomy's spacing).  ``window`` (centre, width) is written as given;
    by default it covers the anatomy.  UIDs not given are derived from the pixels and arguments.
    """
    ds = _dataset(
        spine,
        photometric,
        patient_id=patient_id,
        patient_name=patient_name,
        study_date=study_date,
        view_position=view_position,
    )
    digest = pixel_digest(spine)
    ds.SOPInstanceUID = sop_instance_uid or _uid(
        "sop", digest, photometric, transfer_syntax, spacing_tag, ermf, patient_id
    )
    ds.StudyInstanceUID = _uid("study", patient_id, study_date, spine.seed)
    ds.SeriesInstanceUID = _uid("series", ds.StudyInstanceUID, spine.region, digest)
    ds.BodyPartExamined = body_part or ("CSPINE" if spine.region == "cervical" else "LSPINE")
    ds.SeriesDescription = series_description or (
        f"Synthetic lateral {'C' if spine.region == 'cervical' else 'L'}-spine"
    )
    _set_spacing(ds, spine, spacing_tag, ermf)
    stored = spine.pixels
    centre, width = window or spine.default_window()
    if photometric == "MONOCHROME1":
        stored = ((1 << spine.bits_stored) - 1 - spine.pixels).astype(np.uint16)
        centre = centre if window else (1 << spine.bits_stored) - 1 - centre
    ds.WindowCenter, ds.WindowWidth = f"{centre:g}", f"{width:g}"
    _set_pixels(ds, stored, spine.bits_stored, transfer_syntax)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    out = Path(path)
    ds.save_as(out, enforce_file_format=True)
    return out


def _dataset(
    spine: SyntheticSpine,
    photometric: str,
    *,
    patient_id: str,
    patient_name: str,
    study_date: str,
    view_position: str,
) -> Dataset:
    """Patient, study, series, equipment and DX image attributes (no UIDs, no pixels)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = DX_SOP_CLASS
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = DX_SOP_CLASS
    ds.ImageType = ["DERIVED", "PRIMARY", ""]
    ds.PatientName, ds.PatientID = patient_name, patient_id
    ds.PatientBirthDate, ds.PatientSex = "", ""
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = study_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "090000"
    ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID = "", "", "1"
    ds.Modality, ds.Manufacturer = "DX", "CobbDesk synthetic"
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ViewPosition, ds.ImageLaterality = view_position, "U"
    ds.PatientOrientation = ["A" if spine.facing == "right" else "P", "F"]
    ds.BurnedInAnnotation, ds.LossyImageCompression = "NO", "00"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.Rows, ds.Columns = spine.pixels.shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, spine.bits_stored, spine.bits_stored - 1
    ds.PixelRepresentation = 0
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "0", "1", "US"
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1 if photometric == "MONOCHROME1" else -1
    ds.PresentationLUTShape = "INVERSE" if photometric == "MONOCHROME1" else "IDENTITY"
    return ds


def _set_spacing(ds: Dataset, spine: SyntheticSpine, tag: str | None, ermf: float | None) -> None:
    """PixelSpacing, or ImagerPixelSpacing (detector plane), and the optional ERMF."""
    factor = ermf if (ermf and tag == "ImagerPixelSpacing") else 1.0
    values = [f"{v * factor:.6g}" for v in spine.spacing_mm]
    if tag == "PixelSpacing":
        ds.PixelSpacing = values
    elif tag == "ImagerPixelSpacing":
        ds.ImagerPixelSpacing = values
    elif tag is not None:
        raise ValueError(f"spacing_tag must be PixelSpacing, ImagerPixelSpacing or None: {tag}")
    if ermf is not None:
        ds.EstimatedRadiographicMagnificationFactor = f"{ermf:.6g}"


def _set_pixels(ds: Dataset, stored: npt.NDArray[np.uint16], bits: int, syntax: str) -> None:
    """Native little-endian OW, or one JPEG Lossless SV1 fragment in encapsulated OB."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import ExplicitVRLittleEndian, JPEGLosslessSV1

    if syntax == "explicit":
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.PixelData = np.ascontiguousarray(stored, dtype="<u2").tobytes()
        ds["PixelData"].VR = "OW"
    elif syntax == "jpeg-lossless":
        import imagecodecs

        frame = imagecodecs.jpeg8_encode(
            np.ascontiguousarray(stored), lossless=True, bitspersample=bits, predictor=1
        )
        ds.file_meta.TransferSyntaxUID = JPEGLosslessSV1
        ds.PixelData = encapsulate([bytes(frame)])
        ds["PixelData"].VR = "OB"
        ds["PixelData"].is_undefined_length = True
    else:
        raise ValueError(f"transfer_syntax must be explicit or jpeg-lossless: {syntax}")
