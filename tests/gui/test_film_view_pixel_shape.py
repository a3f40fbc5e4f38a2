"""The film view draws non-square pixels with their physical shape (PS3.3 10.7.1.3 Pixel
Spacing: row spacing = the pixel's height, column spacing = its width; PS3.3 C.7.6.3.1.7 Pixel
Aspect Ratio), by the one rule ``store.calibration.film_shape``.

The check that matters: two endplate lines drawn on screen meet at the angle CobbDesk reports.
Lines: upper (100, 100)-(200, 100) (horizontal), lower (100, 300)-(200, 260): 100 columns
across, 40 rows up.  By hand:

* rows 0.1 mm, columns 0.2 mm (or Pixel Aspect Ratio 1\\2): atan((40 · 0.1) / (100 · 0.2))
  = atan(0.2) = 11.3099°;
* square (0.1 \\ 0.1): atan(40 / 100) = atan(0.4) = 21.8014°;
* rows 0.2 mm, columns 0.1 mm: atan((40 · 0.2) / (100 · 0.1)) = atan(0.8) = 38.6598°.

Before the change every film was drawn with square pixels: the 1:2 film's lines met at 21.80°
on screen beside a reported 11.31°.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QImage

from cobbdesk.core.dicom.film import Film, SpacingSource, VoiFunction, Window
from cobbdesk.core.measure.geometry import cobb_angle
from cobbdesk.core.viewing import Orientation
from cobbdesk.gui.viewer.film_view import FilmView

ROWS, COLUMNS = 400, 300
UPPER = ((100.0, 100.0), (200.0, 100.0))
LOWER = ((100.0, 300.0), (200.0, 260.0))
#: (spacing, Pixel Aspect Ratio, hand-computed angle between the lines in degrees)
SHAPES = {
    "rows 0.1, columns 0.2": ((0.1, 0.2), None, math.degrees(math.atan(0.2))),
    "aspect 1\\2": (None, (1.0, 2.0), math.degrees(math.atan(0.2))),
    "square": ((0.1, 0.1), None, math.degrees(math.atan(0.4))),
    "rows 0.2, columns 0.1": ((0.2, 0.1), None, math.degrees(math.atan(0.8))),
}
ORIENTATIONS = [
    Orientation(turns, h, v) for turns in range(4) for h, v in ((False, False), (True, False),
                                                                 (False, True))
]  # fmt: skip


def _film(spacing: Any = None, aspect: Any = None, pixels: np.ndarray | None = None) -> Film:
    if pixels is None:
        pixels = (np.arange(ROWS * COLUMNS, dtype=np.uint16) % 4096).reshape(ROWS, COLUMNS)
    return Film(
        path=Path("/x/shape.dcm"), pixels=pixels, rows=pixels.shape[0], columns=pixels.shape[1],
        bits_stored=12, bits_allocated=16, pixel_representation=0, photometric="MONOCHROME2",
        transfer_syntax="1.2.840.10008.1.2.1", transfer_syntax_name="Explicit VR Little Endian",
        windows=[], voi_luts=[], voi_function=VoiFunction.LINEAR, presentation_lut_shape="",
        spacing_mm=spacing,
        spacing_source=SpacingSource.PIXEL_SPACING if spacing else SpacingSource.NONE,
        digest="0" * 64, pixel_range=(float(pixels.min()), float(pixels.max())),
        pixel_aspect=aspect,
    )  # fmt: skip


def _view(qtbot: Any, film: Film, size: tuple[int, int] = (700, 500)) -> FilmView:
    view = FilmView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.show()
    qtbot.waitExposed(view)
    view.set_film(film)
    return view


def _on_view(view: FilmView, p: tuple[float, float]) -> QPointF:
    """Image point → viewport point, unrounded (``mapFromScene`` rounds to whole pixels)."""
    return view.viewportTransform().map(QPointF(*p))


def _direction(view: FilmView, line: tuple[tuple[float, float], ...]) -> float:
    a, b = (_on_view(view, p) for p in line)
    return math.atan2(b.y() - a.y(), b.x() - a.x())


def _view_angle(view: FilmView) -> float:
    """The unsigned angle between the two lines as drawn in the viewport, in degrees (0–90)."""
    angle = abs(math.degrees(_direction(view, UPPER) - _direction(view, LOWER))) % 180
    return min(angle, 180 - angle)


@pytest.mark.parametrize("name", list(SHAPES))
def test_lines_on_screen_meet_at_the_reported_angle(qtbot: Any, name: str) -> None:
    spacing, aspect, expected = SHAPES[name]
    view = _view(qtbot, _film(spacing, aspect))
    reported = abs(cobb_angle(UPPER, LOWER, spacing=spacing or aspect))
    assert reported == pytest.approx(expected, abs=1e-9)  # the hand-computed angle
    for orientation in ORIENTATIONS:
        view.orientation = orientation
        view.fit()
        assert _view_angle(view) == pytest.approx(expected, abs=0.1), orientation
        whole = view.mapFromScene(QPointF(*LOWER[1])) - view.mapFromScene(QPointF(*LOWER[0]))
        exact = _on_view(view, LOWER[1]) - _on_view(view, LOWER[0])
        assert abs(whole.x() - exact.x()) <= 1 and abs(whole.y() - exact.y()) <= 1


def test_a_square_film_is_drawn_as_before(qtbot: Any) -> None:
    view = _view(qtbot, _film((0.143, 0.143)))
    view.one_to_one()
    t = view.transform()
    assert (t.m11(), t.m12(), t.m21(), t.m22()) == (1.0, 0.0, 0.0, 1.0)
    view.rotate_quarter(1)
    view.flip(horizontal=True)
    t = view.transform()
    z = view.zoom
    # Qt's rotate(90) [[0, 1], [-1, 0]] then the flip diag(-z, z) (row vectors: p · R · F)
    assert (t.m11(), t.m12(), t.m21(), t.m22()) == pytest.approx((0.0, z, z, 0.0))


@pytest.mark.parametrize("spacing, aspect", [((0.1, 0.2), None), (None, (1.0, 2.0))])
def test_one_to_one_is_one_screen_pixel_along_the_shorter_side(
    qtbot: Any, spacing: Any, aspect: Any
) -> None:
    view = _view(qtbot, _film(spacing, aspect))
    view.one_to_one()
    t = view.transform()
    assert math.hypot(t.m21(), t.m22()) == pytest.approx(1.0)  # rows: the shorter side
    assert math.hypot(t.m11(), t.m12()) == pytest.approx(2.0)  # columns: twice as wide
    rect = view.viewportTransform().mapRect(QRectF(-0.5, -0.5, COLUMNS, ROWS))
    assert (rect.width(), rect.height()) == pytest.approx((2 * COLUMNS, ROWS))


@pytest.mark.parametrize("turns", range(4))
@pytest.mark.parametrize("spacing", [(0.1, 0.2), (0.2, 0.1), (0.1, 0.1)])
def test_fit_fills_the_viewport_along_the_limiting_side(
    qtbot: Any, turns: int, spacing: tuple[float, float]
) -> None:
    view = _view(qtbot, _film(spacing))
    view.orientation = Orientation(turns)
    view.fit()
    rect = view.viewportTransform().mapRect(QRectF(-0.5, -0.5, COLUMNS, ROWS))
    room = view.viewport().size()
    width, height = room.width() - 4, room.height() - 4
    assert rect.width() <= width + 1e-6 and rect.height() <= height + 1e-6
    assert rect.width() == pytest.approx(width) or rect.height() == pytest.approx(height)
    # physical proportions: drawn width / height = (columns · col_mm) / (rows · row_mm), turned
    ratio = (COLUMNS * spacing[1]) / (ROWS * spacing[0])
    ratio = 1 / ratio if turns % 2 else ratio
    assert rect.width() / rect.height() == pytest.approx(ratio, rel=1e-9)
    centre = rect.center() - QPointF(view.viewport().rect().center())
    assert abs(centre.x()) <= 1.5 and abs(centre.y()) <= 1.5  # whole scroll steps


class _Clicks:
    """A FilmView tool that records the image points of left presses."""

    def __init__(self) -> None:
        self.points: list[tuple[float, float]] = []

    def press(self, x: float, y: float, modifiers: Qt.KeyboardModifier) -> bool:
        self.points.append((x, y))
        return True

    def move(self, x: float, y: float, buttons: Qt.MouseButton) -> bool:
        return False

    def release(self, x: float, y: float) -> bool:
        return True


@pytest.mark.parametrize("orientation", [Orientation(), Orientation(1, True), Orientation(3)])
def test_a_click_maps_back_to_the_image_point_under_it(
    qtbot: Any, orientation: Orientation
) -> None:
    view = _view(qtbot, _film((0.1, 0.2)))
    view.orientation = orientation
    view.one_to_one()
    view.centerOn(QPointF(150.0, 200.0))
    tool = _Clicks()
    view.tool = tool
    targets = [(150.0, 200.0), (120.25, 180.5), (170.0, 230.75)]
    for target in targets:
        at = view.mapFromScene(QPointF(*target))
        qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
        x, y = tool.points[-1]
        back = view.mapToScene(at)
        assert (x, y) == pytest.approx((back.x(), back.y()))
        assert view.mapFromScene(QPointF(x, y)) == at  # the round trip
        # the click is within half a screen pixel of the target, per screen axis
        miss = _on_view(view, (x, y)) - _on_view(view, target)
        assert abs(miss.x()) <= 0.5 + 1e-9 and abs(miss.y()) <= 0.5 + 1e-9
    # one screen pixel across the columns (unturned) is half a column: columns are 2 px wide
    if orientation == Orientation():
        tool.points.clear()
        at = view.mapFromScene(QPointF(150.0, 200.0))
        for step in ((0, 0), (2, 0), (0, 2)):
            qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton,
                             pos=at + type(at)(*step))  # fmt: skip
        (x0, y0), (x1, y1), (x2, y2) = tool.points
        assert (x1 - x0, y1 - y0) == pytest.approx((1.0, 0.0))
        assert (x2 - x0, y2 - y0) == pytest.approx((0.0, 2.0))


def _screen(view: FilmView) -> np.ndarray:
    view.viewport().repaint()
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    rows, columns, stride = image.height(), image.width(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=rows * stride)
    return data.reshape(rows, stride)[:, :columns].copy()


def test_pixels_are_painted_with_their_shape_and_sharp(qtbot: Any) -> None:
    """Columns alternate black/white: at 1:1 with 1:2 pixels each column is two screen pixels
    wide (nearest, no blur) and each row one high; the painted film covers the mapped rect."""
    stripes = np.tile((np.arange(COLUMNS) % 2 * 4095).astype(np.uint16), (ROWS, 1))
    view = _view(qtbot, _film((0.1, 0.2), pixels=stripes), size=(500, 300))
    view.set_voi(Window(2048, 4096))
    view.one_to_one()
    view.centerOn(QPointF(100.0, 200.0))
    screen = _screen(view)
    middle = screen[screen.shape[0] // 2, 10:-10]
    assert set(np.unique(middle).tolist()) <= {0, 255}
    edges = np.flatnonzero(np.diff(middle.astype(int)))
    assert len(edges) > 50 and np.all(np.diff(edges) == 2)  # every run: 2 screen pixels
    # each screen pixel shows the column under its centre
    device = view.viewportTransform().inverted()[0]
    u = np.arange(10, screen.shape[1] - 10)
    v = screen.shape[0] // 2
    columns = np.array([math.floor(device.map(QPointF(x + 0.5, v + 0.5)).x() + 0.5) for x in u])
    on = (columns >= 0) & (columns < COLUMNS)
    assert on.sum() > 100 and np.all(middle[~on] == 0)  # background beside the film
    assert np.array_equal(middle[on], (columns[on] % 2) * 255)


def test_fitted_tiles_fill_the_drawn_film_rect(qtbot: Any) -> None:
    """Below 1:1 (the pyramid's levels), the painted area is the film's mapped rect."""
    flat = np.full((ROWS * 4, COLUMNS * 4), 4095, np.uint16)
    view = _view(qtbot, _film((0.1, 0.2), pixels=flat), size=(600, 400))
    view.set_voi(Window(2048, 4096))
    view.fit()
    assert view.zoom < 0.5  # a pyramid level is used
    screen = _screen(view)
    rows, columns = np.nonzero(screen > 128)
    rect = view.viewportTransform().mapRect(QRectF(-0.5, -0.5, COLUMNS * 4, ROWS * 4))
    assert columns.min() == pytest.approx(rect.left(), abs=1)
    assert columns.max() + 1 == pytest.approx(rect.right(), abs=1)
    assert rows.min() == pytest.approx(rect.top(), abs=1)
    assert rows.max() + 1 == pytest.approx(rect.bottom(), abs=1)
    assert rect.width() / rect.height() == pytest.approx((COLUMNS * 0.2) / (ROWS * 0.1))


def test_a_calibration_that_changes_the_shape_redraws_the_film(qtbot: Any) -> None:
    from cobbdesk.core.store.calibration import Calibration, apply_calibration

    film = _film()  # no spacing, no aspect: square
    view = _view(qtbot, film)
    assert _view_angle(view) == pytest.approx(math.degrees(math.atan(0.4)), abs=0.1)
    calibration = Calibration(0, 0, "ruler", (0.0, 0.0), (100.0, 0.0), 20.0, (0.1, 0.2), "ab",
                              "2026-11-30T00:00:00Z")  # fmt: skip
    apply_calibration(film, calibration)
    view.refresh_shape()
    assert view.fitted
    assert _view_angle(view) == pytest.approx(math.degrees(math.atan(0.2)), abs=0.1)
    rect = view.viewportTransform().mapRect(QRectF(-0.5, -0.5, COLUMNS, ROWS))
    assert rect.width() / rect.height() == pytest.approx((COLUMNS * 0.2) / (ROWS * 0.1))


def test_overlay_marks_are_not_stretched(qtbot: Any) -> None:
    """The angle arc at the lines' meeting point (inside the film: (220, 100)) is a circle of
    26 screen pixels and the handles keep their screen size."""
    from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
    from cobbdesk.gui.viewer.measure_items import MeasurementItem

    film = _film((0.1, 0.2))
    view = _view(qtbot, film)
    m = CobbMeasurement(
        "1.2.3",
        "",
        Template.C2_C7,
        EndplateLine((20, 100), (120, 100)),
        EndplateLine((20, 300), (120, 200)),
        spacing=(0.1, 0.2),
        spacing_source=SpacingSource.PIXEL_SPACING,
        rater="ab",
    )
    item = MeasurementItem(m, (COLUMNS, ROWS))
    view.scene().addItem(item)
    for orientation in (Orientation(), Orientation(1, True)):
        view.orientation = orientation
        view.fit()
        item.set_view(view.transform())
        d = item._drawing
        assert d is not None and d.marks
        assert (d.anchor.x(), d.anchor.y()) == pytest.approx((220.0, 100.0))
        centre = _on_view(view, (d.anchor.x(), d.anchor.y()))
        radii = [math.dist((c.x(), c.y()), (centre.x(), centre.y()))
                 for a, b in d.marks for c in (_on_view(view, (a.x(), a.y())),)]  # fmt: skip
        assert radii == pytest.approx([26.0] * len(radii), abs=1e-6)
        handle = next(iter(item.handles.values()))
        box = handle.deviceTransform(view.viewportTransform()).mapRect(handle.boundingRect())
        assert (box.width(), box.height()) == pytest.approx((16.0, 16.0))  # radius 5 + 3, square


def test_compare_views_match_mm_on_both_axes(qtbot: Any) -> None:
    """Synced views show the same screen pixels per mm along x and along y, and the same
    physical offset from their anchors, whatever the pixel shapes."""
    from cobbdesk.gui.compare.sync import ViewSync, view_center

    views = (_view(qtbot, _film((0.1, 0.2))), _view(qtbot, replace(_film((0.15, 0.15)))))
    sync = ViewSync(views)
    sync.fit_both()
    per_mm = []
    for view in views:
        film = view.film
        assert film is not None and film.spacing_mm is not None
        row_mm, col_mm = film.spacing_mm
        t = view.transform()
        per_mm.append(
            (math.hypot(t.m11(), t.m12()) / col_mm, math.hypot(t.m21(), t.m22()) / row_mm)
        )
    (ax, ay), (bx, by) = per_mm
    assert ax == pytest.approx(ay) and bx == pytest.approx(by)  # no stretch in either view
    assert ax == pytest.approx(bx)  # the same scale in both
    views[0].centerOn(QPointF(100.0, 250.0))  # 50 columns (10 mm), 50 rows (5 mm) off centre
    cb = view_center(views[1])
    assert (cb[0] - (COLUMNS - 1) / 2, cb[1] - (ROWS - 1) / 2) == pytest.approx(
        (-10 / 0.15, 5 / 0.15), abs=0.6)  # fmt: skip
