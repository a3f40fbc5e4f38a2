"""PACS retrieve benchmark: C-GET of 100 films of 7.5 MP from a loopback Orthanc into a new
study, against DCMTK ``getscu`` fetching the same study in the same run.

Films: 2,500 × 3,000 px (7.5 MP), 16-bit, uncompressed, one patient, one study, generated
(noise, so nothing compresses on the way).  Measured: CobbDesk's :func:`retrieve` (C-GET,
whole-file staging, then the import into the study) and ``getscu`` (C-GET to a folder, no
import); films/s of each and CobbDesk's time over getscu's.  Prints figures; asserts nothing.

    python benchmarks/bench_pacs.py [--films 100] [--repeat 2]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pydicom.uid import generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cobbdesk.core.pacs.node import Node
from cobbdesk.core.pacs.query import Query
from cobbdesk.core.pacs.retrieve import retrieve
from cobbdesk.core.store import Study
from tests.conftest import make_dataset
from tests.pacs.archive import AET, start

ROWS, COLUMNS = 3000, 2500
PATIENT = "BENCH-0001"


def _load(archive: object, folder: Path, films: int) -> str:
    rng = np.random.default_rng(7)
    study_uid, series_uid = generate_uid(), generate_uid()
    pixels = rng.integers(0, 4095, (ROWS, COLUMNS), dtype=np.uint16)
    for n in range(films):
        pixels[0, 0] = n  # distinct pixel data per film
        ds = make_dataset(pixels, bits_stored=12, PatientID=PATIENT, StudyInstanceUID=study_uid,
                          SeriesInstanceUID=series_uid, StudyDate="20260105")  # fmt: skip
        path = folder / "film.dcm"
        ds.save_as(path, enforce_file_format=True)
        archive.upload(path)  # type: ignore[attr-defined]
    return study_uid


def _cobbdesk(node: Node, folder: Path) -> float:
    with Study.create(folder / "s.cobbdesk", actor="bench") as study:
        began = time.perf_counter()
        report = retrieve(study, node, Query(patient_id=PATIENT))
        took = time.perf_counter() - began
        assert report.ok and report.arrived == len(study.films()), report.fault
    return took


def _getscu(node: Node, study_uid: str, folder: Path) -> float:
    out = folder / "getscu"
    out.mkdir()
    began = time.perf_counter()
    subprocess.run(
        ["getscu", "-aet", "COBBDESK", "-aec", node.called_aet, node.host, str(node.port),
         "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study_uid}",
         "-od", str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--films", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        archive = start(root)
        if isinstance(archive, str):
            sys.exit(f"cannot start Orthanc: {archive}")
        try:
            began = time.perf_counter()
            study_uid = _load(archive, root, args.films)
            print(f"loaded {args.films} films of {ROWS * COLUMNS / 1e6:.1f} MP "
                  f"in {time.perf_counter() - began:.1f} s")  # fmt: skip
            node = Node("127.0.0.1", archive.dicom_port, called_aet=AET, timeout=60)
            ours, theirs = [], []
            for n in range(args.repeat):
                run = root / f"run{n}"
                run.mkdir()
                ours.append(_cobbdesk(node, run))
                if shutil.which("getscu"):
                    theirs.append(_getscu(node, study_uid, run))
                shutil.rmtree(run)
            best = min(ours)
            print(f"CobbDesk C-GET + import: {best:.2f} s, {args.films / best:.1f} films/s "
                  f"(runs: {', '.join(f'{t:.2f}' for t in ours)})")  # fmt: skip
            if theirs:
                ref = min(theirs)
                print(f"DCMTK getscu (no import): {ref:.2f} s, {args.films / ref:.1f} films/s; "
                      f"CobbDesk / getscu time = {best / ref:.2f}")  # fmt: skip
        finally:
            archive.stop()


if __name__ == "__main__":
    main()
