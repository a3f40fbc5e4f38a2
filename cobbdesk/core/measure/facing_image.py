"""Which side of a lateral spine film the patient's anterior points to, from the pixels.

The anatomy it rests on (any lateral radiograph of the cervical or lumbar spine; Bontrager &
Lampignano, *Textbook of Radiographic Positioning and Related Anatomy*, chapters on the
cervical and lumbar spine):

* the vertebral **bodies** are the widest, densest bones and stack into one near-vertical
  column, bright bodies alternating with darker discs;
* **posterior** to that column the posterior elements (pedicles, articular pillars and
  facets, laminae, spinous processes) add bone on top of the paraspinal muscles, so the
  film just behind the bodies is brighter than the film just in front of them;
* **anterior** to the column there is no bone but soft tissue holding air: the pharynx and
  trachea in front of a cervical spine, bowel gas in front of a lumbar spine, so the film
  just in front of the bodies is darker;
* across one level the bone mass has a compact anterior peak (the body) and a tail trailing
  posteriorly (the posterior elements): the horizontal profile is skewed towards the back.

The method (all on a copy reduced to at most :data:`WORK_SIZE` pixels a side, so a
3000 x 2500 film takes a few tens of milliseconds):

1. intensities are normalised (1st–99.5th percentile, bone bright; MONOCHROME1 inverted);
2. a white top-hat (grey opening with a disc about a fifth of the short side, Serra 1982,
   *Image Analysis and Mathematical Morphology*) keeps bright structures smaller than a
   vertebra and removes soft tissue and exposure gradients; blurred along the rows over about
   one vertebra, the body column becomes a continuous vertical ridge;
3. the film is cut into :data:`BANDS` horizontal bands; in each band the ridge's peak and
   width (the body depth *D*) are found, and the longest run of bands whose peaks form one
   smooth near-vertical chain is taken as the spine column;
4. each band of the chain casts two votes: the **flank** vote compares the median
   brightness of a window from 0.15 *D* to 1.3 *D* beyond each edge of the body (darker =
   anterior: air, no posterior elements); the **tail** vote is the skewness of the bone
   profile (a tail to one side = posterior elements on that side);
5. the chain must also look like a spine: its bone signal along the column must alternate
   (bodies and discs) with one dominant period (:func:`periodicity`);
6. the side is the majority of all votes; the confidence is the agreement among them times
   the chain's coverage; too short a chain, no periodicity, or disagreement abstains.

It is a heuristic and never replaces the user's choice: ``benchmarks/eval_facing.py``
reports its accuracy and abstention rate on synthetic and real films.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

WORK_SIZE = 320
"""Longest side (px) the film is reduced to before the analysis."""
BANDS = 40
"""Number of horizontal bands the film is cut into."""
MIN_CHAIN = 10
"""Least number of bands in the spine column for an estimate (a quarter of the film)."""
FULL_CHAIN = 16
"""Bands of spine column giving full coverage in the confidence."""
MIN_AGREEMENT = 0.8
"""Least fraction of the votes agreeing for an estimate."""
MIN_PERIODICITY = 0.3
"""Least normalised autocorrelation of the bone signal along the column at its period."""
MAX_STEP = 0.06
"""Largest horizontal move (fraction of the width) of the column between adjacent bands."""
MAX_GAP = 1
"""Bands in a row that may leave the column without breaking it."""
FLANK = (0.15, 1.3)
"""Start and end of each flank window beyond the body edge, in body depths."""
MIN_FLANK = 0.02
"""Least median brightness difference (normalised units) between the flanks for a vote."""
MIN_SKEW = 0.3
"""Least |skewness| of a band's bone profile for a tail vote."""
TREND = 0.25
"""Sigma of the blur removed before the flank comparison, as a fraction of the width."""
TAIL_WEIGHT = 0.5
"""Weight of a tail vote relative to a flank vote."""

F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Band:
    """One band of the spine column: rows, peak column and body edges (work pixels)."""

    r0: int
    r1: int
    peak: int
    lo: int
    hi: int

    @property
    def depth(self) -> int:
        """The body's width across the band: ``hi − lo`` (work pixels)."""
        return self.hi - self.lo

    @property
    def centre(self) -> float:
        """Column midway between the body edges (work pixels)."""
        return 0.5 * (self.lo + self.hi)


