"""Endplate snapping on real films: how far it moves each clicked line, and whether it helps.

(a) AASCE / SpineWeb 16 sample AP films (``landmarks/aasce_spineweb16``): the ground-truth corner
    landmarks give every endplate (superior = top-left–top-right, inferior = bottom-left–
    bottom-right).  A rater's clicks are simulated by moving each corner by a uniform ±3 px or
    ±5 px in x and y (seeded); each line is snapped; the angle error vs the ground-truth endplate
    direction is reported before and after snapping (mean / p95 / max, degrees), with the share
    of snaps that turn the line by more than the 2° confirmation threshold.
(b) ``dx_image.dcm`` (tiny lateral thorax, 1.2 × 1.2012 mm pixels) and ``RG2_JLSL.dcm`` (AP pelvis
    with the lower lumbar spine): endplates located by eye on rendered PNGs (constants below,
    approximate), the same click noise; reported: how far snapping turns the line (degrees) and
    moves its corners (mm), and the spread of snapped directions across trials (consistency).

Shared data is read in place from ../shared/data (or $COBBDESK_SHARED_DATA); never copied.
Run: ``python benchmarks/bench_snapping_real.py [trials]`` (default 40).
"""

from __future__ import annotations

import csv
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.measure.measurement import EndplateLine
from cobbdesk.core.measure.snapping import snap_endplate

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COBBDESK_SHARED_DATA", REPO.parent / "shared" / "data"))
AASCE = SHARED / "landmarks" / "aasce_spineweb16"
CONFIRM_DEG = 2.0
"""A snap that turns a line by more than this asks the rater to confirm (issue #10)."""
NOISES_PX = (3.0, 5.0)

# Endplates located by eye (image x = column, y = row; px), bone side, bone bright.
# dx_image.dcm (MONOCHROME1: bone has LOW values): spine runs left-right along rows ~47-58;
# raw row 53 shows disc gaps (high values) at x ≈ 94-96 and x ≈ 107-108, so the endplates
# are near-vertical edges at x ≈ 97, 106 and 109.  Bone side left to the snapper's guess.
DX_LINES: dict[str, EndplateLine] = {
    "dx endplate x≈97": EndplateLine((97.0, 49.0), (97.5, 57.5)),
    "dx endplate x≈106": EndplateLine((105.5, 48.5), (106.0, 57.0)),
    "dx endplate x≈109": EndplateLine((109.0, 48.0), (109.5, 56.5)),
}
# RG2_JLSL.dcm (MONOCHROME2, 0.2 mm): the lumbar body at the top of the film ends at y ≈ 98 at
# x = 300 and y ≈ 96 at x = 400 (column profiles); the next body's superior endplate is the
# faint bright edge at y ≈ 150 (CLAHE-enhanced render).
RG2_LINES: dict[str, tuple[EndplateLine, str]] = {
    "RG2 inferior endplate": (EndplateLine((240.0, 99.5), (440.0, 95.5)), "above"),
    "RG2 superior endplate": (EndplateLine((270.0, 152.0), (410.0, 146.0)), "below"),
}


def direction_deg(line: EndplateLine) -> float:
    """Direction of the line in degrees, folded into [0, 180)."""
    (ax, ay), (px, py) = line.anterior, line.posterior
    return math.degrees(math.atan2(py - ay, px - ax)) % 180.0


def angle_between(a: EndplateLine, b: EndplateLine) -> float:
    """Unsigned angle between two lines, degrees, 0..90."""
    d = abs(direction_deg(a) - direction_deg(b)) % 180.0
    return min(d, 180.0 - d)


def jitter(line: EndplateLine, rng: np.random.Generator, px: float) -> EndplateLine:
    """Each corner moved by a uniform ±``px`` in x and y (a rater's click)."""
    a = np.add(line.anterior, rng.uniform(-px, px, 2))
    p = np.add(line.posterior, rng.uniform(-px, px, 2))
    return EndplateLine((float(a[0]), float(a[1])), (float(p[0]), float(p[1])))


def _lines(path: Path) -> list[str]:
    """The text lines of a small CSV file (read whole, so no file handle stays open)."""
    return path.read_text(encoding="utf-8").splitlines()


def aasce_endplates() -> list[tuple[str, np.ndarray, list[tuple[EndplateLine, str]]]]:
    """(name, grey image, [(ground-truth endplate, bone side)]) for each sample film."""
    sizes = {r["filename"]: (int(r["width"]), int(r["height"]))
             for r in csv.DictReader(_lines(AASCE / "image_sizes.csv"))}  # fmt: skip
    names = [r[0] for r in csv.reader(_lines(AASCE / "training" / "filenames.csv"))]
    rows = list(csv.reader(_lines(AASCE / "training" / "landmarks.csv")))
    films = []
    for path in sorted((AASCE / "sample_images").glob("*.jpg")):
        w, h = sizes[path.name]
        values = np.array(rows[names.index(path.name)], float)
        xs, ys = values[:68] * w, values[68:] * h
        lines = []
        for v in range(17):
            c = [(float(xs[4 * v + k]), float(ys[4 * v + k])) for k in range(4)]
            lines.append((EndplateLine(c[0], c[1]), "below"))  # superior: body below
            lines.append((EndplateLine(c[2], c[3]), "above"))  # inferior: body above
        image = np.asarray(Image.open(path).convert("L"))
        films.append((path.name.split("-")[-1].removesuffix(".jpg"), image, lines))
    return films


