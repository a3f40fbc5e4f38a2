"""Endplate refinement: move two clicked corners onto the endplate edge, with subpixel accuracy.

Method: intensity profiles are sampled (bilinear, :func:`cv2.remap`) along the normal of the
clicked line, in a band of ``± radius_px`` around it, after a light Gaussian blur.  In each
profile the strongest gradient of the expected polarity (bone on one side, disc on the other),
mildly weighted towards the click, is located to a fraction of a pixel by a parabola.  A line
is fitted to those edge points robustly (:func:`cv2.fitLine` with a Huber distance, then a
least-squares refit on inliers), and the refined anterior/posterior points are where that line
meets the perpendiculars through the original clicks.

Snapping never raises: when no reliable edge is found the original line comes back with
``snapped=False`` and a ``reason``.

>>> import numpy as np
>>> image = np.zeros((60, 80), np.uint16); image[:30] = 1000     # bone above row 29.5
>>> # the corners move along the normals of the clicked line onto the edge y = 29.5:
>>> result = snap_endplate(image, EndplateLine((10, 26), (70, 33)), radius_px=8,
...                        bone_side="above")
>>> result.snapped, [round(v, 1) for v in result.line.anterior + result.line.posterior]
(True, [9.6, 29.5, 70.4, 29.5])
>>> snap_endplate(np.zeros((60, 80)), EndplateLine((10, 26), (70, 33))).reason
'no edge found near the clicked line (image is flat there)'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
import numpy.typing as npt

from cobbdesk.core.measure.commands import ReplaceMeasurement
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine

FloatArray = npt.NDArray[np.float64]

STEP_PX = 0.5
"""Sampling step along each profile."""
MAX_ANGLE_CHANGE_DEG = 20.0
INLIER_PX = 1.5
MIN_EDGES = 5


@dataclass(frozen=True)
class SnapResult:
    """The refined line (or the original one) and why."""

    line: EndplateLine
    snapped: bool
    reason: str
    confidence: float = 0.0
    """0..1: share of profiles with an edge × share of those on the fitted line, damped by RMS."""
    profiles: int = 0
    edges: int = 0
    inliers: int = 0
    rms_px: float = math.nan
    angle_change_deg: float = 0.0


@dataclass(frozen=True)
class _Options:
    radius: float
    bone_side: str | None
    bone_bright: bool
    smoothing: float


@dataclass(frozen=True)
class _Frame:
    """The clicked line's frame: origin at the anterior click, unit direction and normal."""

    origin: tuple[float, float]
    direction: tuple[float, float]
    normal: tuple[float, float]
    length: float


def _frame(line: EndplateLine) -> _Frame | str:
    (ax, ay), (px, py) = line.anterior, line.posterior
    if not all(math.isfinite(v) for v in (ax, ay, px, py)):
        return "the clicked line has a non-finite coordinate"
    length = math.hypot(px - ax, py - ay)
    if length < 4.0:
        return f"the clicked line is too short to refine ({length:.1f} px)"
    d = ((px - ax) / length, (py - ay) / length)
    n = (-d[1], d[0])
    if n[1] < 0 or (n[1] == 0 and n[0] < 0):  # normal points down the image ("below")
        n = (-n[0], -n[1])
    return _Frame((ax, ay), d, n, length)


def _as_float_image(image: object) -> npt.NDArray[np.float32] | str:
    array = np.asarray(image)
    if array.ndim != 2 or min(array.shape) < 3:
        return f"snapping needs a 2-D image of at least 3 × 3 pixels, got shape {array.shape}"
    if array.dtype.kind not in "uifb":
        return f"snapping needs a numeric image, got dtype {array.dtype}"
    data = array.astype(np.float32)
    finite = np.isfinite(data)
    if not finite.all():
        data = np.where(finite, data, np.float32(data[finite].mean() if finite.any() else 0))
    return data


