"""Anatomy of the synthetic lateral spine, in millimetres, in the patient frame.

The patient frame is ``(a, c)``: ``a`` points **anterior**, ``c`` points **caudal** (down).  An
endplate's angle ``alpha`` is the direction of the vector from its posterior to its anterior
corner, ``atan2(dc, da)``; walking down the column every lordotic wedge *increases* alpha, so the
signed Cobb angle between an upper and a lower endplate is ``alpha_lower - alpha_upper``.

Bones are unions of convex polygons (:class:`Poly`), optionally with circular concavities cut
out (the waist of a vertebral body).  :mod:`cobbdesk.synth.spine` rasterises them.

>>> column = build_column("lumbar", 40.0, np.random.default_rng(0))
>>> by_name = {s.name: s for s in column}
>>> round(float(np.degrees(by_name["S1"].alpha_sup - by_name["L1"].alpha_sup)), 9)
40.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Region = Literal["cervical", "lumbar"]
Vec = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Circle:
    """A disc in patient mm (used to cut concavities out of polygons)."""

    center: tuple[float, float]
    radius: float


@dataclass(frozen=True)
class Poly:
    """A convex polygon in patient mm with a bright cortical shell.

    ``density`` is the cortex value, ``inner`` the value inside the shell (trabecular bone),
    both as fractions of the full scale added to the soft tissue.  ``cuts`` are circles removed
    from the polygon (they make a concave waist without touching the endplates).
    """

    points: Vec
    density: float
    inner: float
    cortex_mm: float
    cuts: tuple[Circle, ...] = ()
    texture: bool = False
    edge_mm: float = 0.0
    edge_cortex: tuple[float, ...] | None = None


@dataclass(frozen=True)
class Segment:
    """One vertebral body: corners in patient mm and endplate angles in radians."""

    name: str
    sup_post: Vec
    sup_ant: Vec
    inf_ant: Vec
    inf_post: Vec
    alpha_sup: float
    alpha_inf: float
    height: float

    @property
    def depth(self) -> float:
        """Antero-posterior size of the superior endplate."""
        return float(np.hypot(*(self.sup_ant - self.sup_post)))

    def local(self, u: float, v: float) -> Vec:
        """A point given in the body frame: ``u`` anterior from the posterior-superior corner
        along the mean endplate direction, ``v`` caudal along the body axis."""
        mid = 0.5 * (self.alpha_sup + self.alpha_inf)
        return self.sup_post + u * _e(mid) + v * _n(mid)


# (name, depth, height, disc height below) in mm; sacral "discs" are fused remnants.
_LEVELS: dict[str, list[tuple[str, float, float, float]]] = {
    "cervical": [
        ("C2", 16.0, 17.0, 4.6),
        ("C3", 15.5, 13.5, 5.0),
        ("C4", 15.5, 13.5, 5.2),
        ("C5", 16.0, 13.6, 5.5),
        ("C6", 16.5, 13.8, 5.5),
        ("C7", 17.0, 14.5, 5.2),
        ("T1", 18.0, 16.0, 4.5),
    ],
    "lumbar": [
        ("T12", 33.0, 24.0, 7.5),
        ("L1", 36.0, 26.0, 9.0),
        ("L2", 38.0, 27.0, 10.0),
        ("L3", 40.0, 28.0, 11.0),
        ("L4", 42.0, 28.0, 12.0),
        ("L5", 44.0, 27.0, 11.0),
        ("S1", 46.0, 27.0, 2.0),
        ("S2", 36.0, 22.0, 1.6),
        ("S3", 28.0, 18.0, 1.4),
        ("S4", 21.0, 14.0, 1.2),
        ("S5", 15.0, 11.0, 0.0),
    ],
}
# Share of the requested lordosis taken by each element of the template (body, disc, ...).
_TEMPLATE_WEIGHTS: dict[str, tuple[list[str], list[float]]] = {
    "cervical": (
        ["C2-C3", "C3", "C3-C4", "C4", "C4-C5", "C5", "C5-C6", "C6", "C6-C7", "C7"],
        [0.15, 0.05, 0.15, 0.05, 0.15, 0.05, 0.15, 0.05, 0.15, 0.05],
    ),
    "lumbar": (
        ["L1", "L1-L2", "L2", "L2-L3", "L3", "L3-L4", "L4", "L4-L5", "L5", "L5-S1"],
        [0.01, 0.07, 0.02, 0.10, 0.03, 0.15, 0.04, 0.22, 0.08, 0.28],
    ),
}
# Fixed wedges (deg) of the elements outside the template; the sacrum curves kyphotically.
_FIXED_WEDGES = {
    "C2": 2.0,
    "C7-T1": 3.0,
    "T1": -2.0,
    "T12": -3.0,
    "T12-L1": 0.0,
    "S1": -5.0,
    "S1-S2": -2.0,
    "S2": -8.0,
    "S2-S3": -2.0,
    "S3": -9.0,
    "S3-S4": -2.0,
    "S4": -10.0,
    "S4-S5": -2.0,
    "S5": -10.0,
}
# Orientation of the first template endplate is ``_BASE_TILT - lordosis / 2`` (+ jitter).
_BASE_TILT = {"cervical": 10.0, "lumbar": 15.0}
TEMPLATE_ENDPLATES = {
    "cervical": ("C2_inferior", "C7_inferior"),
    "lumbar": ("L1_superior", "S1_superior"),
}
MIN_HEIGHT_MM = 0.8


def _e(alpha: float) -> Vec:
    """Unit vector along an endplate of angle ``alpha`` (posterior → anterior)."""
    return np.array([np.cos(alpha), np.sin(alpha)])


def _n(alpha: float) -> Vec:
    """Unit normal of an endplate of angle ``alpha``, pointing caudally."""
    return np.array([-np.sin(alpha), np.cos(alpha)])


def element_names(region: Region) -> list[str]:
    """Bodies and discs from top to bottom, e.g. ``["C2", "C2-C3", "C3", ...]``."""
    levels = [name for name, *_ in _LEVELS[region]]
    out: list[str] = []
    for upper, lower in zip(levels, [*levels[1:], None], strict=True):
        out.append(upper)
        if lower is not None:
            out.append(f"{upper}-{lower}")
    return out


def wedge_plan(region: Region, lordosis_deg: float, rng: np.random.Generator) -> dict[str, float]:
    """Wedge angle (deg) of every body and disc; the template ones sum to ``lordosis_deg``."""
    names, weights = _TEMPLATE_WEIGHTS[region]
    jittered = np.asarray(weights) * np.exp(rng.normal(0.0, 0.15, len(weights)))
    shares = jittered / jittered.sum()
    plan = dict(_FIXED_WEDGES)
    plan.update({name: float(lordosis_deg * s) for name, s in zip(names, shares, strict=True)})
    return plan


def build_column(region: Region, lordosis_deg: float, rng: np.random.Generator) -> list[Segment]:
    """The vertebral bodies from top to bottom, posterior walls aligned (a smooth George line).

    Raises ``ValueError`` when the lordosis is so extreme that a disc or body would collapse.
    """
    plan = wedge_plan(region, lordosis_deg, rng)
    specs = {name: (depth, height, disc) for name, depth, height, disc in _LEVELS[region]}
    names = element_names(region)
    first_template = _TEMPLATE_WEIGHTS[region][0][0]
    before = sum(plan[n] for n in names[: names.index(first_template)])
    tilt = _BASE_TILT[region] - lordosis_deg / 2.0 + rng.normal(0.0, 2.0) - before
    alpha, post = np.radians(tilt), np.zeros(2)
    scale = float(np.exp(rng.normal(0.0, 0.04)))
    column: list[Segment] = []
    for name in names:
        wedge = np.radians(plan[name])
        upper = name.split("-")[0]
        depth, height, disc = (scale * v for v in specs[upper])
        size, thickness = (height, depth) if "-" not in name else (disc, column[-1].depth)
        if size <= 0:
            continue
        post_h = size - 0.5 * thickness * np.tan(wedge)
        ant_h = size + 0.5 * thickness * np.tan(wedge)
        if min(post_h, ant_h) < MIN_HEIGHT_MM * scale:
            raise ValueError(f"lordosis {lordosis_deg:g}° collapses {name}; use a smaller angle")
        end_post = post + post_h * _n(alpha + wedge / 2)
        if "-" not in name:
            column.append(
                Segment(
                    name,
                    post,
                    post + depth * _e(alpha),
                    end_post + depth * _e(alpha + wedge),
                    end_post,
                    float(alpha),
                    float(alpha + wedge),
                    float(size),
                )
            )
        post, alpha = end_post, alpha + wedge
    return column


def endplates(column: list[Segment]) -> dict[str, tuple[Vec, Vec]]:
    """``{"C3_superior": (anterior, posterior), ...}`` in patient mm, visible endplates only.

    The C2 top (the dens) and the fused sacral endplates below the S1 plateau are not listed.
    """
    out: dict[str, tuple[Vec, Vec]] = {}
    for seg in column:
        if seg.name != "C2" and (seg.name[0] != "S" or seg.name == "S1"):
            out[f"{seg.name}_superior"] = (seg.sup_ant, seg.sup_post)
        if seg.name[0] != "S":
            out[f"{seg.name}_inferior"] = (seg.inf_ant, seg.inf_post)
    return out


def oval(seg: Segment, u: float, v: float, ru: float, rv: float, *, n: int = 18) -> Vec:
    """A convex polygon approximating an ellipse in ``seg``'s body frame."""
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return np.array([seg.local(u + ru * np.cos(k), v + rv * np.sin(k)) for k in t])


