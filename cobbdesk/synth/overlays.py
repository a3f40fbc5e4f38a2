"""Soft tissue and the large overlapping structures of a synthetic lateral film.

The neck or abdomen, the airway, and the smooth structures a real film shows across the spine
(skull base, mandible, shoulders, pelvis, ribs, bowel gas), in the patient frame of
:mod:`cobbdesk.synth.anatomy`.  They are rendered at low resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cobbdesk.synth.anatomy import F32, Poly, Region, Segment, Vec, oval


def _profile(column: list[Segment], c: Vec, anterior: bool) -> Vec:
    """The anterior (or posterior) body line ``a(c)``, interpolated between the corners."""
    pts = [(s.sup_ant, s.inf_ant) if anterior else (s.sup_post, s.inf_post) for s in column]
    flat = np.array([p for pair in pts for p in pair])
    order = np.argsort(flat[:, 1])
    line: Vec = np.interp(c, flat[order, 1], flat[order, 0])
    return line


def _step(x: Vec, width: float) -> Vec:
    """A smooth 0 → 1 step around ``x = 0``, ``width`` mm wide."""
    return 0.5 * (1.0 + np.tanh(x / width))


def soft_tissue(region: Region, column: list[Segment], a: Vec, c: Vec) -> F32:
    """Soft-tissue density (fraction of full scale) at patient points ``(a, c)``.

    Cervical: the neck between its skin lines, the dark pharynx/trachea air column in front of
    the bodies, the head above and the shoulders below.  Lumbar: the abdomen, thicker near the
    spine, ending at the skin of the back.
    """
    front, back = _profile(column, c, True), _profile(column, c, False)
    top, bottom = column[0].sup_post[1], column[-1].inf_post[1]
    if region == "cervical":
        neck = _step(front + 42.0 + 0.25 * (c - top) - a, 3.0) * _step(a - back + 78.0, 3.0)
        head = _step(top - 8.0 - c, 10.0)
        shoulders = _step(c - (bottom - 35.0), 14.0) * _step(a - back + 95.0, 8.0)
        airway = np.exp(-(((a - front - 15.0) / 5.5) ** 2)) * _step(c - top + 20.0, 5.0)
        tissue = 0.19 * np.maximum(neck, head) + 0.22 * shoulders - 0.075 * airway
    else:
        skin = _step(a - back + 88.0, 4.0)
        tissue = 0.31 * skin * (1.0 - 0.3 * _step(a - front - 90.0, 60.0))
    return (0.025 + tissue).astype(np.float32)


@dataclass(frozen=True)
class Curve:
    """A thick smooth polyline (rib, mandible, clavicle) in patient mm."""

    points: Vec
    width_mm: float
    density: float
    edge_mm: float


def overlay_polys(
    region: Region, column: list[Segment], rng: np.random.Generator
) -> tuple[list[Poly], list[Curve]]:
    """Large, smooth structures (skull base, mandible, shoulders, pelvis, ribs, bowel gas):
    they are rendered at low resolution."""
    if region == "cervical":
        return _head_and_shoulders(column)
    s1 = next(s for s in column if s.name == "S1")
    t12 = column[0]
    polys = [
        Poly(oval(s1, 5.0, -10.0, 85.0, 60.0, n=40), 0.07, 0.06, 2.0, edge_mm=6.0),
        Poly(oval(s1, s1.depth + 30.0, 125.0, 25.0, 25.0, n=32), 0.14, 0.09, 3.0, edge_mm=1.5),
    ]
    curves = [
        Curve(_arc(s1, (-70.0, -60.0), (60.0, -55.0), 30.0), 3.0, 0.07, 1.5),
        Curve(_arc(s1, (-10.0, 60.0), (60.0, 30.0), -12.0), 2.5, 0.06, 1.5),
    ]
    for k in range(3):
        start = (-70.0 - 8.0 * k, -40.0 + 32.0 * k)
        curves.append(
            Curve(_arc(t12, start, (start[0] + 150.0, start[1] + 25.0), 25.0), 9.0, 0.05, 2.0)
        )
    for _ in range(int(rng.integers(6, 12))):
        seg = column[int(rng.integers(1, 7))]
        u, v = seg.depth + rng.uniform(20.0, 140.0), rng.uniform(-20.0, 40.0)
        ru, rv = rng.uniform(8.0, 25.0, 2)
        polys.append(Poly(oval(seg, u, v, ru, rv), -0.04, -0.04, 0.1, edge_mm=4.0))
    return polys, curves


def _arc(
    seg: Segment, start: tuple[float, float], end: tuple[float, float], bulge: float, n: int = 24
) -> Vec:
    """A circular-ish arc in ``seg``'s body frame from ``start`` to ``end``, bowed cranially by
    ``bulge`` mm at its middle."""
    t = np.linspace(0.0, 1.0, n)
    u = start[0] + (end[0] - start[0]) * t
    v = start[1] + (end[1] - start[1]) * t - bulge * 4.0 * t * (1.0 - t)
    return np.array([seg.local(a, b) for a, b in zip(u, v, strict=True)])


def _head_and_shoulders(column: list[Segment]) -> tuple[list[Poly], list[Curve]]:
    """Occiput, mastoid, mandible, hyoid, humeral heads and clavicles around a C-spine."""
    c2, c5, t1 = column[0], column[3], column[-1]
    d = c2.depth
    polys = [
        Poly(oval(c2, -70.0, -95.0, 110.0, 50.0, n=40), 0.17, 0.14, 5.0, edge_mm=6.0),
        Poly(oval(c2, -10.0, -42.0, 9.0, 13.0), 0.08, 0.05, 1.5, edge_mm=4.0),
        Poly(oval(c2, d + 70.0, -70.0, 70.0, 30.0, n=32), 0.12, 0.1, 2.0, edge_mm=8.0),
        Poly(oval(c5, d + 32.0, -22.0, 6.0, 2.5), 0.1, 0.06, 1.0, edge_mm=0.8),
        Poly(oval(t1, -30.0, 35.0, 60.0, 50.0, n=32), 0.08, 0.07, 3.0, edge_mm=25.0),
        Poly(oval(t1, 25.0, 55.0, 60.0, 50.0, n=32), 0.08, 0.07, 3.0, edge_mm=25.0),
    ]
    mandible = np.array(
        [
            c2.local(u, v)
            for u, v in [
                (d + 18.0, -60.0),
                (d + 20.0, -25.0),
                (d + 19.0, 2.0),
                (d + 26.0, 12.0),
                (d + 45.0, 10.0),
                (d + 110.0, -2.0),
            ]
        ]
    )
    curves = [
        Curve(mandible, 11.0, 0.13, 1.2),
        Curve(_arc(t1, (-60.0, 5.0), (90.0, 30.0), 10.0), 9.0, 0.07, 3.0),
    ]
    return polys, curves
