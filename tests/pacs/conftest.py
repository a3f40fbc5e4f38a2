"""The loopback archive, loaded once per session with generated films of one patient: two
studies (DX uncompressed, DX JPEG lossless, DX JPEG-LS; a CR a month later) and an MR series
that a CR/DX retrieve must leave out."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.conftest import make_dataset
from tests.pacs.archive import Archive, start

PATIENT = "PACS-0001"
CR = "1.2.840.10008.5.1.4.1.1.1"


def _films(folder: Path) -> list[tuple[Path, str]]:
    """Generated films and the transfer syntax each was compressed to."""
    rng = np.random.default_rng(16)
    studies = [(generate_uid(), "20260105"), (generate_uid(), "20260406")]
    made: list[tuple[Path, str]] = []
    for n, (compress, study, modality) in enumerate([
        ("", studies[0], "DX"), ("dcmcjpeg", studies[0], "DX"), ("dcmcjpls", studies[0], "DX"),
        ("", studies[1], "CR"), ("", studies[1], "MR"),
    ]):  # fmt: skip
        ds = make_dataset(rng.integers(0, 4095, (128, 96), dtype=np.uint16), bits_stored=12,
                          PatientID=PATIENT, StudyInstanceUID=study[0], StudyDate=study[1],
                          Modality=modality, SeriesInstanceUID=generate_uid())  # fmt: skip
        if modality == "CR":
            ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CR
        path = folder / f"film{n}.dcm"
        ds.save_as(path, enforce_file_format=True)
        if compress and shutil.which(compress):
            out = folder / f"film{n}.{compress}.dcm"
            subprocess.run([compress, str(path), str(out)], check=True, capture_output=True)
            path.unlink()
            path = out
        made.append((path, compress))
    return made


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    folder = tmp_path_factory.mktemp("orthanc")
    started = start(folder)
    if isinstance(started, str):
        pytest.skip(started)
    try:
        films = folder / "films"
        films.mkdir()
        for path, _ in _films(films):
            started.upload(path)
        yield started
    finally:
        started.stop()