def _quad(seg: Segment, uv: list[tuple[float, float]]) -> Vec:
    """Polygon vertices given in ``seg``'s body frame, in units of the body height for ``v``."""
    return np.array([seg.local(u, v * seg.height) for u, v in uv])


def body_polys(seg: Segment, region: Region) -> list[Poly]:
    """The vertebral body: a trapezoid with a cortical rim (thick, bright endplates; thin
    walls) and a concave anterior waist.  Sacral segments below S1 are drawn by
    :func:`sacrum_polys`."""
    if seg.name[0] == "S" and seg.name != "S1":
        return []
    cervical = region == "cervical"
    corners = np.array([seg.sup_post, seg.sup_ant, seg.inf_ant, seg.inf_post])
    wall = seg.inf_ant - seg.sup_ant
    h = float(np.hypot(*wall))
    depth = 0.04 * seg.depth if seg.name != "S1" else 0.0
    sag = 1.6 * max(depth, 1e-3)
    radius = ((h / 2) ** 2 + sag**2) / (2 * sag)
    outward = _e(0.5 * (seg.alpha_sup + seg.alpha_inf))
    centre = seg.sup_ant + wall / 2 + (radius - depth) * outward
    cuts = (Circle((float(centre[0]), float(centre[1])), float(radius)),) if depth else ()
    plate, side = (0.8, 0.45) if cervical else (1.3, 0.7)
    polys = [
        Poly(corners, 0.31, 0.22, plate, cuts, texture=True, edge_cortex=(plate, side, plate, side))
    ]
    if seg.name == "C2":
        dens = [(0.27, 0.1), (0.7, 0.1), (0.66, -0.6), (0.55, -0.88), (0.42, -0.9), (0.3, -0.62)]
        pts = np.array([seg.local(u * seg.depth, v * seg.height) for u, v in dens])
        polys.append(Poly(pts, 0.28, 0.2, 0.7, texture=True, edge_mm=0.3))
    return polys


