"""A crashing decoder worker leaves the caller running; the next film loads."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.core.dicom.isolated import IsolatedReader
from cobbdesk.core.errors import NotDicomError, PixelDataError


@pytest.fixture(scope="module")
def reader() -> Iterator[IsolatedReader]:
    isolated = IsolatedReader()
    yield isolated
    isolated.close()


def test_reads_in_worker_and_errors_cross_intact(
    reader: IsolatedReader, dicom_factory: Callable[..., Path], tmp_path: Path
) -> None:
    pixels = np.arange(64, dtype=np.uint16).reshape(8, 8)
    film = reader.read(dicom_factory(pixels))
    np.testing.assert_array_equal(film.pixels, pixels)
    (tmp_path / "junk.dcm").write_bytes(b"junk" * 100)
    with pytest.raises(NotDicomError) as info:
        reader.read(tmp_path / "junk.dcm")
    assert str(info.value).startswith("junk.dcm: not a DICOM file")


def test_worker_crash_is_reported_and_next_film_loads(
    reader: IsolatedReader, dicom_factory: Callable[..., Path]
) -> None:
    with pytest.raises(PixelDataError, match="decoder crashed"):
        reader.call(Path("evil.dcm"), os.abort, timeout=60)  # test double: the worker aborts
    film = reader.read(dicom_factory(np.ones((4, 4), np.uint16)))
    assert film.pixel_range == (1, 1)


def test_hung_worker_is_stopped(reader: IsolatedReader, dicom_factory: Callable[..., Path]) -> None:
    start = time.monotonic()
    with pytest.raises(PixelDataError, match="longer than 1 s"):
        reader.call(Path("slow.dcm"), time.sleep, 30, timeout=1)
    assert time.monotonic() - start < 20
    assert reader.read(dicom_factory(np.zeros((4, 4), np.uint16))).rows == 4


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_worker_does_not_outlive_a_killed_app() -> None:
    code = (
        "import os, sys\n"
        "from cobbdesk.core.dicom.isolated import IsolatedReader\n"
        "r = IsolatedReader(); r.start().result(timeout=60)\n"
        "print(next(iter(r._pool._processes)), flush=True)\n"
        "os._exit(0)\n"  # no clean-up: as if the app were killed
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    worker = int(out.stdout.split()[0])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and Path(f"/proc/{worker}").exists():
        time.sleep(0.1)
    assert not Path(f"/proc/{worker}").exists(), "worker process outlived the app"
