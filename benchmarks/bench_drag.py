"""Handle-drag update time of the Qt-free core (goal: <= 2 ms per mouse move).

Drives :func:`cobbdesk.core.measure.interaction.drag` with simulated moves, as the viewer does, and
times each ``send`` (preview measurement + signed angle), plus hit-testing among several
measurements.  Run: ``python benchmarks/bench_drag.py [moves]``.
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.measure.interaction import (
    EventKind,
    FilmContext,
    Hit,
    PointerEvent,
    drag,
    hit_test,
    place_measurement,
)
from cobbdesk.core.measure.measurement import CobbMeasurement, LineName, PointName

FILM = FilmContext(
    rows=3000, columns=2500, spacing=(0.143, 0.143), spacing_source=SpacingSource.PIXEL_SPACING
)


def placed(offset: float = 0.0) -> CobbMeasurement:
    gen = place_measurement("C2-C7", FILM)
    next(gen)
    clicks = [
        (800 + offset, 900),
        (1000 + offset, 930),
        (820 + offset, 2000),
        (1010 + offset, 1960),
    ]
    step = None
    for click in clicks:
        step = gen.send(click)
    assert step is not None and step.command is not None
    return step.command.measurement


def time_drag(target: PointName | LineName, moves: int) -> list[float]:
    m = placed()
    press = m.point(target) if isinstance(target, PointName) else (900.0, 915.0)
    gen = drag(m, Hit(m.id, target, 0.0), press, FILM)
    next(gen)
    rng = np.random.default_rng(0)
    path = press + np.cumsum(rng.normal(0, 2, (moves, 2)), axis=0)
    samples = []
    for x, y in path:
        event = PointerEvent(EventKind.MOVE, (float(x), float(y)))
        t0 = time.perf_counter()
        update = gen.send(event)
        samples.append((time.perf_counter() - t0) * 1000)
        assert update.command is None
    final = gen.send(PointerEvent(EventKind.RELEASE, (float(path[-1][0]), float(path[-1][1]))))
    assert final.done
    return samples


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p99 = ordered[int(0.99 * (len(ordered) - 1))]
    print(
        f"{name:<28} mean {statistics.fmean(samples):.4f} ms  median "
        f"{statistics.median(samples):.4f} ms  p99 {p99:.4f} ms  max {ordered[-1]:.4f} ms"
    )


def main() -> None:
    moves = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    print(f"{moves} simulated moves per drag (goal: <= 2 ms per update)")
    report("handle drag update", time_drag(PointName.UPPER_POSTERIOR, moves))
    report("line drag update", time_drag(LineName.LOWER, moves))
    measurements = [placed(offset=300.0 * i) for i in range(5)]
    samples = []
    for x in np.linspace(700, 2500, 2000):
        t0 = time.perf_counter()
        hit_test(measurements, (float(x), 915.0), 8.0)
        samples.append((time.perf_counter() - t0) * 1000)
    report("hit test (5 measurements)", samples)


if __name__ == "__main__":
    main()
