"""Issue 2 benchmark: open → display-ready uint8, and window/level, on a 3000×2500 12-bit film.

Anchors, measured in the same run: DCMTK ``dcmdjpeg`` decoding the same JPEG-lossless file as a
whole process; ``numpy.copy`` of the pixel array.  The open is measured three ways (#17):
in-process without the pixel SHA-256 (the hash runs in a background thread and the display is
ready before it), in-process with it (until ``film.pixel_sha256`` is known), and as a whole
process (``python -c`` importing the reader, opening, rendering and hashing) — the fair
comparison with ``dcmdjpeg`` as a process.  Prints medians and ratios; asserts nothing.

    python benchmarks/bench_open.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _films import film_pixels, jpeg_lossless, write_dx

from cobbdesk.core.dicom.display import render, render_film
from cobbdesk.core.dicom.film import Window
from cobbdesk.core.dicom.reader import read_film


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    action()  # warm-up (imports, caches)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _open_and_hash(path: Path) -> str:
    film = read_film(path)
    render_film(film)
    return film.pixel_sha256


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=15)
    repeat = parser.parse_args().repeat
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw = write_dx(folder / "raw.dcm", film_pixels())
        jls = jpeg_lossless(raw, folder / "jpeg-lossless.dcm")
        out = folder / "dcmtk-out.dcm"
        dcmtk = median_seconds(
            lambda: subprocess.run(["dcmdjpeg", str(jls), str(out)], check=True), repeat
        )
        open_jls = median_seconds(lambda: render_film(read_film(jls)), repeat)
        hashed = median_seconds(lambda: _open_and_hash(jls), repeat)
        script = (
            "import sys\nfrom cobbdesk.core.dicom.display import render_film\n"
            "from cobbdesk.core.dicom.reader import read_film\n"
            "film = read_film(sys.argv[1]); render_film(film); film.pixel_sha256\n"
        )
        whole = median_seconds(
            lambda: subprocess.run([sys.executable, "-c", script, str(jls)], check=True), repeat
        )
        open_raw = median_seconds(lambda: render_film(read_film(raw)), repeat)
        pixels = read_film(raw).pixels
        windows = [Window(1500 + 10 * i, 1200 + 40 * i) for i in range(repeat)]
        cycle = iter(windows * 3)
        wl = median_seconds(lambda: render(pixels, next(cycle), inverted=False), repeat)
        copy = median_seconds(lambda: np.copy(pixels), repeat)
    print(f"film: 3000x2500 12-bit DX, medians of {repeat} runs")
    print(f"dcmdjpeg whole process (anchor):     {dcmtk * 1000:7.1f} ms")
    print(
        f"open JPEG-lossless -> display uint8: {open_jls * 1000:7.1f} ms  "
        f"ratio to dcmdjpeg {open_jls / dcmtk:.2f} (goal <= 0.5)"
    )
    print(
        f"  same, with the pixel SHA-256:      {hashed * 1000:7.1f} ms  "
        f"ratio to dcmdjpeg {hashed / dcmtk:.2f}"
    )
    print(
        f"  whole process (python -c, hash):   {whole * 1000:7.1f} ms  "
        f"ratio to dcmdjpeg {whole / dcmtk:.2f} (both as processes)"
    )
    print(f"open uncompressed -> display uint8:  {open_raw * 1000:7.1f} ms  (goal <= 60 ms)")
    print(
        f"window/level change -> uint8:        {wl * 1000:7.2f} ms  "
        f"ratio to numpy.copy {wl / copy:.1f} (copy {copy * 1000:.2f} ms; goal <= 8 ms)"
    )


if __name__ == "__main__":
    main()
