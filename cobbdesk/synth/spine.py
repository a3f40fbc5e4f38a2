"""Synthetic lateral cervical and lumbar spine radiographs with known endplates.

:func:`make_lateral_spine` draws a film whose template Cobb angle (C2 inferior vs C7 inferior,
or L1 superior vs S1 superior) is exactly the requested lordosis;
:func:`cobbdesk.synth.dicom.write_dicom` stores it as a DX "For Presentation" object.
Used by tests, benchmarks and ``cobbdesk --demo``.

The anatomy is defined in millimetres (:mod:`cobbdesk.synth.anatomy`) and rasterised with
the requested spacing, so an anisotropic film is stretched exactly as a real detector would.
Everything is deterministic: the same arguments give byte-identical pixels.

>>> spine = make_lateral_spine("cervical", 25.0, rows=500, columns=400, spacing_mm=(0.6, 0.6))
>>> spine.template, round(spine.true_angle_deg, 6), spine.pixels.dtype.name
('C2-C7', 25.0, 'uint16')
>>> sorted(spine.endplates)[:3]
['C2_inferior', 'C3_inferior', 'C3_superior']
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from cobbdesk.synth import anatomy as anat
from cobbdesk.synth import overlays
from cobbdesk.synth.anatomy import Poly, Region, Segment

Facing = Literal["left", "right"]
Corner = tuple[float, float]
Endplate = tuple[Corner, Corner]
F32 = npt.NDArray[np.float32]

_DEFAULT_SHAPE = {"cervical": (2000, 1600), "lumbar": (2600, 2000)}
_TEMPLATE = {"cervical": "C2-C7", "lumbar": "L1-S1"}
_LOW_RES = 4  # soft tissue and large overlays are drawn at 1/4 resolution


@dataclass(frozen=True, eq=False)
class SyntheticSpine:
    """A synthetic film and the ground truth drawn into it.

    ``endplates`` maps e.g. ``"C7_inferior"`` to ``((x_anterior, y_anterior), (x_posterior,
    y_posterior))`` in image coordinates (pixels, origin at the centre of the top-left pixel):
    the corners of the cortical edge exactly as rasterised.  ``true_angle_deg`` is the signed
    Cobb angle of the ``template`` pair, computed in millimetres.
    """

    pixels: npt.NDArray[np.uint16]
    region: Region
    spacing_mm: tuple[float, float]
    facing: Facing
    endplates: dict[str, Endplate]
    true_angle_deg: float
    template: str
    lordosis_deg: float
    bits_stored: int
    seed: int

    @property
    def template_endplates(self) -> tuple[Endplate, Endplate]:
        """The (upper, lower) endplates of the template pair."""
        upper, lower = anat.TEMPLATE_ENDPLATES[self.region]
        return self.endplates[upper], self.endplates[lower]

    def default_window(self) -> tuple[float, float]:
        """A (centre, width) VOI window covering the anatomy, in stored MONOCHROME2 values."""
        lo, hi = np.percentile(self.pixels[::4, ::4], (1.0, 99.7))
        return float(round((lo + hi) / 2)), float(max(round(hi - lo), 2))


@dataclass(frozen=True)
class _Raster:
    """Maps patient mm to (possibly down-scaled) pixel coordinates."""

    origin: tuple[float, float]  # image mm of patient (0, 0)
    sign: float  # +1 when anterior is +x (facing right)
    spacing: tuple[float, float]  # (row_mm, column_mm) of the full-resolution film
    scale: tuple[float, float] = (1.0, 1.0)  # full-res pixels per raster pixel (y, x)

    def to_px(self, pts: anat.Vec) -> anat.Vec:
        """Patient mm (N, 2) → raster pixel coordinates (N, 2) as ``(x, y)``."""
        x = (self.origin[0] + self.sign * pts[..., 0]) / self.spacing[1]
        y = (self.origin[1] + pts[..., 1]) / self.spacing[0]
        return np.stack([(x + 0.5) / self.scale[1] - 0.5, (y + 0.5) / self.scale[0] - 0.5], -1)

    @property
    def px_mm(self) -> tuple[float, float]:
        """(row_mm, column_mm) of one raster pixel."""
        return self.spacing[0] * self.scale[0], self.spacing[1] * self.scale[1]


def _edge_distances(
    pts: anat.Vec, xs: F32, ys: F32, raster: _Raster, cortex: list[float]
) -> tuple[F32, F32]:
    """Signed distance (px, inside > 0) to a convex polygon, and the same minus the cortex
    (``cortex[i]`` mm thick along edge ``i``)."""
    area = np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1])
    rs, cs = raster.px_mm
    outer = inner = np.full((ys.size, xs.size), np.inf, np.float32)
    for p, q, cortex_mm in zip(pts, np.roll(pts, -1, axis=0), cortex, strict=True):
        d = q - p
        length = math.hypot(*d)
        if length < 1e-9:
            continue
        nx, ny = (-d[1] / length, d[0] / length) if area > 0 else (d[1] / length, -d[0] / length)
        dist = (nx * (xs[None, :] - p[0]) + ny * (ys[:, None] - p[1])).astype(np.float32)
        outer = np.minimum(outer, dist)
        thick = cortex_mm * math.hypot(nx * rs, ny * cs) / (rs * cs)
        inner = np.minimum(inner, dist - np.float32(thick))
    return outer, inner


def _cut_distance(cut: anat.Circle, xs: F32, ys: F32, raster: _Raster) -> F32:
    """Signed distance (px, outside the circle > 0) to a circle, an ellipse in pixels."""
    ((cx, cy),) = raster.to_px(np.array([cut.center]))
    rs, cs = raster.px_mm
    rx, ry = cut.radius / cs, cut.radius / rs
    dx, dy = (xs[None, :] - cx) / rx, (ys[:, None] - cy) / ry
    rho = np.sqrt(dx * dx + dy * dy) + 1e-9
    grad = np.sqrt((dx / rx) ** 2 + (dy / ry) ** 2) / rho + 1e-9
    away: F32 = ((rho - 1.0) / grad).astype(np.float32)
    return away


def _draw(poly: Poly, raster: _Raster, out: F32, trab: F32 | None) -> None:
    """Add ``poly`` (anti-aliased, with its cortical shell) to ``out`` in place."""
    pts = raster.to_px(poly.points)
    pad = 3 + int(poly.edge_mm / min(raster.px_mm))
    x0, y0 = np.floor(pts.min(axis=0)).astype(int) - pad
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + pad + 1
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, out.shape[1]), min(y1, out.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    xs, ys = np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32)
    cortex = list(poly.edge_cortex or [poly.cortex_mm] * len(pts))
    outer, inner = _edge_distances(pts, xs, ys, raster, cortex)
    for cut in poly.cuts:
        away = _cut_distance(cut, xs, ys, raster)
        outer = np.minimum(outer, away)
        inner = np.minimum(inner, away - np.float32(min(cortex) / min(raster.px_mm)))
    soft = max(1.0, poly.edge_mm / min(raster.px_mm))
    cover = np.clip(outer / np.float32(soft) + 0.5, 0.0, 1.0)
    core = np.clip(inner / np.float32(max(2.0, soft)) + 0.5, 0.0, 1.0)
    out[y0:y1, x0:x1] += poly.density * cover + (poly.inner - poly.density) * core
    if trab is not None and poly.texture:
        trab[y0:y1, x0:x1] += poly.inner * core


def _place(
    region: Region,
    column: list[Segment],
    shape: tuple[int, int],
    spacing: tuple[float, float],
    *,
    facing: Facing,
    rng: np.random.Generator,
) -> _Raster:
    """Centre the template levels in the field of view (with a little seeded jitter)."""
    sign = 1.0 if facing == "right" else -1.0
    pts = np.array([p for s in column for p in (s.sup_post, s.sup_ant, s.inf_ant, s.inf_post)])
    a_mid = 0.5 * (pts[:, 0].min() + pts[:, 0].max()) - 10.0
    upper, lower = anat.TEMPLATE_ENDPLATES[region]
    ends = anat.endplates(column)
    c_mid = 0.5 * (ends[upper][1][1] + ends[lower][1][1]) + (15.0 if region == "lumbar" else 0.0)
    width, height = shape[1] * spacing[1], shape[0] * spacing[0]
    jitter = rng.normal(0.0, 3.0, 2)
    origin = (width / 2 - sign * a_mid + jitter[0], height * 0.47 - c_mid + jitter[1])
    raster = _Raster(origin, sign, spacing)
    corners = raster.to_px(np.array([p for k in (upper, lower) for p in ends[k]]))
    margin = 5.0 / min(spacing)
    if corners.min() < margin or np.any(corners.max(axis=0) > np.array(shape[::-1]) - margin):
        raise ValueError(
            f"a {shape[0]}x{shape[1]} film at {spacing} mm is too small for the "
            f"{region} spine ({width:.0f} x {height:.0f} mm)"
        )
    return raster


def _background(
    region: Region,
    column: list[Segment],
    raster: _Raster,
    shape: tuple[int, int],
    rng: np.random.Generator,
) -> F32:
    """Soft tissue and large overlays, drawn at low resolution and resized to full size."""
    small = (math.ceil(shape[0] / _LOW_RES), math.ceil(shape[1] / _LOW_RES))
    low = _Raster(
        raster.origin, raster.sign, raster.spacing, (shape[0] / small[0], shape[1] / small[1])
    )
    ys, xs = np.mgrid[0 : small[0], 0 : small[1]].astype(np.float64)
    rs, cs = low.px_mm
    a = ((xs + 0.5) * cs - 0.5 * raster.spacing[1] - raster.origin[0]) * raster.sign
    c = (ys + 0.5) * rs - 0.5 * raster.spacing[0] - raster.origin[1]
    tissue = overlays.soft_tissue(region, column, a, c)
    tissue *= np.float32(1.0) + np.float32(0.06) * ((ys / small[0]) - 0.5).astype(np.float32)
    polys, curves = overlays.overlay_polys(region, column, rng)
    for poly in polys:
        _draw(poly, low, tissue, None)
    for curve in curves:
        _draw_curve(curve, low, tissue)
    full: F32 = cv2.resize(tissue, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return full


def _draw_curve(curve: overlays.Curve, raster: _Raster, out: F32) -> None:
    """Add a thick, soft polyline to ``out`` in place."""
    pts = np.rint(raster.to_px(curve.points) * 16).astype(np.int32)
    mask = np.zeros(out.shape, np.uint8)
    width = max(1, round(curve.width_mm / min(raster.px_mm)))
    cv2.polylines(mask, [pts], False, 255, width, cv2.LINE_AA, shift=4)
    sigma = curve.edge_mm / min(raster.px_mm)
    layer = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma) if sigma > 0.3 else mask
    out += layer.astype(np.float32) * np.float32(curve.density / 255.0)


def _texture(shape: tuple[int, int], spacing: tuple[float, float], rng: np.random.Generator) -> F32:
    """Blobby trabecular texture (grain about 0.7 mm) with roughly unit variance."""
    step = max(1.0, 0.7 / min(spacing))
    small = rng.standard_normal(
        (math.ceil(shape[0] / step) + 1, math.ceil(shape[1] / step) + 1), dtype=np.float32
    )
    grain: F32 = cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    grain *= np.float32(1.0 / max(float(grain.std()), 1e-6))
    return grain


def _endplates_px(column: list[Segment], raster: _Raster) -> dict[str, Endplate]:
    """All visible endplates as ((x_ant, y_ant), (x_post, y_post)) pixel tuples."""
    out: dict[str, Endplate] = {}
    for name, (ant, post) in anat.endplates(column).items():
        (xa, ya), (xp, yp) = raster.to_px(np.array([ant, post]))
        out[name] = ((float(xa), float(ya)), (float(xp), float(yp)))
    return out


def signed_angle_mm(
    upper: Endplate, lower: Endplate, spacing: tuple[float, float], facing: Facing
) -> float:
    """Signed Cobb angle (deg, lordosis > 0) of two endplates given in pixels.

    >>> signed_angle_mm(((0, 0), (10, 1)), ((0, 20), (10, 19)), (1.0, 1.0), "left")
    11.421186274...
    """

    def alpha(line: Endplate) -> float:
        (xa, ya), (xp, yp) = line
        da = (xa - xp) * spacing[1] * (1.0 if facing == "right" else -1.0)
        return math.atan2((ya - yp) * spacing[0], da)

    return math.degrees(alpha(lower) - alpha(upper))


def make_lateral_spine(
    region: Region,
    lordosis_deg: float,
    *,
    rows: int | None = None,
    columns: int | None = None,
    spacing_mm: tuple[float, float] | None = None,
    facing: Facing = "left",
    seed: int = 0,
    noise: float = 0.012,
    blur: float = 0.7,
    bits_stored: int = 12,
) -> SyntheticSpine:
    """Draw a lateral cervical (C2–T1) or lumbar (T12–sacrum) film with a known lordosis.

    ``spacing_mm`` is (row_mm, column_mm), 0.15 mm when None; ``noise`` is the quantum noise
    standard deviation as a fraction of full scale at mid-grey; ``blur`` the Gaussian sigma of
    the detector blur in pixels.  Raises ``ValueError`` for impossible requests.
    """
    if region not in _TEMPLATE or facing not in ("left", "right"):
        raise ValueError(f"region must be cervical|lumbar and facing left|right: {region}/{facing}")
    if not (8 <= bits_stored <= 16 and abs(lordosis_deg) <= 80 and noise >= 0 and blur >= 0):
        raise ValueError("need 8 <= bits_stored <= 16, |lordosis| <= 80, noise >= 0, blur >= 0")
    shape = (rows or _DEFAULT_SHAPE[region][0], columns or _DEFAULT_SHAPE[region][1])
    spacing = (float(spacing_mm[0]), float(spacing_mm[1])) if spacing_mm else (0.15, 0.15)
    rng = np.random.default_rng([seed, 1 if region == "lumbar" else 0])
    column = anat.build_column(region, float(lordosis_deg), rng)
    raster = _place(region, column, shape, spacing, facing=facing, rng=rng)
    image = _background(region, column, raster, shape, rng)
    trab = np.zeros(shape, np.float32)
    for poly in _bone_polys(region, column):
        _draw(poly, raster, image, trab)
    image += trab * _texture(shape, spacing, rng) * np.float32(0.12)
    pixels = _finish(image, rng, noise, blur, bits_stored)
    ends = _endplates_px(column, raster)
    upper, lower = anat.TEMPLATE_ENDPLATES[region]
    angle = signed_angle_mm(ends[upper], ends[lower], spacing, facing)
    return SyntheticSpine(
        pixels,
        region,
        spacing,
        facing,
        ends,
        angle,
        _TEMPLATE[region],
        float(lordosis_deg),
        bits_stored,
        seed,
    )


def _bone_polys(region: Region, column: list[Segment]) -> list[Poly]:
    """Every full-resolution bone shape: bodies, posterior elements, C1."""
    polys: list[Poly] = []
    for seg in column:
        polys += anat.body_polys(seg, region) + anat.posterior_polys(seg, region)
    if region == "cervical":
        polys += anat.atlas_polys(column[0])
    else:
        polys += anat.sacrum_polys(column)
    return polys


def _finish(
    image: F32, rng: np.random.Generator, noise: float, blur: float, bits_stored: int
) -> npt.NDArray[np.uint16]:
    """Detector blur, signal-dependent noise, then quantisation to ``bits_stored`` bits."""
    if blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    if noise > 0:
        sigma: F32 = cv2.max(image, 0.0)
        sigma += np.float32(0.05)
        cv2.sqrt(sigma, sigma)
        sigma *= np.float32(noise / 0.6)
        grain = rng.standard_normal(image.shape, dtype=np.float32)
        grain *= sigma
        image += grain
    top = (1 << bits_stored) - 1
    image *= np.float32(0.82 * top)
    image += np.float32(0.04 * top + 0.5)  # + 0.5 then truncation rounds half up
    np.clip(image, 0.0, top + 0.25, out=image)
    pixels: npt.NDArray[np.uint16] = image.astype(np.uint16)
    return pixels


def pixel_digest(spine: SyntheticSpine) -> str:
    """SHA-256 of the pixel bytes (used to derive UIDs)."""
    return hashlib.sha256(spine.pixels.tobytes()).hexdigest()
