"""Shared fixtures: where ../shared/data lives, and a factory of synthetic DICOM files.

Real radiographs are read in place from ``../shared/data`` (never copied into the repo);
tests that need them are skipped with a clear reason when that folder is absent.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("COBBDESK_SHARED_DATA", REPO.parent / "shared" / "data"))

DX_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.1.1"  # Digital X-Ray Image Storage - For Presentation


def shared_files(folder: str) -> list[Path]:
    """The .dcm files of ``../shared/data/<folder>`` (empty when the folder is absent)."""
    base = SHARED_DATA / folder
    return sorted(base.glob("*.dcm")) if base.is_dir() else []


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA} (set COBBDESK_SHARED_DATA)")
    return SHARED_DATA


def make_dataset(
    pixels: np.ndarray,
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    pixel_spacing: tuple[float, float] | None = (0.15, 0.15),
    **attrs: Any,
) -> Dataset:
    """A minimal, valid DX dataset around ``pixels`` (2-D, or 3-D for RGB / multi-frame)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = DX_SOP_CLASS
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = DX_SOP_CLASS
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.PatientID = "SYN-001"
    ds.PatientName = "Synthetic^Patient"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "F"
    ds.StudyDate = "20260101"
    ds.Modality = "DX"
    ds.BodyPartExamined = "CSPINE"
    ds.ViewPosition = "LL"
    is_color = pixels.ndim == 3 and pixels.shape[-1] == 3 and photometric in ("RGB", "YBR_FULL")
    ds.SamplesPerPixel = 3 if is_color else 1
    if is_color:
        ds.PlanarConfiguration = 0
    elif pixels.ndim == 3:
        ds.NumberOfFrames = pixels.shape[0]
    ds.PhotometricInterpretation = photometric
    rows, cols = pixels.shape[1:3] if (pixels.ndim == 3 and not is_color) else pixels.shape[:2]
    ds.Rows, ds.Columns = int(rows), int(cols)
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = bits_stored or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    if pixel_spacing is not None:
        ds.PixelSpacing = [f"{pixel_spacing[0]:g}", f"{pixel_spacing[1]:g}"]
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.PixelData = np.ascontiguousarray(pixels).astype(pixels.dtype.newbyteorder("<")).tobytes()
    return ds


@pytest.fixture
def dicom_factory(tmp_path: Path) -> Callable[..., Path]:
    """Write ``make_dataset(...)`` to a file in tmp_path and return its path."""
    counter = iter(range(10_000))

    def factory(pixels: np.ndarray, name: str | None = None, **kwargs: Any) -> Path:
        ds = make_dataset(pixels, **kwargs)
        path = tmp_path / (name or f"film{next(counter)}.dcm")
        ds.save_as(path, enforce_file_format=True)
        return path

    return factory


@pytest.fixture
def make_ds() -> Callable[..., Dataset]:
    """The :func:`make_dataset` builder, for tests that edit a dataset before saving it."""
    return make_dataset


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Tear Qt down while the QApplication is alive.

    Widgets left for the interpreter's final garbage collection can crash PySide6 during
    finalization (after every test has passed); deleting them here avoids that.
    """
    import gc
    import sys

    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return
    for widget in QApplication.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
    gc.collect()


@pytest.fixture(autouse=True)
def _forget_identifiers() -> Any:
    """Identifiers remembered for redaction (cobbdesk.core.redact) do not leak across tests."""
    from cobbdesk.core import redact

    yield
    redact.forget_all()


@pytest.fixture(scope="session")
def pg_cluster() -> Any:
    """A throwaway PostgreSQL cluster for this test session (tests/pgcluster.py), or a skip
    naming why none could be started (PostgreSQL not installed, initdb failed...)."""
    from tests.pgcluster import Cluster

    try:
        import pg8000  # noqa: F401
    except ImportError:
        pytest.skip("pg8000 is not installed (pip install -e .[test])")
    cluster = None
    try:
        cluster = Cluster()
        cluster.start()
    except Exception as exc:  # any reason: the PostgreSQL tests are skipped, saying why
        if cluster is not None:
            cluster.stop()
        pytest.skip(f"no PostgreSQL server for the tests: {str(exc).splitlines()[0][:200]}")
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: Any) -> str:
    """The URL of a fresh, empty study location (a schema) on the session's cluster."""
    return str(pg_cluster.new_study_url())
