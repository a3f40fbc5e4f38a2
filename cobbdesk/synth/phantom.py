"""Block phantoms with known endplate edges, for the snapping tests and benchmark.

A vertebral body is a bright rectangle ``(centre x, centre y, tilt°, width, height)`` in image
pixels with a brighter 3 px cortical rim, rendered supersampled ×4, blurred and noisy (12 bit).
Its inferior and superior endplates are its long edges, so their true angles are known.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

from cobbdesk.core.measure.measurement import EndplateLine

Body = tuple[float, float, float, float, float]  # centre x, centre y, tilt°, width, height


def render(
    shape: tuple[int, int],
    bodies: list[Body],
    rng: np.random.Generator,
    noise: float = 60.0,
    blur: float = 1.2,
) -> npt.NDArray[np.uint16]:
    """The phantom image of ``bodies`` (rows × columns ``shape``)."""
    ss = 4
    ys = (np.arange(shape[0] * ss) + 0.5) / ss - 0.5
    xs = (np.arange(shape[1] * ss) + 0.5) / ss - 0.5
    xx, yy = np.meshgrid(xs, ys)
    image = np.full(xx.shape, 400.0)
    for cx, cy, tilt, w, h in bodies:
        c, s = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
        u = (xx - cx) * c + (yy - cy) * s
        v = -(xx - cx) * s + (yy - cy) * c
        inside = (np.abs(u) <= w / 2) & (np.abs(v) <= h / 2)
        rim = inside & ((w / 2 - np.abs(u) < 3) | (h / 2 - np.abs(v) < 3))
        image[inside], image[rim] = 1100.0, 1700.0
    image = cv2.resize(image, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    image = cv2.GaussianBlur(image, (0, 0), blur) + rng.normal(0, noise, image.shape)
    phantom: npt.NDArray[np.uint16] = np.clip(image, 0, 4095).astype(np.uint16)
    return phantom


def endplate(body: Body, which: str = "inferior", facing_left: bool = True) -> EndplateLine:
    """The true inferior (or superior) endplate of ``body``; anterior on the facing side."""
    cx, cy, tilt, w, h = body
    c, s = math.cos(math.radians(tilt)), math.sin(math.radians(tilt))
    v = h / 2 if which == "inferior" else -h / 2
    ends = [(cx + u * c - v * s, cy + u * s + v * c) for u in (-w / 2, w / 2)]
    return EndplateLine(*ends) if facing_left else EndplateLine(ends[1], ends[0])


def jitter(line: EndplateLine, rng: np.random.Generator, px: float = 5.0) -> EndplateLine:
    """The line as a rater clicks it: each corner moved by up to ±``px`` in x and y."""
    a = np.add(line.anterior, rng.uniform(-px, px, 2))
    p = np.add(line.posterior, rng.uniform(-px, px, 2))
    return EndplateLine((float(a[0]), float(a[1])), (float(p[0]), float(p[1])))


def line_error(a: EndplateLine, b: EndplateLine) -> float:
    """Unsigned angle between two lines, in degrees (0..90)."""
    da = math.atan2(a.posterior[1] - a.anterior[1], a.posterior[0] - a.anterior[0])
    db = math.atan2(b.posterior[1] - b.anterior[1], b.posterior[0] - b.anterior[0])
    d = math.degrees(da - db) % 180.0
    return min(d, 180.0 - d)
