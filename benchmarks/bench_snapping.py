"""Endplate snapping accuracy: angle errors with and without snapping.

1. Random phantoms (a vertebral body with a cortical rim above a disc space and the next body,
   blurred and noisy): clicks on the inferior endplate corners with ±5 px uniform noise.
2. C2–C7-like pairs (two bodies with known tilts): Cobb-angle error from noisy clicks.
3. When :mod:`cobbdesk.synth.spine` is available: realistic synthetic lateral cervical and lumbar
   films, template endplates clicked with ±5 px noise, Cobb error vs the drawn truth.

Run: ``python benchmarks/bench_snapping.py [n_phantoms]`` (default 300).
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from cobbdesk.core.measure.geometry import cobb_angle
from cobbdesk.core.measure.measurement import EndplateLine, Template
from cobbdesk.core.measure.snapping import snap_endplate
from cobbdesk.synth.phantom import Body, endplate, jitter, line_error, render

CLICK_NOISE_PX = 5.0


def summary(name: str, before: list[float], after: list[float], failed: int) -> None:
    print(
        f"{name}: n={len(before)}  without snapping mean {np.mean(before):.3f}° "
        f"max {np.max(before):.3f}°  |  with snapping mean {np.mean(after):.3f}° "
        f"max {np.max(after):.3f}°  (not snapped: {failed})"
    )


def endplate_phantoms(n: int, rng: np.random.Generator) -> None:
    before, after, failed, times = [], [], 0, []
    for i in range(n):
        tilt = rng.uniform(-30, 30)
        body: Body = (*rng.uniform(100, 156, 2), tilt, rng.uniform(60, 100), rng.uniform(40, 70))
        step = body[4] + rng.uniform(8, 20)
        below: Body = (
            body[0] - step * math.sin(math.radians(tilt)),
            body[1] + step * math.cos(math.radians(tilt)),
            tilt + rng.uniform(-8, 8),
            body[3],
            body[4],
        )
        image = render((256, 256), [body, below], rng)
        true = endplate(body, facing_left=i % 2 == 0)
        click = jitter(true, rng, CLICK_NOISE_PX)
        t0 = time.perf_counter()
        result = snap_endplate(image, click, radius_px=10, bone_side="above")
        times.append((time.perf_counter() - t0) * 1000)
        failed += not result.snapped
        before.append(line_error(click, true))
        after.append(line_error(result.line, true))
    summary("endplate angle, random phantoms", before, after, failed)
    print(f"  snap time per endplate: mean {np.mean(times):.2f} ms, max {np.max(times):.2f} ms")


def cobb_pairs(n: int, rng: np.random.Generator) -> None:
    before, after, failed = [], [], 0
    for i in range(n):
        t_up, t_low = rng.uniform(-15, 15), rng.uniform(-15, 15)
        upper: Body = (128 + rng.uniform(-10, 10), 70, t_up, rng.uniform(60, 90), 50)
        lower: Body = (128 + rng.uniform(-10, 10), 195, t_low, rng.uniform(60, 90), 50)
        image = render((270, 256), [upper, lower], rng)
        left = i % 2 == 0
        true_u, true_l = endplate(upper, "inferior", left), endplate(lower, "inferior", left)
        truth = cobb_angle(true_u.as_tuple(), true_l.as_tuple())
        cu, cl = jitter(true_u, rng, CLICK_NOISE_PX), jitter(true_l, rng, CLICK_NOISE_PX)
        su = snap_endplate(image, cu, radius_px=10, bone_side="above")
        sl = snap_endplate(image, cl, radius_px=10, bone_side="above")
        failed += (not su.snapped) + (not sl.snapped)
        before.append(abs(cobb_angle(cu.as_tuple(), cl.as_tuple()) - truth))
        after.append(abs(cobb_angle(su.line.as_tuple(), sl.line.as_tuple()) - truth))
    summary("Cobb angle, C2-C7-like phantom pairs", before, after, failed)


def synthetic_films(n: int, rng: np.random.Generator) -> None:
    try:
        from cobbdesk.synth.spine import make_lateral_spine
    except ImportError:
        print("cobbdesk.synth.spine not available: realistic films skipped")
        return
    for region in ("cervical", "lumbar"):
        before, after, failed = [], [], 0
        for seed in range(n):
            spine = make_lateral_spine(
                region,
                float(rng.uniform(-10, 50)),
                seed=seed,
                facing="left" if seed % 2 else "right",
            )
            sides = Template(spine.template).bone_sides
            truth, spacing = spine.true_angle_deg, spine.spacing_mm
            clicks = [
                jitter(EndplateLine(*line), rng, CLICK_NOISE_PX)
                for line in spine.template_endplates
            ]
            snapped = [
                snap_endplate(spine.pixels, c, radius_px=12, bone_side=side)
                for c, side in zip(clicks, sides, strict=True)
            ]
            failed += sum(not s.snapped for s in snapped)
            before.append(
                abs(cobb_angle(clicks[0].as_tuple(), clicks[1].as_tuple(), spacing) - truth)
            )
            after.append(
                abs(
                    cobb_angle(snapped[0].line.as_tuple(), snapped[1].line.as_tuple(), spacing)
                    - truth
                )
            )
        summary(f"Cobb angle, synthetic {region} films ({spine.template})", before, after, failed)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rng = np.random.default_rng(2026)
    print(f"click noise ±{CLICK_NOISE_PX:g} px per coordinate")
    endplate_phantoms(n, rng)
    cobb_pairs(n, rng)
    synthetic_films(max(n // 5, 20), rng)


if __name__ == "__main__":
    main()