def aasce_trial(image: np.ndarray, truth: EndplateLine, side: str, noise: float,
                rng: np.random.Generator) -> tuple[float, float, float, bool]:  # fmt: skip
    """(error before, error after, snap turn, snapped) for one simulated click."""
    clicked = jitter(truth, rng, noise)
    result = snap_endplate(image, clicked, bone_side=side)
    return (angle_between(clicked, truth), angle_between(result.line, truth),
            result.angle_change_deg if result.snapped else 0.0, result.snapped)  # fmt: skip


def stats(values: list[float]) -> str:
    a = np.asarray(values)
    return f"{a.mean():6.2f} {np.median(a):6.2f} {np.percentile(a, 95):6.2f} {a.max():6.2f}"


def run_aasce(trials: int, rng: np.random.Generator) -> None:
    films = aasce_endplates()
    print(f"(a) AASCE sample AP films ({len(films)} films × 34 endplates × {trials} trials), "
          "angle error vs ground truth, degrees")  # fmt: skip
    print(f"{'noise':>6} {'':>7} {'mean':>6} {'median':>6} {'p95':>6} {'max':>6}"
          f"   snapped  turn>{CONFIRM_DEG:g}°  worse>2°")  # fmt: skip
    for noise in NOISES_PX:
        before, after, turns, snapped = [], [], [], 0
        for _, image, lines in films:
            for truth, side in lines:
                for _ in range(trials):
                    b, a, t, s = aasce_trial(image, truth, side, noise, rng)
                    before.append(b), after.append(a), turns.append(t)
                    snapped += s
        n = len(before)
        worse = sum(x - y > 2.0 for x, y in zip(after, before, strict=True))
        print(f"±{noise:g} px {'clicks':>7} {stats(before)}")
        print(f"{'':>6} {'snapped':>7} {stats(after)}   {snapped / n:6.1%}  "
              f"{sum(t > CONFIRM_DEG for t in turns) / n:8.1%}  {worse / n:7.1%}")  # fmt: skip


def spread_deg(lines: list[EndplateLine]) -> float:
    """Circular standard deviation of line directions (axial data: angles doubled), degrees."""
    doubled = np.radians([2.0 * direction_deg(line) for line in lines])
    r = math.hypot(np.mean(np.cos(doubled)), np.mean(np.sin(doubled)))
    return abs(math.degrees(math.sqrt(max(-2.0 * math.log(min(max(r, 1e-12), 1.0)), 0.0)))) / 2.0


def corner_move_mm(a: EndplateLine, b: EndplateLine, spacing: tuple[float, float]) -> float:
    """Largest corner displacement between two lines, mm (spacing = (row_mm, col_mm))."""
    moves = []
    for p, q in ((a.anterior, b.anterior), (a.posterior, b.posterior)):
        moves.append(math.hypot((q[0] - p[0]) * spacing[1], (q[1] - p[1]) * spacing[0]))
    return max(moves)


def run_film(name: str, lines: dict[str, tuple[EndplateLine, str | None]], trials: int,
             rng: np.random.Generator) -> None:  # fmt: skip
    film = read_film(SHARED / "radiographs" / name)
    image, spacing = np.asarray(film.pixels), film.spacing_mm or (1.0, 1.0)
    bright = not film.inverted
    for label, (line, side) in lines.items():
        for noise in NOISES_PX:
            clicked = [jitter(line, rng, noise) for _ in range(trials)]
            results = [snap_endplate(image, c, bone_side=side, bone_bright=bright)
                       for c in clicked]  # fmt: skip
            ok = [r for r in results if r.snapped]
            turn = [r.angle_change_deg for r in ok] or [0.0]
            pairs = zip(clicked, results, strict=True)
            move = [corner_move_mm(c, r.line, spacing) for c, r in pairs if r.snapped] or [0.0]
            print(f"{label:<22} ±{noise:g}px {len(ok) / trials:6.0%} "
                  f"{np.median(turn):6.2f} {max(turn):6.2f} {np.median(move):6.2f} "
                  f"{max(move):6.2f} {spread_deg(clicked):7.2f} "
                  f"{spread_deg([r.line for r in ok]) if ok else math.nan:7.2f}")


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    if not SHARED.is_dir():
        sys.exit(f"shared data not found at {SHARED} (set COBBDESK_SHARED_DATA)")
    rng = np.random.default_rng(20261130)
    start = time.perf_counter()
    run_aasce(trials, rng)
    print("\n(b) films with endplates located by eye: snap turn (deg) and corner move (mm), "
          "direction spread across trials (circular SD, deg)")  # fmt: skip
    print(f"{'endplate':<22} {'noise':>6} {'snap%':>6} {'turn½':>6} {'turnMx':>6} "
          f"{'mm½':>6} {'mmMax':>6} {'sdClk':>7} {'sdSnap':>7}")  # fmt: skip
    run_film("dx_image.dcm", {k: (v, None) for k, v in DX_LINES.items()}, trials, rng)
    run_film("RG2_JLSL.dcm", dict(RG2_LINES.items()), trials, rng)
    print(f"\n{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
