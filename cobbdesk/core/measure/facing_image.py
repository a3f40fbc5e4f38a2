"""Which side of a lateral spine film the patient's anterior points to, from the pixels.

The anatomy it rests on (any lateral radiograph of the cervical or lumbar spine): each
vertebra is a dense, compact, box-shaped **body** anteriorly and thinner, fainter
**posterior elements** (pedicles, laminae, spinous process) trailing away posteriorly.  Across
one vertebral level the bone mass therefore has a sharp, heavy anterior peak and a long
posterior tail: the horizontal bone-mass profile is skewed towards the back.

The method:

1. intensities are normalised (1st–99.5th percentile, bone bright; MONOCHROME1 inverted) and
   the film is reduced to at most :data:`WORK_SIZE` pixels a side;
2. a white top-hat (grey opening with a disc about a fifth of the short side, Serra 1982,
   *Image Analysis and Mathematical Morphology*) keeps bright structures smaller than a
   vertebral body plus its arch and removes soft tissue and large gradients;
3. the film is cut into horizontal bands; in each band the column profile of the top-hat is
   restricted to its main cluster around the peak and its third standardised moment
   (skewness) is computed: a tail to the right means posterior is right, anterior left;
4. a band votes only when it is confident (|skewness| ≥ :data:`MIN_SKEW`); the estimate
   needs :data:`MIN_VOTES` voting bands forming one roughly vertical chain (the spine
   column), and the confidence is the fraction of votes that agree times how much of the
   film looks like such a column.  Anything else abstains.

It is a heuristic and never replaces the user's choice: ``benchmarks/eval_facing.py``
reports its accuracy and abstention rate on synthetic and real films.
"""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import numpy.typing as npt

WORK_SIZE = 400
"""Longest side (px) the film is reduced to before the analysis."""
BANDS = 16
"""Number of horizontal bands the film is cut into."""
MIN_SKEW = 0.25
"""Least |skewness| of a band's bone-mass profile for the band to vote."""
MIN_VOTES = 9
"""Least number of voting bands for an estimate."""
MIN_AGREEMENT = 0.9
"""Least fraction of votes agreeing for an estimate."""
MAX_COLUMN_DRIFT = 0.25
"""Largest horizontal distance (fraction of the width) between the peaks of consecutive
voting bands: a spine is one near-vertical chain."""

F32 = npt.NDArray[np.float32]


def _normalised(pixels: npt.NDArray[np.generic], inverted: bool) -> F32:
    if pixels.ndim != 2 or min(pixels.shape) < 16:
        raise ValueError(f"need a 2-D image of at least 16 x 16 pixels, got {pixels.shape}")
    a = np.asarray(pixels, dtype=np.float32)
    if inverted:
        a = -a
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return np.zeros((16, 16), np.float32)
    lo, hi = np.percentile(finite, (1.0, 99.5))
    a = np.clip((np.nan_to_num(a, nan=float(lo)) - lo) / max(float(hi - lo), 1e-6), 0, 1)
    scale = WORK_SIZE / max(a.shape)
    if scale < 1:
        size = (max(16, round(a.shape[1] * scale)), max(16, round(a.shape[0] * scale)))
        a = cv2.resize(a, size, interpolation=cv2.INTER_AREA)
    out: F32 = a.astype(np.float32)
    return out


def _tophat(a: F32) -> F32:
    radius = max(3, round(min(a.shape) / 10))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    out: F32 = cv2.morphologyEx(a, cv2.MORPH_TOPHAT, kernel).astype(np.float32)
    return out


def _cluster(profile: F32) -> tuple[int, int]:
    """The run of columns around the profile's peak where it stays above a tenth of it."""
    peak = int(np.argmax(profile))
    floor = profile[peak] * 0.1
    lo = peak
    while lo > 0 and profile[lo - 1] > floor:
        lo -= 1
    hi = peak
    while hi < profile.size - 1 and profile[hi + 1] > floor:
        hi += 1
    return lo, hi + 1


def band_vote(profile: F32) -> tuple[float, float] | None:
    """(skewness, peak column) of one band's bone-mass profile, or None when it is empty.

    Skewness = E[(x-μ)³]/σ³ of the column index weighted by the profile over its main
    cluster; positive = tail to the right.

    >>> p = np.zeros(40, np.float32); p[10:16] = 10; p[16:30] = 2    # heavy left, tail right
    >>> round(band_vote(p)[0], 2) > 0
    True
    """
    if not np.isfinite(profile).all() or profile.max() <= 0:
        return None
    lo, hi = _cluster(profile)
    w = profile[lo:hi].astype(np.float64)
    if hi - lo < 4:
        return None
    x = np.arange(lo, hi, dtype=np.float64)
    mean = float((w * x).sum() / w.sum())
    var = float((w * (x - mean) ** 2).sum() / w.sum())
    if var <= 0:
        return None
    skew = float((w * (x - mean) ** 3).sum() / w.sum()) / var**1.5
    return skew, float(np.argmax(profile))


def _votes(top: F32) -> list[tuple[float, float]]:
    rows, columns = top.shape
    edges = np.linspace(0, rows, BANDS + 1).round().astype(int)
    background = float(np.percentile(top, 50))
    votes = []
    for r0, r1 in itertools.pairwise(edges):
        band = np.clip(top[r0:r1] - background, 0, None)
        profile = band.sum(axis=0).astype(np.float32)
        profile = cv2.GaussianBlur(profile.reshape(1, -1), (0, 0), max(1.0, columns / 200))[0]
        vote = band_vote(profile)
        if vote is not None and abs(vote[0]) >= MIN_SKEW:
            votes.append((vote[0], vote[1] / columns))
    return votes


def _chain(votes: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The longest run of consecutive votes whose peaks stay within :data:`MAX_COLUMN_DRIFT`."""
    best: list[tuple[float, float]] = []
    run: list[tuple[float, float]] = []
    for vote in votes:
        if run and abs(vote[1] - run[-1][1]) > MAX_COLUMN_DRIFT:
            run = []
        run.append(vote)
        if len(run) > len(best):
            best = list(run)
    return best


def anterior_side(
    pixels: npt.NDArray[np.generic], *, inverted: bool = False
) -> tuple[int, float, str]:
    """``(side, confidence, reason)``: side +1 = anterior towards image right, -1 = left,
    0 = abstain (confidence 0).  See the module docstring; raises ``ValueError`` for an
    array that is not a 2-D image."""
    a = _normalised(pixels, inverted)
    chain = _chain(_votes(_tophat(a)))
    if len(chain) < MIN_VOTES:
        return 0, 0.0, f"no spine column found ({len(chain)} of {BANDS} bands show one)"
    right_tails = sum(1 for skew, _ in chain if skew > 0)
    agreement = max(right_tails, len(chain) - right_tails) / len(chain)
    if agreement < MIN_AGREEMENT:
        return 0, 0.0, f"the {len(chain)} spine bands disagree ({agreement:.0%} agree)"
    coverage = min(1.0, len(chain) / (BANDS / 2))
    confidence = round(agreement * coverage, 3)
    side = -1 if right_tails * 2 > len(chain) else 1
    where = "right" if side < 0 else "left"
    return (
        side,
        confidence,
        (
            f"bone mass tails off to the {where} (posterior elements) in {agreement:.0%} of "
            f"{len(chain)} spine bands"
        ),
    )
