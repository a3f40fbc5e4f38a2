"""Perturbations of synthetic lateral films for ``eval_facing.py`` (benchmark only).

Each perturbation takes a :class:`~cobbdesk.synth.spine.SyntheticSpine` and a seeded
generator and returns ``(pixels, photometric_inverted, facing_flipped)``: the film as a
detector might deliver it and whether the truth is now the opposite facing.  The hardware
(collar, implants) is drawn in image coordinates from the film's own endplates, so it sits
where it would on a real patient: an anterior cervical plate on the front of the bodies,
pedicle screws and rods behind a lumbar column, a collar around the whole neck.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from cobbdesk.synth.spine import SyntheticSpine

Result = tuple[np.ndarray, bool, bool]
Perturbation = Callable[[SyntheticSpine, np.random.Generator], Result]


def _float(spine: SyntheticSpine) -> np.ndarray:
    return spine.pixels.astype(np.float32) / float((1 << spine.bits_stored) - 1)


def _back(a: np.ndarray, spine: SyntheticSpine) -> np.ndarray:
    top = (1 << spine.bits_stored) - 1
    return np.clip(a * top, 0, top).astype(np.uint16)


def plain(spine: SyntheticSpine, rng: np.random.Generator) -> Result:
    return spine.pixels, False, False


def mirrored(spine: SyntheticSpine, rng: np.random.Generator) -> Result:
    return spine.pixels[:, ::-1], False, True


def monochrome1(spine: SyntheticSpine, rng: np.random.Generator) -> Result:
    """Stored inverted (bone dark), flagged as MONOCHROME1."""
    return (spine.pixels.max() - spine.pixels).astype(np.uint16), True, False


def noisy(spine: SyntheticSpine, rng: np.random.Generator) -> Result:
    """Heavy quantum noise plus a little blur (a low-dose film)."""
    a = cv2.GaussianBlur(_float(spine), (0, 0), 1.2)
    a += rng.normal(0.0, 0.06, a.shape).astype(np.float32)
    return _back(a, spine), False, False


def contrast(spine: SyntheticSpine, rng: np.random.Generator) -> Result:
    """A different tone curve: gamma in [0.5, 2], a compressed range and an offset, plus a
    left-right exposure gradient (heel effect)."""
    a = _float(spine)
    gamma = float(np.exp(rng.uniform(math.log(0.5), math.log(2.0))))
    ramp = np.linspace(-1.0, 1.0, a.shape[1], dtype=np.float32)[None, :]
    a = np.clip(a, 0, 1) ** gamma * rng.uniform(0.3, 0.8) + rng.uniform(0.0, 0.2)
    return _back(a + rng.choice((-1, 1)) * 0.08 * ramp, spine), False, False


def rotated(spine: SyntheticSpine, rng: np.random.Generator) -> Result:
    """Rotated by up to ±10° about a point near the centre, then cropped by up to 15 % a side."""
    a = _float(spine)
    rows, cols = a.shape
    centre = (cols / 2 + rng.uniform(-0.1, 0.1) * cols, rows / 2 + rng.uniform(-0.1, 0.1) * rows)
    matrix = cv2.getRotationMatrix2D(centre, rng.uniform(-10.0, 10.0), 1.0)
    a = cv2.warpAffine(a, matrix, (cols, rows), borderMode=cv2.BORDER_REPLICATE)
    top, bottom = (int(rows * rng.uniform(0.0, 0.15)) for _ in range(2))
    left, right = (int(cols * rng.uniform(0.0, 0.15)) for _ in range(2))
    return _back(a[top : rows - bottom, left : cols - right], spine), False, False


def _px_per_mm(spine: SyntheticSpine) -> float:
    return 1.0 / spine.spacing_mm[1]


def _line(spine: SyntheticSpine, names: list[str], which: int) -> np.ndarray:
    """The anterior (which 0) or posterior (1) corners of the named endplates, (N, 2) px."""
    return np.array([spine.endplates[n][which] for n in names if n in spine.endplates])


def collar(spine: SyntheticSpine, rng: np.random.Generator) -> Result:
    """A rigid cervical collar (or, on a lumbar film, a brace): a uniform plastic shell
    wrapped round the body, seen as a dense rim at both skin lines and a faint veil between,
    with a few bright metal rivets."""
    a = _float(spine)
    mask = np.zeros(a.shape, np.float32)
    body = np.concatenate([_line(spine, list(spine.endplates), k) for k in (0, 1)])
    (x0, y0), (x1, y1) = body.min(axis=0), body.max(axis=0)
    mm = _px_per_mm(spine)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    axes = (int((x1 - x0) / 2 + rng.uniform(35, 55) * mm), int((y1 - y0) / 2 + 10 * mm))
    cv2.ellipse(mask, (int(cx), int(cy)), axes, 0, 0, 360, 1.0, -1)
    rim = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((9, 9), np.uint8))
    a += 0.04 * mask + 0.12 * cv2.GaussianBlur(rim, (0, 0), 2)
    for _ in range(4):
        t = rng.uniform(0, 2 * math.pi)
        x, y = cx + axes[0] * math.cos(t), cy + axes[1] * math.sin(t)
        cv2.circle(a, (int(x), int(y)), max(2, int(3 * mm)), 1.0, -1)
    return _back(a, spine), False, False


def implants(spine: SyntheticSpine, rng: np.random.Generator) -> Result:
    """Saturating metal: an anterior plate with screws on a cervical film (ACDF), posterior
    pedicle screws and a rod on a lumbar film (posterior fusion)."""
    a = _float(spine)
    mm = _px_per_mm(spine)
    names = [n for n in spine.endplates if n.endswith("_superior")]
    start = int(rng.integers(0, max(1, len(names) - 3)))
    levels = sorted(names, key=lambda n: spine.endplates[n][0][1])[start : start + 3]
    ant, post = _line(spine, levels, 0), _line(spine, levels, 1)
    inward = post - ant
    inward /= np.linalg.norm(inward, axis=1, keepdims=True)
    if spine.region == "cervical":
        plate = ant - inward * 2 * mm
        cv2.polylines(a, [plate.astype(np.int32)], False, 1.0, max(2, int(2.5 * mm)))
        heads, tips = plate + inward * 4 * mm, plate + inward * 14 * mm
    else:
        heads = post + inward * 25 * mm
        tips = post - inward * 20 * mm
        cv2.polylines(a, [heads.astype(np.int32)], False, 1.0, max(2, int(5 * mm)))
    for head, tip in zip(heads, tips, strict=True):
        cv2.line(a, tuple(head.astype(int)), tuple(tip.astype(int)), 1.0, max(2, int(5 * mm)))
    return _back(a, spine), False, False


PERTURBATIONS: dict[str, Perturbation] = {
    "plain": plain,
    "mirrored": mirrored,
    "monochrome1": monochrome1,
    "noisy": noisy,
    "contrast": contrast,
    "rotated+cropped": rotated,
    "collar": collar,
    "implants": implants,
}
