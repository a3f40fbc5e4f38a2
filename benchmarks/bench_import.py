"""Import benchmark: header scan of generated DICOM films, and a full study import.

The films carry realistic DX headers (patient/study/series modules, request and procedure
sequences, windowing, private groups before and after the image module) and a small pixel
payload.  Measured in the same run, warm (files in the page cache) and, where the OS allows
evicting them (``posix_fadvise``), cold; round by round, the order rotated each round
(interleaved), so a change of machine load hits all alike:

* the anchor: a plain ``pydicom.dcmread(path, stop_before_pixels=True)`` loop over the list
  of files (the goal: the import <= 1.3x this), and the same loop extracting 12 of the fields
  the import needs (``plain+fields``; the import also reads spacing, orientation and pixel
  aspect, walks the folder and writes the study — so both ratios are printed);
* :func:`~cobbdesk.core.importing.scan.scan_headers` (threads read ahead, one thread parses);
* :func:`~cobbdesk.core.importing.importer.import_paths` into a new study (each round a new
  study; its creation and closing not counted).

Printed: median wall time, median process CPU time (all threads), each round's time, the
ratio import/anchor per round (and its median) and of the medians, and the load average
before and after.  With ``--extras``: the scan with one I/O thread, a 2-process pool including
its start-up, the raw Pixel Data SHA-256 that was considered for duplicate detection, and the
per-film ``Study.add_film`` loop that the bulk write replaced.  Asserts nothing.

    python benchmarks/bench_import.py [--files 1000] [--repeat 3] [--extras]
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.importing.scan import read_header, scan_headers
from cobbdesk.core.store import Study
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

FIELDS = (
    "SOPInstanceUID", "PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyDate",
    "BodyPartExamined", "SeriesDescription", "ViewPosition", "Rows", "Columns", "Modality",
)  # fmt: skip


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def realistic_template(folder: Path) -> Dataset:
    """A synthetic lateral film with the header clutter of a real DX export."""
    spine = make_lateral_spine("cervical", 20.0, rows=256, columns=200, spacing_mm=(0.6, 0.6))
    ds = pydicom.dcmread(write_dicom(spine, folder / "template.dcm", patient_name="Doe^Jane"))
    ds.InstitutionName, ds.StationName = "Synthetic General Hospital", "DXROOM2"
    ds.ReferringPhysicianName, ds.OperatorsName = "Ref^Doctor", "Tech^One"
    ds.ProtocolName, ds.StudyDescription = "C-SPINE LAT", "XR CERVICAL SPINE 2 VIEWS"
    ds.AnatomicRegionSequence = Sequence([_code("T-D1600", "SRT", "Cervical spine")])
    ds.ProcedureCodeSequence = Sequence([_code("RPID2516", "RADLEX", "XR C-spine 2 views")])
    request = Dataset()
    request.RequestedProcedureID, request.ScheduledProcedureStepID = "RP1234", "SPS5678"
    request.ScheduledProtocolCodeSequence = Sequence([_code("C-LAT", "99LOCAL", "C lateral")])
    ds.RequestAttributesSequence = Sequence([request])
    ds.KVP, ds.ExposureTime, ds.XRayTubeCurrent = "75", "40", "200"
    ds.DistanceSourceToDetector, ds.Exposure = "1800", "8"
    for group, count in ((0x0009, 12), (0x0019, 30), (0x0029, 8)):
        block = ds.private_block(group, "SYNTH VENDOR", create=True)
        for offset in range(count):
            block.add_new(offset, "LO", f"vendor value {group:04x}-{offset}")
    ds.private_block(0x0029, "SYNTH VENDOR").add_new(0x40, "OB", os.urandom(6000))
    ds.WindowCenterWidthExplanation = "NORMAL"
    ds.PerformedProcedureStepStartDate, ds.PerformedProcedureStepID = "20260105", "PPS1"
    return ds


def write_films(folder: Path, count: int) -> list[Path]:
    ds = realistic_template(folder)
    (folder / "template.dcm").unlink()
    paths = []
    for i in range(count):
        ds.SOPInstanceUID = f"1.2.826.0.1.3680043.10.4242.{i + 1}"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.PatientID = f"BENCH-{i // 4:04d}"
        ds.StudyDate = ("20260105", "20260406")[(i // 2) % 2]
        path = folder / f"film{i:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def evict(paths: list[Path]) -> bool:
    """Drop the files from the page cache (Linux/BSD); False when the OS cannot."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return True


def timed(action: Callable[[], object], repeat: int, before: Callable[[], object]) -> float:
    action()  # warm-up: imports, caches
    times = []
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plain(paths: list[Path]) -> None:
    for path in paths:
        pydicom.dcmread(path, stop_before_pixels=True)


def plain_fields(paths: list[Path]) -> None:
    for path in paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        [str(ds.get(k, "")) for k in FIELDS]


def _chunk(paths: list[Path]) -> int:
    return sum(1 for p in paths if not isinstance(read_header(p), tuple))


def process_pool(paths: list[Path]) -> None:
    context = multiprocessing.get_context("spawn")
    chunks = [paths[i : i + 100] for i in range(0, len(paths), 100)]
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        list(pool.map(_chunk, chunks))


def raw_hash(paths: list[Path]) -> None:
    for path in paths:
        hashlib.sha256(pydicom.dcmread(path).PixelData).hexdigest()


def import_once(paths: list[Path], folder: Path) -> tuple[float, float]:
    """Wall and process CPU seconds of :func:`import_paths` into a new study (its creation
    and closing not counted)."""
    target = Path(tempfile.mkdtemp(dir=folder.parent)) / "bench.cobbdesk"
    with Study.create(target, actor="bench") as study:
        start, start_cpu = time.perf_counter(), time.process_time()
        report = import_paths(study, [folder])
        elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    assert len(report.imported) == len(paths), report.errors[:3]
    shutil.rmtree(target.parent)
    return elapsed, cpu


