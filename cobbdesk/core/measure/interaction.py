"""Placing and dragging measurements as steppable generators: mouse logic without widgets.

After napari's ``_shapes_mouse_bindings``: the GUI turns Qt mouse events into image
coordinates and ``send``\\ s them to a generator, which yields what to show.  Nothing here knows
about widgets, so every interaction is tested with simulated clicks.

Placing a C2–C7 measurement takes four clicks; each step says what to click next:

>>> film = FilmContext(rows=400, columns=300)
>>> placing = place_measurement("C2-C7", film)
>>> next(placing).prompt
'C2 inferior endplate: click the anterior corner'
>>> placing.send((50, 80)).prompt
'C2 inferior endplate: click the posterior corner'
>>> placing.send((900, 80)).message
'(900.0, 80.0) is outside the image (300 × 400 px); click inside it'
>>> _ = placing.send((90, 90)); _ = placing.send((50, 300))
>>> done = placing.send((90, 290))
>>> done.done, round(done.command.measurement.angle, 2)
(True, 28.07)
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.measure.commands import (
    AddMeasurement,
    DeleteMeasurement,
    MeasurementSet,
    MoveLine,
    MovePoint,
)
from cobbdesk.core.measure.geometry import Point
from cobbdesk.core.measure.measurement import (
    CobbMeasurement,
    EndplateLine,
    LineName,
    PointName,
    Template,
)

MIN_LINE_PX = 1.0
"""Shortest endplate line accepted, in image pixels."""


@dataclass(frozen=True)
class FilmContext:
    """What interaction needs to know about the displayed film."""

    rows: int
    columns: int
    sop_instance_uid: str = ""
    pixel_sha256: str = ""
    spacing: tuple[float, float] | None = None
    spacing_source: SpacingSource = SpacingSource.NONE
    rater: str = ""
    pixel_aspect: tuple[float, float] | None = None
    """``(vertical, horizontal)`` pixel shape of a film without spacing (Film.pixel_aspect)."""

    @classmethod
    def from_film(cls, film: Any, rater: str = "") -> FilmContext:
        """Build from a :class:`~cobbdesk.core.dicom.film.Film` (duck-typed)."""
        return cls(
            rows=film.rows, columns=film.columns, sop_instance_uid=film.sop_instance_uid,
            pixel_sha256=film.pixel_sha256, spacing=film.spacing_mm,
            spacing_source=film.spacing_source, rater=rater,
            pixel_aspect=getattr(film, "pixel_aspect", None),
        )  # fmt: skip

    def contains(self, point: Point) -> bool:
        """True when ``point`` lies on the image (pixel edges included)."""
        x, y = point
        return -0.5 <= x <= self.columns - 0.5 and -0.5 <= y <= self.rows - 0.5

    def clamp(self, point: Point) -> Point:
        """``point`` (x, y) in px moved to the nearest point on the image, pixel edges included.

        x is limited to [−0.5, columns − 0.5] and y to [−0.5, rows − 0.5] (pixel-centre origin).

        >>> FilmContext(rows=10, columns=20).clamp((25, -3))
        (19.5, -0.5)
        """
        x = min(max(float(point[0]), -0.5), self.columns - 0.5)
        y = min(max(float(point[1]), -0.5), self.rows - 0.5)
        return (x, y)


class EventKind(StrEnum):
    """Which pointer event a :class:`PointerEvent` is: press, move or release."""

    PRESS = "press"
    MOVE = "move"
    RELEASE = "release"


@dataclass(frozen=True)
class PointerEvent:
    """A mouse event already mapped to image coordinates."""

    kind: EventKind
    position: Point


@dataclass(frozen=True)
class PlacementStep:
    """What the placement generator shows after each click."""

    prompt: str
    """Instruction for the next click ("" when complete)."""
    message: str = ""
    """Why the last click was refused ("" when it was accepted)."""
    points: tuple[Point, ...] = ()
    command: AddMeasurement | None = None

    @property
    def done(self) -> bool:
        """True when the fourth click completed the measurement (``command`` is set)."""
        return self.command is not None


def _as_point(value: Any) -> Point | None:
    try:
        point = (float(value[0]), float(value[1]))
    except (TypeError, ValueError, IndexError):
        return None
    return point if all(math.isfinite(v) for v in point) else None


def _refusal(point: Point | None, film: FilmContext, points: list[Point], min_px: float) -> str:
    if point is None:
        return "that click has no valid image position; click again"
    if not film.contains(point):
        return (
            f"({point[0]:.1f}, {point[1]:.1f}) is outside the image "
            f"({film.columns} × {film.rows} px); click inside it"
        )
    if len(points) % 2 == 1 and math.dist(points[-1], point) < min_px:
        return "that endplate line has no length: click the posterior corner away from the anterior"
    return ""


def place_measurement(
    template: Template | str, film: FilmContext, *, min_length_px: float = MIN_LINE_PX
) -> Generator[PlacementStep, Any, None]:
    """Collect upper anterior, upper posterior, lower anterior, lower posterior clicks.

    Yields a :class:`PlacementStep` first and after every click (``send`` an ``(x, y)``).  A
    refused click (outside the image, or a zero-length line) leaves the step unchanged apart
    from ``message``.  The last step carries the :class:`AddMeasurement` command.
    """
    template = Template(template)
    points: list[Point] = []
    message = ""
    while len(points) < 4:
        sent = yield PlacementStep(template.prompts[len(points)], message, tuple(points))
        point = _as_point(sent)
        message = _refusal(point, film, points, min_length_px)
        if not message and point is not None:
            points.append(point)
    measurement = CobbMeasurement(
        sop_instance_uid=film.sop_instance_uid, pixel_sha256=film.pixel_sha256,
        template=template, upper=EndplateLine(points[0], points[1]),
        lower=EndplateLine(points[2], points[3]), spacing=film.spacing,
        spacing_source=film.spacing_source, rater=film.rater,
        pixel_aspect=None if film.spacing is not None else film.pixel_aspect,
    )  # fmt: skip
    yield PlacementStep("", "", tuple(points), AddMeasurement(measurement))


@dataclass(frozen=True)
class Hit:
    """What lies under the pointer: a handle (``PointName``) or a whole line (``LineName``)."""

    measurement_id: str
    target: PointName | LineName
    distance: float

    @property
    def is_handle(self) -> bool:
        """True when the hit is a handle (a :class:`PointName`), False for a whole line."""
        return isinstance(self.target, PointName)


def distance_to_segment(point: Point, a: Point, b: Point) -> float:
    """Euclidean distance (px) from ``point`` to the segment ``a``–``b``.

    >>> distance_to_segment((5, 3), (0, 0), (10, 0)), distance_to_segment((13, 4), (0, 0), (10, 0))
    (3.0, 5.0)
    """
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else ((point[0] - a[0]) * dx + (point[1] - a[1]) * dy) / length2
    t = min(max(t, 0.0), 1.0)
    return math.hypot(point[0] - (a[0] + t * dx), point[1] - (a[1] + t * dy))


def hit_test(
    measurements: Iterable[CobbMeasurement], position: Point, tolerance_px: float
) -> Hit | None:
    """The nearest handle within ``tolerance_px``, else the nearest line, else None."""
    handles: list[Hit] = []
    lines: list[Hit] = []
    for m in measurements:
        for which in PointName:
            handles.append(Hit(m.id, which, math.dist(m.point(which), position)))
        for name in LineName:
            line = m.line(name)
            lines.append(Hit(m.id, name, distance_to_segment(position, *line.as_tuple())))
    for group in (handles, lines):
        near = [h for h in group if h.distance <= tolerance_px]
        if near:
            return min(near, key=lambda h: h.distance)
    return None


@dataclass(frozen=True)
class DragUpdate:
    """One step of a drag: the live preview, and on release the single command (or None)."""

    preview: CobbMeasurement
    angle: float
    command: MovePoint | MoveLine | None = None
    done: bool = False
    message: str = ""


def preview_point(m: CobbMeasurement, which: PointName, point: Point) -> CobbMeasurement:
    """``m`` with one handle moved (no timestamp change): the fast path for live previews."""
    line = m.line(which.line)
    moved = replace(line, **{which.end: point})
    if which.line is LineName.UPPER:
        return replace(m, upper=moved)
    return replace(m, lower=moved)


def preview_line(m: CobbMeasurement, name: LineName, dx: float, dy: float) -> CobbMeasurement:
    """``m`` with one whole line shifted by ``(dx, dy)`` px (no timestamp change)."""
    if name is LineName.UPPER:
        return replace(m, upper=m.upper.translated(dx, dy))
    return replace(m, lower=m.lower.translated(dx, dy))


def drag(
    m: CobbMeasurement, hit: Hit, press: Point, film: FilmContext,
    *, min_length_px: float = MIN_LINE_PX,
) -> Generator[DragUpdate, PointerEvent, None]:  # fmt: skip
    """Drag the handle or line of ``hit`` that was pressed at ``press``.

    Prime with ``next()``, then ``send`` :class:`PointerEvent`\\ s: every MOVE yields a preview;
    a RELEASE (or any other event) yields the final update with exactly one command (None when
    nothing moved) and ends the generator.
    """
    if isinstance(hit.target, PointName):
        return _drag_handle(m, hit.target, press, film, min_length_px)
    return _drag_line(m, hit.target, press, film)


def _drag_handle(
    m: CobbMeasurement, which: PointName, press: Point, film: FilmContext, min_px: float
) -> Generator[DragUpdate, PointerEvent, None]:
    start = m.point(which)
    grab = (start[0] - press[0], start[1] - press[1])
    other = m.point(which.partner)
    current, preview, message = start, m, ""
    event = yield DragUpdate(m, m.angle)
    while event.kind is EventKind.MOVE:
        target = film.clamp((event.position[0] + grab[0], event.position[1] + grab[1]))
        if math.dist(target, other) >= min_px:
            current, message = target, ""
            preview = preview_point(m, which, current)
        else:
            message = "the endplate line would have no length"
        event = yield DragUpdate(preview, preview.angle, message=message)
    command = None if current == start else MovePoint(m.id, which, current)
    yield DragUpdate(preview, preview.angle, command, done=True)


def _clamped_shift(line: EndplateLine, dx: float, dy: float, film: FilmContext) -> Point:
    xs = (line.anterior[0], line.posterior[0])
    ys = (line.anterior[1], line.posterior[1])
    dx = min(max(dx, -0.5 - min(xs)), film.columns - 0.5 - max(xs))
    dy = min(max(dy, -0.5 - min(ys)), film.rows - 0.5 - max(ys))
    return (dx, dy)


def _drag_line(
    m: CobbMeasurement, name: LineName, press: Point, film: FilmContext
) -> Generator[DragUpdate, PointerEvent, None]:
    shift, preview = (0.0, 0.0), m
    event = yield DragUpdate(m, m.angle)
    while event.kind is EventKind.MOVE:
        raw = (event.position[0] - press[0], event.position[1] - press[1])
        shift = _clamped_shift(m.line(name), raw[0], raw[1], film)
        preview = preview_line(m, name, *shift)
        event = yield DragUpdate(preview, preview.angle)
    command = None if shift == (0.0, 0.0) else MoveLine(m.id, name, *shift)
    yield DragUpdate(preview, preview.angle, command, done=True)


def delete_command(state: MeasurementSet, selected_id: str | None) -> DeleteMeasurement | None:
    """The command deleting the selected measurement, or None when nothing valid is selected."""
    if selected_id is None or selected_id not in state:
        return None
    return DeleteMeasurement(selected_id)


def nudge_command(
    m: CobbMeasurement, target: PointName | LineName, dx: float, dy: float, film: FilmContext
) -> MovePoint | MoveLine:
    """Arrow-key nudge of a handle or line (push with ``History.push(..., merge=True)``)."""
    if isinstance(target, PointName):
        x, y = m.point(target)
        return MovePoint(m.id, target, film.clamp((x + dx, y + dy)))
    return MoveLine(m.id, target, *_clamped_shift(m.line(target), dx, dy, film))