def _normalised(pixels: npt.NDArray[np.generic], inverted: bool) -> F32:
    """Reduced (INTER_AREA, longest side :data:`WORK_SIZE`) and scaled to [0, 1], bone bright."""
    if pixels.ndim != 2 or min(pixels.shape) < 16:
        raise ValueError(f"need a 2-D image of at least 16 x 16 pixels, got {pixels.shape}")
    a = np.asarray(pixels)
    if a.dtype not in (np.uint8, np.uint16, np.int16, np.float32):
        a = a.astype(np.float32)
    if a.dtype == np.float32 and not np.isfinite(a).all():
        finite = a[np.isfinite(a)]
        a = np.nan_to_num(a, nan=float(finite.min()) if finite.size else 0.0, posinf=0, neginf=0)
    scale = WORK_SIZE / max(a.shape)
    if scale < 1:
        size = (max(16, round(a.shape[1] * scale)), max(16, round(a.shape[0] * scale)))
        a = cv2.resize(np.ascontiguousarray(a), size, interpolation=cv2.INTER_AREA)
    out: F32 = a.astype(np.float32)
    if inverted:
        out = -out
    lo, hi = np.percentile(out, (1.0, 99.5))
    out = np.clip((out - lo) / max(float(hi - lo), 1e-6), 0, 1).astype(np.float32)
    return out


def _bone(a: F32) -> F32:
    """White top-hat, blurred along the rows so that discs do not break the body column."""
    radius = max(3, round(min(a.shape) / 10))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    top = cv2.morphologyEx(a, cv2.MORPH_TOPHAT, kernel)
    out: F32 = cv2.GaussianBlur(top, (1, 0), sigmaX=0.5, sigmaY=max(1.0, a.shape[0] / 60))
    return out


def _detrended(a: F32) -> F32:
    """``a`` minus its Gaussian blur over :data:`TREND` of the width: removes exposure
    gradients (the heel effect, a thicker body part on one side) that would tilt the flank
    comparison, keeping structures the size of a vertebra."""
    out: F32 = a - cv2.GaussianBlur(a, (0, 0), max(2.0, TREND * a.shape[1]))
    return out


def _band(bone: F32, r0: int, r1: int, cap: float) -> Band | None:
    """The body column's peak and half-maximum edges in one band, or None when flat.

    The bone map is capped at ``cap`` and smoothed over about 1 % of the width so that a
    thin saturating structure (a metal rod, a wire) does not outweigh the wide body column."""
    profile = np.minimum(bone[r0:r1], cap).mean(axis=0)
    sigma = max(1.0, 0.012 * profile.size)
    profile = cv2.GaussianBlur(profile.reshape(1, -1), (0, 0), sigma)[0]
    peak = int(np.argmax(profile))
    top, floor = float(profile[peak]), float(np.median(profile))
    if top <= floor + 0.03:
        return None
    half = floor + 0.5 * (top - floor)
    lo, hi = peak, peak
    while lo > 0 and profile[lo - 1] > half:
        lo -= 1
    while hi < profile.size - 1 and profile[hi + 1] > half:
        hi += 1
    if hi - lo < 3 or hi - lo > 0.35 * profile.size:
        return None
    return Band(r0, r1, peak, lo, hi + 1)


def column_bands(bone: F32) -> list[Band]:
    """The longest chain of adjacent bands whose centres move at most :data:`MAX_STEP` of the
    width from band to band (the spine column), top to bottom; up to :data:`MAX_GAP` bands in a
    row may be skipped (a disc level where the posterior elements widen the ridge)."""
    rows, columns = bone.shape
    edges = np.linspace(0, rows, BANDS + 1).round().astype(int)
    step = MAX_STEP * columns
    cap = float(np.percentile(bone, 99.0))
    best: list[Band] = []
    run: list[Band] = []
    misses = 0
    for r0, r1 in itertools.pairwise(edges):
        band = _band(bone, int(r0), int(r1), cap)
        if band is not None and (not run or abs(band.centre - run[-1].centre) <= step):
            run.append(band)
            misses = 0
        elif (misses := misses + 1) > MAX_GAP:
            run, misses = ([band] if band is not None else []), 0
        if len(run) > len(best):
            best = list(run)
    return best