def add_film_loop(paths: list[Path], folder: Path) -> float:
    target = Path(tempfile.mkdtemp(dir=folder.parent)) / "loop.cobbdesk"
    with Study.create(target, actor="bench") as study:
        patient = study.add_patient(dicom_patient_id="LOOP")
        visit = study.add_visit(patient, "admission", visit_date="20260105")
        start = time.perf_counter()
        for i, path in enumerate(paths):
            study.add_film(visit, sop_instance_uid=f"9.{i}", path=path, region="cervical")
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    extras = "also the 1-thread scan, process pool, raw hash and add_film loop"
    parser.add_argument("--extras", action="store_true", help=extras)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "films"
        folder.mkdir()
        paths = write_films(folder, args.files)
        size = sum(p.stat().st_size for p in paths) / len(paths) / 1024
        print(f"{len(paths)} films, {size:.0f} KiB each, {os.cpu_count()} CPU(s)")
        can_evict = evict(paths)
        for label, before in (("warm", lambda: None), ("cold", lambda: evict(paths))):
            if label == "cold" and not can_evict:
                print("cold: the OS cannot evict files from its cache; skipped")
                continue
            interleaved(label, paths, folder, args.repeat, before)
            if args.extras:
                report(label, paths, folder, args.repeat, before)
        if args.extras:
            loop = add_film_loop(paths, folder)
            print(f"Study.add_film loop (one transaction per film): {loop:.2f} s")


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def interleaved(
    label: str, paths: list[Path], folder: Path, repeat: int, before: Callable[[], object]
) -> None:
    """The anchors and the import measured round by round (order rotated each round), so a
    change of machine load hits them alike; wall and process CPU time, medians, and the
    median of the per-round ratios."""
    actions: dict[str, Callable[[], object]] = {
        "plain": lambda: plain(paths),
        "plain+fields": lambda: plain_fields(paths),
        "scan": lambda: scan_headers([folder]),
        "import": lambda: import_once(paths, folder),
    }
    plain(paths), scan_headers([folder])  # warm-up: imports, caches
    wall: dict[str, list[float]] = {name: [] for name in actions}
    cpu: dict[str, list[float]] = {name: [] for name in actions}
    names = list(actions)
    load_before = _load()
    for round_ in range(repeat):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            before()
            start, start_cpu = time.perf_counter(), time.process_time()
            result = actions[name]()
            times = (time.perf_counter() - start, time.process_time() - start_cpu)
            elapsed, used = result if name == "import" else times  # type: ignore[misc]
            wall[name].append(elapsed)
            cpu[name].append(used)
    n, median = len(paths), statistics.median
    print(f"--- {label} cache: {repeat} interleaved rounds, load {load_before} -> {_load()} ---")
    for name in names:
        print(f"{name:13s} median {median(wall[name]):6.2f} s  ({n / median(wall[name]):5.0f} "
              f"files/s)  process CPU {median(cpu[name]):6.2f} s   rounds "
              + " ".join(f"{t:.2f}" for t in wall[name]))  # fmt: skip
    for anchor in ("plain", "plain+fields"):
        ratios = [i / a for i, a in zip(wall["import"], wall[anchor], strict=True)]
        print(f"import / {anchor:12s}: median of rounds {median(ratios):.2f} (rounds "
              + " ".join(f"{r:.2f}" for r in ratios)
              + f"), of medians {median(wall['import']) / median(wall[anchor]):.2f}"
              + ("   goal <= 1.3" if anchor == "plain" else ""))  # fmt: skip
        print(f"  process CPU import / {anchor}: "
              f"{median(cpu['import']) / median(cpu[anchor]):.2f} (medians)")  # fmt: skip


def report(
    label: str, paths: list[Path], folder: Path, repeat: int, before: Callable[[], object]
) -> None:
    n = len(paths)
    base = timed(lambda: plain(paths), repeat, before)
    base_fields = timed(lambda: plain_fields(paths), repeat, before)
    scan = timed(lambda: scan_headers([folder]), repeat, before)
    serial = timed(lambda: scan_headers([folder], workers=1), repeat, before)
    procs = timed(lambda: process_pool(paths), repeat, before)
    hashed = timed(lambda: raw_hash(paths), max(1, repeat // 2), before)
    imports = []
    for _ in range(repeat):  # each into a new study, measured like the anchor
        before()
        imports.append(import_once(paths, folder)[0])
    imported = statistics.median(imports)
    print(f"--- {label} cache ---")
    print(f"plain dcmread loop:            {n / base:8.0f} files/s")
    print(f"plain loop + field extraction: {n / base_fields:8.0f} files/s")
    print(f"scan_headers (default):        {n / scan:8.0f} files/s   ratio to plain "
          f"{base / scan:.2f}, to plain+fields {base_fields / scan:.2f}")  # fmt: skip
    print(f"scan_headers (1 I/O thread):   {n / serial:8.0f} files/s   ratio {base / serial:.2f}")
    print(f"2-process pool (incl. start):  {n / procs:8.0f} files/s   ratio {base / procs:.2f}")
    print(f"raw Pixel Data SHA-256:        {n / hashed:8.0f} files/s   "
          f"({hashed / scan:.1f}x the scan, on small films)")  # fmt: skip
    print(f"import_paths into a new study: {imported:.2f} s ({n / imported:.0f} films/s)   "
          f"ratio to the plain loop {imported / base:.2f} (goal <= 1.3)")  # fmt: skip


if __name__ == "__main__":
    main()
