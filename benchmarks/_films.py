"""Generated benchmark films (no real data): a 12-bit DX film with anatomy-like structure."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

DX = "1.2.840.10008.5.1.4.1.1.1.1"


def film_pixels(rows: int = 2500, columns: int = 3000, seed: int = 1) -> np.ndarray:
    """Smooth 'anatomy' plus quantum noise: compresses like a real 12-bit radiograph."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:rows, 0:columns].astype(np.float32)
    body = 1800 + 900 * np.sin(x / 170) * np.cos(y / 230) + 400 * np.sin((x + y) / 37)
    return np.clip(body + rng.normal(0, 25, body.shape), 0, 4095).astype(np.uint16)


def write_dx(path: Path, pixels: np.ndarray) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = DX
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = DX, ds.file_meta.MediaStorageSOPInstanceUID
    ds.PatientID, ds.Modality, ds.PhotometricInterpretation = "BENCH", "DX", "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored, ds.HighBit = 1, 16, 12, 11
    ds.PixelRepresentation = 0
    ds.PixelSpacing = ["0.143", "0.143"]
    ds.WindowCenter, ds.WindowWidth = "2048", "4096"
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def jpeg_lossless(source: Path, target: Path) -> Path:
    """``dcmcjpeg +e1`` (JPEG lossless, process 14 SV1), as the issue specifies."""
    if shutil.which("dcmcjpeg") is None:
        raise SystemExit("DCMTK dcmcjpeg not found: run packaging/bootstrap.sh first")
    subprocess.run(["dcmcjpeg", "+e1", str(source), str(target)], check=True)
    return target
