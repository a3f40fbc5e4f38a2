"""Fuzzing the loader: every mutated file must open and render, or fail with a CobbdeskError.

Mutations (seeded, so a case is reproducible from ``(seed, index)``) of small seed films —
generated here in every codec (native, RLE, JPEG baseline, JPEG-LS, JPEG 2000, with garbage
above Bits Stored) plus the ``*.dcm`` files of the given folders (e.g. ``../shared/data/
field-cases``, ``../shared/data/malformed``) up to 1 MB each:

* ``flip`` — 1–8 random bytes replaced;
* ``truncate`` — the file cut at a random offset;
* ``value`` — the value of an image attribute (Rows, Columns, Bits Allocated/Stored, High Bit,
  Pixel Representation, Samples per Pixel, Number of Frames, windows, rescale, padding, LUT
  descriptor) overwritten with an edge value (0, 1, 0x7FFF, 0x8000, 0xFFFF, random);
* ``length`` — the length field of such an element, or of Pixel Data, overwritten;
* ``stream`` — the dimensions or precision in a JPEG SOF / JPEG-LS SOF55 / JPEG 2000 SIZ
  marker segment overwritten.

Each case runs :func:`~cobbdesk.core.dicom.reader.read_film` then
:func:`~cobbdesk.core.dicom.display.render_film` in a worker whose address space is capped
(``resource.RLIMIT_AS``).  The outcome is ``ok``, the CobbdeskError subclass name, or
``UNEXPECTED <exception>`` — the last is a bug.  Run (≥ 100,000 cases, 2 workers, < 1 hour)::

    python -m cobbdesk.core.dicom.fuzz --cases 100000 --workers 2 \\
        ../shared/data/field-cases ../shared/data/malformed

It prints a JSON summary: cases, outcomes by class, seconds, peak memory (MiB) per worker,
and the first unexpected cases with their ``(seed, index, mutation)``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import resource
import struct
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

#: Little-endian (group, element) byte patterns of the attributes ``value``/``length`` edit.
TAGS = tuple(
    struct.pack("<HH", g, e)
    for g, e in (
        (0x0028, 0x0002), (0x0028, 0x0008), (0x0028, 0x0010), (0x0028, 0x0011),
        (0x0028, 0x0100), (0x0028, 0x0101), (0x0028, 0x0102), (0x0028, 0x0103),
        (0x0028, 0x0120), (0x0028, 0x1050), (0x0028, 0x1051), (0x0028, 0x1052),
        (0x0028, 0x1053), (0x0028, 0x3002), (0x0028, 0x0004), (0x7FE0, 0x0010),
        (0x0002, 0x0010), (0x0002, 0x0000),
    )
)  # fmt: skip
STREAM_MARKERS = (b"\xff\xc0", b"\xff\xc1", b"\xff\xc3", b"\xff\xf7", b"\xff\x51")
EDGES = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF)
MAX_SOURCE_BYTES = 1 << 20
MUTATIONS = ("flip", "truncate", "value", "length", "stream")


def _edge(rng: random.Random, size: int) -> bytes:
    value = rng.choice(EDGES) if rng.random() < 0.7 else rng.getrandbits(8 * size)
    return (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")


def _positions(data: bytes, patterns: tuple[bytes, ...]) -> list[int]:
    found: list[int] = []
    for pattern in patterns:
        start = data.find(pattern)
        while start != -1 and len(found) < 64:
            found.append(start)
            start = data.find(pattern, start + 1)
    return found


def _overwrite(data: bytearray, offset: int, value: bytes) -> None:
    if offset >= 0 and offset + len(value) <= len(data):
        data[offset : offset + len(value)] = value


def mutate(data: bytes, rng: random.Random, kind: str) -> bytes:
    """``data`` with one mutation of ``kind`` (see the module docstring) applied."""
    out = bytearray(data)
    if kind == "truncate":
        return bytes(out[: rng.randrange(1, max(2, len(out)))])
    if kind == "flip" or not out:
        for _ in range(rng.randint(1, 8)):
            out[rng.randrange(len(out))] = rng.getrandbits(8)
        return bytes(out)
    patterns = STREAM_MARKERS if kind == "stream" else TAGS
    places = _positions(data, patterns)
    if not places:
        return mutate(data, rng, "flip")
    at = rng.choice(places)
    if kind == "stream":  # Lf/Lsiz then P Y X (JPEG) or Rsiz Xsiz Ysiz (J2K)
        _overwrite(out, at + rng.choice((2, 4, 5, 7, 6, 10)), _edge(rng, rng.choice((1, 2, 4))))
    elif kind == "value":
        _overwrite(out, at + 8, _edge(rng, rng.choice((2, 4))))
    else:  # explicit short length (+6, 2 bytes), long length (+8) or implicit length (+4)
        offset, size = rng.choice(((6, 2), (8, 4), (4, 4)))
        _overwrite(out, at + offset, _edge(rng, size))
    return bytes(out)


def seed_films(folder: Path) -> list[Path]:
    """Small 12-bit films with garbage above Bits Stored, in every codec CobbDesk decodes."""
    import imagecodecs
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import (
        ExplicitVRLittleEndian,
        JPEG2000Lossless,
        JPEGBaseline8Bit,
        JPEGLSLossless,
        RLELossless,
        generate_uid,
    )

    rng = np.random.default_rng(3)
    pixels = (rng.integers(0, 4096, (24, 20)) | (rng.integers(0, 2, (24, 20)) << 15)).astype(
        np.uint16
    )

    def dataset(ts: str, data: Any, bits: int = 16, stored: int = 12) -> Dataset:
        """A DX MONOCHROME2 film of ``pixels``: transfer syntax ``ts``, pixel data ``data``."""
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.file_meta.TransferSyntaxUID = ts
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.PhotometricInterpretation, ds.SamplesPerPixel = "DX", "MONOCHROME2", 1
        ds.Rows, ds.Columns = pixels.shape
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits, stored, stored - 1
        ds.PixelRepresentation, ds.PixelPaddingValue = 0, 0
        ds.WindowCenter, ds.WindowWidth, ds.RescaleSlope, ds.RescaleIntercept = 2048, 4096, 1, 0
        ds.PixelData = data
        return ds

    films = {
        "native": dataset(ExplicitVRLittleEndian, pixels.tobytes()),
        "jpegls": dataset(JPEGLSLossless, encapsulate([imagecodecs.jpegls_encode(pixels)])),
        "j2k": dataset(JPEG2000Lossless, encapsulate([imagecodecs.jpeg2k_encode(pixels)])),
        "jpeg8": dataset(
            JPEGBaseline8Bit,
            encapsulate([imagecodecs.jpeg8_encode((pixels >> 4).astype(np.uint8))]),
            8,
            8,
        ),
    }
    rle = dataset(ExplicitVRLittleEndian, pixels.tobytes())
    rle.compress(RLELossless)
    films["rle"] = rle
    paths = []
    for name, ds in films.items():
        path = folder / f"seed_{name}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def sources(folders: list[Path], scratch: Path) -> list[bytes]:
    """Seed films plus the small ``*.dcm`` files of ``folders``, as bytes."""
    paths = seed_films(scratch)
    for folder in folders:
        paths.extend(sorted(folder.glob("*.dcm")) if folder.is_dir() else [folder])
    return [p.read_bytes() for p in paths if p.is_file() and p.stat().st_size <= MAX_SOURCE_BYTES]


def run_case(path: Path) -> str:
    """``ok``, the CobbdeskError subclass name, or ``UNEXPECTED <type>: <first line>``."""
    from cobbdesk.core.dicom.display import render_film
    from cobbdesk.core.dicom.reader import read_film
    from cobbdesk.core.errors import CobbdeskError

    try:
        film = read_film(path)
        render_film(film, max_size=256)
        _ = film.pixel_sha256
        return "ok"
    except CobbdeskError as exc:
        message = exc.message
        if "\n" in message or "broadcast" in message:
            return f"UNEXPECTED message: {message[:120]!r}"
        return type(exc).__name__
    except BaseException as exc:  # the bug this harness looks for
        return (
            f"UNEXPECTED {type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
        )


def _limit(memory_bytes: int) -> None:
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _worker(job: tuple[int, int, int, list[bytes], float, int]) -> dict[str, Any]:
    """Cases ``start, start + step, …`` below ``count``; stops at the ``deadline``."""
    start, step, count, data, deadline, seed = job
    import logging
    import warnings

    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    outcomes: Counter[str] = Counter()
    unexpected: list[str] = []
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as tmp:
        path = Path(tmp) / "case.dcm"
        for index in range(start, count, step):
            if time.monotonic() > deadline:
                break
            rng = random.Random(seed * 1_000_003 + index)
            kind = rng.choice(MUTATIONS)
            path.write_bytes(mutate(rng.choice(data), rng, kind))
            outcome = run_case(path)
            outcomes[outcome.split(":")[0]] += 1
            if outcome.startswith("UNEXPECTED") and len(unexpected) < 20:
                unexpected.append(f"seed {seed} index {index} {kind}: {outcome}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    return {"outcomes": dict(outcomes), "unexpected": unexpected, "peak_mib": round(peak, 1)}


def fuzz(
    folders: list[Path],
    *,
    cases: int,
    workers: int = 2,
    seed: int = 1,
    seconds: float = 3600.0,
    memory_gib: float = 2.0,
) -> dict[str, Any]:
    """Run ``cases`` mutations in ``workers`` capped processes; the summary as a dict."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        data = sources(folders, Path(scratch))
    deadline = started + seconds
    context = multiprocessing.get_context("spawn")
    limit = int(memory_gib * 1024**3)
    jobs = [(w, workers, cases, data, deadline, seed) for w in range(workers)]
    with context.Pool(workers, initializer=_limit, initargs=(limit,)) as pool:
        results = pool.map(_worker, jobs)
    outcomes: Counter[str] = Counter()
    for result in results:
        outcomes.update(result["outcomes"])
    return {
        "cases": sum(outcomes.values()),
        "sources": len(data),
        "outcomes": dict(sorted(outcomes.items())),
        "unexpected": [u for r in results for u in r["unexpected"]],
        "seconds": round(time.monotonic() - started, 1),
        "peak_mib_per_worker": [r["peak_mib"] for r in results],
        "memory_cap_gib": memory_gib,
        "seed": seed,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line of the fuzzer: prints the :func:`fuzz` summary as JSON.

    Returns the exit status: 1 when any case raised an unexpected error, else 0.
    """
    parser = argparse.ArgumentParser(prog="python -m cobbdesk.core.dicom.fuzz")
    parser.add_argument("folders", nargs="*", type=Path, help="folders (or files) of seeds")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3600.0, help="time budget")
    parser.add_argument("--memory-gib", type=float, default=2.0, help="RLIMIT_AS per worker")
    args = parser.parse_args(argv)
    summary = fuzz(
        args.folders,
        cases=args.cases,
        workers=args.workers,
        seed=args.seed,
        seconds=args.seconds,
        memory_gib=args.memory_gib,
    )
    sys.stdout.write(json.dumps(summary, indent=2) + "\n")
    return 1 if summary["unexpected"] else 0


if __name__ == "__main__":
    sys.exit(main())