def periodicity(signal: npt.NDArray[np.float64]) -> float:
    """Peak normalised autocorrelation of a detrended signal at lags of 6 samples up to a
    third of its length (the body–disc alternation along a spine column); 0 when too short.

    >>> round(periodicity(np.sin(np.arange(120) * 2 * np.pi / 20)), 2) > 0.8
    True
    >>> periodicity(np.random.default_rng(0).normal(size=120)) < 0.25
    True
    """
    n = signal.size
    if n < 24:
        return 0.0
    kernel = np.ones(25) / 25
    trend = np.convolve(np.pad(signal, 12, mode="edge"), kernel, mode="valid")
    x = signal - trend
    energy = float((x * x).sum())
    if energy <= 1e-12:
        return 0.0
    lags = range(6, max(7, n // 3))
    return max(float((x[:-lag] * x[lag:]).sum()) / energy for lag in lags)


def _column_signal(a: F32, chain: list[Band]) -> npt.NDArray[np.float64]:
    """Mean normalised brightness across the body, row by row down the chain."""
    values = []
    for band in chain:
        values += [float(a[r, band.lo : band.hi].mean()) for r in range(band.r0, band.r1)]
    return np.asarray(values)


def skewness(profile: npt.NDArray[np.float64]) -> float:
    """Third standardised moment of the column index weighted by ``profile`` (>= 0);
    positive = tail to the right.

    >>> p = np.zeros(40); p[10:16] = 10; p[16:30] = 2    # heavy left, tail right
    >>> skewness(p) > 0
    True
    """
    w = np.clip(profile, 0, None)
    if w.sum() <= 0:
        return 0.0
    x = np.arange(w.size, dtype=np.float64)
    mean = float((w * x).sum() / w.sum())
    var = float((w * (x - mean) ** 2).sum() / w.sum())
    return 0.0 if var <= 0 else float((w * (x - mean) ** 3).sum() / w.sum()) / var**1.5


def band_votes(a: F32, bone: F32, band: Band) -> tuple[int, int]:
    """(flank, tail) votes of one band: +1 = posterior to the right (anterior left), -1 =
    posterior to the left, 0 = no vote.  See the module docstring, step 4."""
    columns = a.shape[1]
    near, far = (round(f * band.depth) for f in FLANK)
    left = a[band.r0 : band.r1, max(0, band.lo - far) : max(0, band.lo - near)]
    right = a[band.r0 : band.r1, min(columns, band.hi + near) : min(columns, band.hi + far)]
    flank = 0
    if left.size and right.size and min(left.shape[1], right.shape[1]) * 2 >= far - near:
        diff = float(np.median(right)) - float(np.median(left))
        flank = 0 if abs(diff) < MIN_FLANK else (1 if diff > 0 else -1)
    span = slice(max(0, band.lo - far), min(columns, band.hi + far))
    profile = bone[band.r0 : band.r1, span].mean(axis=0).astype(np.float64)
    profile -= float(np.percentile(profile, 20))
    skew = skewness(profile)
    tail = 0 if abs(skew) < MIN_SKEW else (1 if skew > 0 else -1)
    return flank, tail


def anterior_side(
    pixels: npt.NDArray[np.generic], *, inverted: bool = False
) -> tuple[int, float, str]:
    """``(side, confidence, reason)``: side +1 = anterior towards image right, -1 = left,
    0 = abstain (confidence 0).  See the module docstring; raises ``ValueError`` for an
    array that is not a 2-D image."""
    a = _normalised(pixels, inverted)
    bone = _bone(a)
    chain = column_bands(bone)
    if len(chain) < MIN_CHAIN:
        return 0, 0.0, f"no spine column found ({len(chain)} of {BANDS} bands show one)"
    rhythm = periodicity(_column_signal(a, chain))
    if rhythm < MIN_PERIODICITY:
        return 0, 0.0, f"the column shows no body–disc rhythm (autocorrelation {rhythm:.2f})"
    flat = _detrended(a)
    votes = [band_votes(flat, bone, band) for band in chain]
    flank = [f for f, _ in votes if f]
    if len(flank) < MIN_CHAIN // 2:
        return 0, 0.0, f"too few bands show a side ({len(flank)} flank votes)"
    score = sum(flank) + TAIL_WEIGHT * sum(t for _, t in votes)
    weight = len(flank) + TAIL_WEIGHT * sum(1 for _, t in votes if t)
    agreement = 0.5 + abs(score) / (2 * weight)
    flank_agreement = 0.5 + abs(sum(flank)) / (2 * len(flank))
    if flank_agreement < MIN_AGREEMENT or score * sum(flank) <= 0:
        return 0, 0.0, f"the {len(chain)} spine bands disagree ({flank_agreement:.0%} agree)"
    side = -1 if score > 0 else 1
    coverage = min(1.0, len(chain) / FULL_CHAIN)
    where = "right" if side < 0 else "left"
    return (
        side,
        round(agreement * coverage, 3),
        (
            f"brighter behind the vertebral bodies on the {where} (posterior elements), "
            f"darker in front, in {flank_agreement:.0%} of {len(chain)} spine bands"
        ),
    )