def _sample(
    image: npt.NDArray[np.float32], frame: _Frame, radius: float, smoothing: float
) -> tuple[FloatArray, FloatArray, FloatArray] | str:
    """Profiles (S × T), their s positions and t offsets; NaN where outside the image."""
    margin = 0.1 * frame.length
    s = np.arange(margin, frame.length - margin + 1e-9, 1.0)
    t = np.arange(-radius, radius + 1e-9, STEP_PX)
    (ox, oy), (dx, dy), (nx, ny) = frame.origin, frame.direction, frame.normal
    xs = ox + s[:, None] * dx + t[None, :] * nx
    ys = oy + s[:, None] * dy + t[None, :] * ny
    pad = 3.0 * smoothing + 2.0
    x0 = max(math.floor(xs.min() - pad), 0)
    y0 = max(math.floor(ys.min() - pad), 0)
    x1 = min(math.ceil(xs.max() + pad) + 1, image.shape[1])
    y1 = min(math.ceil(ys.max() + pad) + 1, image.shape[0])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return "the clicked line is outside the image"
    crop = np.ascontiguousarray(image[y0:y1, x0:x1])
    if smoothing > 0:
        crop = cv2.GaussianBlur(crop, (0, 0), smoothing)
    mx, my = (xs - x0).astype(np.float32), (ys - y0).astype(np.float32)
    profiles = cv2.remap(crop, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inside = (mx >= 0) & (mx <= crop.shape[1] - 1) & (my >= 0) & (my <= crop.shape[0] - 1)
    return np.where(inside, profiles.astype(np.float64), np.nan), s, t


def _polarity(gradient: FloatArray, bone_side: str | None, bone_bright: bool) -> float:
    """Expected sign of d(intensity)/dt along the downward normal at the endplate edge."""
    if bone_side in ("above", "below"):
        sign = -1.0 if bone_side == "above" else 1.0
        return sign if bone_bright else -sign
    mean = gradient.sum(axis=0) / max(gradient.shape[0], 1)
    peak = int(np.argmax(np.abs(mean)))
    return 1.0 if mean[peak] >= 0 else -1.0


def _noise(gradient: FloatArray) -> float:
    """Robust noise of the gradient, from differences between neighbouring profiles.

    Structure parallel to the line (the edge itself) cancels in those differences.
    """
    if gradient.shape[0] < 2:
        return 0.0
    diff = np.diff(gradient, axis=0)
    return 1.4826 * float(np.median(np.abs(diff - np.median(diff)))) / math.sqrt(2.0)


def _edges(gradient: FloatArray, t: FloatArray, sign: float) -> tuple[FloatArray, FloatArray]:
    """Per profile: subpixel edge offset (NaN when no reliable edge) and edge strength."""
    radius = max(float(t[-1]), STEP_PX)
    score = sign * gradient * np.exp(-0.5 * (t / radius) ** 2)[None, :]
    k = np.argmax(score, axis=1)
    rows = np.arange(score.shape[0])
    peak = score[rows, k]
    noise = _noise(gradient)
    strong = float(np.percentile(peak, 75)) if peak.size else 0.0
    ok = (peak > max(4.0 * noise, 0.3 * strong, 1e-6)) & (k > 0) & (k < score.shape[1] - 1)
    kk = np.clip(k, 1, score.shape[1] - 2)
    y0, y1, y2 = score[rows, kk - 1], score[rows, kk], score[rows, kk + 1]
    denom = y0 - 2.0 * y1 + y2
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.where(denom < 0, 0.5 * (y0 - y2) / denom, 0.0)
    offset = t[kk] + np.clip(delta, -0.5, 0.5) * STEP_PX
    return np.where(ok, offset, np.nan), peak


def _fit(points: npt.NDArray[np.float32]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Robust line fit: direction, a point on it, and the inlier mask."""
    vx, vy, x0, y0 = cv2.fitLine(points, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
    residual = (points[:, 0] - x0) * vy - (points[:, 1] - y0) * vx
    inliers = np.abs(residual) <= INLIER_PX
    if inliers.sum() >= MIN_EDGES:
        vx, vy, x0, y0 = cv2.fitLine(points[inliers], cv2.DIST_L2, 0, 0.01, 0.01).ravel()
        residual = (points[:, 0] - x0) * vy - (points[:, 1] - y0) * vx
        inliers = np.abs(residual) <= INLIER_PX
    return np.array([vx, vy], float), np.array([x0, y0], float), inliers.astype(bool)


def _project(
    line: EndplateLine, frame: _Frame, v: FloatArray, p0: FloatArray
) -> tuple[EndplateLine, float]:
    """Where the fitted line meets the normals through the clicks; and the larger shift."""
    n = np.array(frame.normal)
    cross_nv = n[0] * v[1] - n[1] * v[0]
    moved = []
    for click in (np.array(line.anterior), np.array(line.posterior)):
        w = p0 - click
        tau = (w[0] * v[1] - w[1] * v[0]) / cross_nv
        moved.append((tuple((click + tau * n).tolist()), abs(tau)))
    shift = max(moved[0][1], moved[1][1])
    return EndplateLine(moved[0][0], moved[1][0]), float(shift)


def _refine(
    image: npt.NDArray[np.float32], line: EndplateLine, frame: _Frame, options: _Options
) -> SnapResult:
    sampled = _sample(image, frame, options.radius, options.smoothing)
    if isinstance(sampled, str):
        return SnapResult(line, False, sampled)
    profiles, s, t = sampled
    gradient = np.nan_to_num(np.gradient(profiles, STEP_PX, axis=1), nan=0.0)
    if not np.any(np.abs(gradient) > 1e-6):
        return SnapResult(line, False, "no edge found near the clicked line (image is flat there)")
    offsets, _ = _edges(gradient, t, _polarity(gradient, options.bone_side, options.bone_bright))
    found = np.isfinite(offsets)
    count, total = int(found.sum()), len(s)
    if count < max(MIN_EDGES, 0.3 * total):
        return SnapResult(line, False, f"edge found in only {count} of {total} profiles",
                          profiles=total, edges=count)  # fmt: skip
    (ox, oy), (dx, dy), (nx, ny) = frame.origin, frame.direction, frame.normal
    sv, tv = s[found], offsets[found]
    points = np.stack([ox + sv * dx + tv * nx, oy + sv * dy + tv * ny], axis=1)
    v, p0, inliers = _fit(points.astype(np.float32))
    return _judge(line, frame, (v, p0), points, inliers, total=total, radius=options.radius)


def _judge(
    line: EndplateLine, frame: _Frame, fitted: tuple[FloatArray, FloatArray],
    points: FloatArray, inliers: FloatArray, *, total: int, radius: float,
) -> SnapResult:  # fmt: skip
    """Accept the fitted line or explain why not."""
    v, p0 = fitted
    count, n_in = len(points), int(inliers.sum())
    residual = (points[:, 0] - p0[0]) * v[1] - (points[:, 1] - p0[1]) * v[0]
    rms = float(np.sqrt(np.mean(residual[inliers] ** 2))) if n_in else math.inf
    cos = abs(v[0] * frame.direction[0] + v[1] * frame.direction[1])
    change = math.degrees(math.acos(min(1.0, float(cos))))
    failed = SnapResult(line, False, "", 0.0, total, count, n_in, rms, change)
    if n_in < max(MIN_EDGES, 0.5 * count):
        return replace(failed, reason="edge points do not lie on one line")
    if change > MAX_ANGLE_CHANGE_DEG:
        return replace(failed, reason=f"fitted edge turns {change:.0f}° from the clicks")
    refined, shift = _project(line, frame, v, p0)
    if shift > radius + 2.0 * INLIER_PX:
        return replace(failed, reason="fitted edge is too far from the clicks")
    confidence = (count / total) * (n_in / count) / (1.0 + rms)
    return replace(failed, line=refined, snapped=True, reason="snapped to endplate edge",
                   confidence=confidence)  # fmt: skip


def snap_endplate(
    image: object, line: EndplateLine, *, radius_px: float = 10.0,
    bone_side: str | None = None, bone_bright: bool = True, smoothing_px: float = 1.0,
) -> SnapResult:  # fmt: skip
    """Refine a clicked endplate line to the edge in ``image`` (2-D modality values, any dtype).

    ``bone_side`` is where the vertebral body lies relative to the line in the image ("above"
    for an inferior endplate on an upright film, "below" for a superior one, None to guess from
    the strongest mean gradient); ``bone_bright`` is False when bone has low values
    (MONOCHROME1).  Never raises: on failure the original line is returned with a reason.
    """
    frame = _frame(line)
    if isinstance(frame, str):
        return SnapResult(line, False, frame)
    if not (math.isfinite(radius_px) and radius_px >= 1.0):
        return SnapResult(line, False, f"search radius must be at least 1 px, got {radius_px}")
    data = _as_float_image(image)
    if isinstance(data, str):
        return SnapResult(line, False, data)
    smoothing = smoothing_px if math.isfinite(smoothing_px) and smoothing_px > 0 else 0.0
    try:
        options = _Options(float(radius_px), bone_side, bone_bright, smoothing)
        return _refine(data, line, frame, options)
    except (cv2.error, ValueError, ZeroDivisionError, FloatingPointError) as exc:
        return SnapResult(line, False, f"refinement failed: {exc}")


def snap_measurement(
    image: object, m: CobbMeasurement, *, radius_px: float = 10.0, bone_bright: bool = True
) -> tuple[ReplaceMeasurement | None, tuple[SnapResult, SnapResult]]:
    """Snap both endplates of ``m``; the command (None if neither moved) undoes to the clicks."""
    upper_side, lower_side = m.template.bone_sides
    upper = snap_endplate(image, m.upper, radius_px=radius_px, bone_side=upper_side,
                          bone_bright=bone_bright)  # fmt: skip
    lower = snap_endplate(image, m.lower, radius_px=radius_px, bone_side=lower_side,
                          bone_bright=bone_bright)  # fmt: skip
    if not (upper.snapped or lower.snapped):
        return None, (upper, lower)
    return ReplaceMeasurement(m.with_lines(upper.line, lower.line)), (upper, lower)