def sacrum_polys(column: list[Segment]) -> list[Poly]:
    """S2–S5 fused into one tapering mass, with faint transverse ridges at the fused discs."""
    segs = [s for s in column if s.name[0] == "S" and s.name != "S1"]
    s1 = next(s for s in column if s.name == "S1")
    pts = np.array([p for s in segs for p in (s.sup_post, s.sup_ant, s.inf_ant, s.inf_post)])
    hull = _convex_hull(pts)
    polys = [Poly(hull, 0.26, 0.19, 1.0, texture=True, edge_mm=0.4)]
    for s in segs:
        ridge = np.array(
            [s.local(0.0, -1.2), s.local(s.depth, -1.2), s.local(s.depth, 0.4), s.local(0.0, 0.4)]
        )
        polys.append(Poly(ridge, -0.05, -0.05, 0.1, edge_mm=0.6))
    crest = np.array(
        [
            s.local(u, v * s.height)
            for s in [s1, *segs[:2]]
            for u, v in ((-6.0, 0.0), (-20.0, 0.1), (-20.0, 0.9), (-6.0, 1.0))
        ]
    )
    polys.append(Poly(_convex_hull(crest), 0.13, 0.08, 1.0, edge_mm=1.0))
    h = s1.height
    polys.append(
        Poly(
            oval(s1, 0.35 * s1.depth, 0.35 * h, 0.45 * s1.depth, 0.3 * h),
            0.07,
            0.05,
            0.8,
            edge_mm=1.0,
        )
    )
    polys.append(
        Poly(
            _quad(s1, [(-12.0, -0.45), (-22.0, -0.45), (-24.0, 0.3), (-12.0, 0.3)]),
            0.17,
            0.1,
            1.0,
            edge_mm=0.5,
        )
    )
    return polys


def _convex_hull(pts: Vec) -> Vec:
    """Counter-clockwise convex hull (Andrew's monotone chain)."""
    order = sorted(map(tuple, pts))

    def half(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for p in points:
            while len(out) >= 2 and _cross(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
        return out[:-1]

    return np.array(half(order) + half(order[::-1]))


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def posterior_polys(seg: Segment, region: Region) -> list[Poly]:
    """Pedicle, articular pillar, lamina and spinous process of one vertebra (paired, so the
    lateral projection of both sides overlaps and looks softer than the body)."""
    if seg.name.startswith("S"):
        return []
    h = seg.height
    if region == "cervical":
        spin = {"C2": 20.0, "C6": 17.0, "C7": 26.0, "T1": 27.0}.get(seg.name, 12.0)
        drop = spin * (0.4 if seg.name != "C2" else 0.15) / h
        shapes = [
            [(0.5, 0.15), (-6.0, 0.15), (-6.0, 0.55), (0.5, 0.6)],
            [(-5.0, -0.22), (-13.0, 0.1), (-13.5, 1.0), (-5.0, 0.7)],
            [(-12.0, 0.25), (-17.0, 0.35), (-17.0, 0.95), (-12.0, 0.9)],
            [
                (-16.0, 0.4),
                (-16.0 - spin, 0.45 + drop),
                (-16.0 - spin, 0.45 + drop + 3.5 / h),
                (-16.0, 0.92),
            ],
        ]
        dens, inner = (0.17, 0.1)
    else:
        spin, drop = 28.0, 4.0 / h
        shapes = [
            [(1.0, 0.06), (-16.0, 0.08), (-16.0, 0.5), (1.0, 0.5)],
            [(-13.0, -0.25), (-21.0, -0.3), (-27.0, 1.05), (-18.0, 1.1)],
            [(-24.0, 0.2), (-24.0 - spin, 0.25 + drop), (-26.0 - spin, 0.85 + drop), (-24.0, 0.95)],
        ]
        dens, inner = (0.17, 0.1)
    polys = [Poly(_quad(seg, s), dens, inner, 0.9, edge_mm=0.5) for s in shapes]
    if region == "lumbar":
        polys.append(Poly(oval(seg, -8.0, 0.35 * h, 9.0, 5.0), 0.05, 0.04, 0.5, edge_mm=1.5))
    return polys


def atlas_polys(c2: Segment) -> list[Poly]:
    """C1: anterior arch, lateral masses and posterior arch, positioned around the dens."""
    d = c2.depth
    return [
        Poly(oval(c2, d + 4.0, -11.5, 3.2, 5.5), 0.3, 0.17, 1.0),
        Poly(oval(c2, 0.4 * d, -12.0, 10.0, 5.5), 0.1, 0.07, 0.8),
        Poly(
            np.array(
                [
                    c2.local(u, v)
                    for u, v in [(-9.0, -15.0), (-30.0, -14.0), (-30.0, -8.0), (-9.0, -9.0)]
                ]
            ),
            0.22,
            0.12,
            1.0,
        ),
        Poly(oval(c2, -33.0, -11.0, 4.5, 5.5), 0.22, 0.12, 1.0),
    ]
