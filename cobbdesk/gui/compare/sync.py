"""Keeps two FilmViews in step: zoom and pan in physical units, and (optionally) window/level.

The maths is :mod:`cobbdesk.core.compare.model` and, for zoom and pan, the per-axis mm sync of
:mod:`cobbdesk.core.viewing` (both views draw pixels with their physical shape, so one zoom
matches both axes exactly); this only listens to each view and applies the result to the other
one, with a guard so that the follower's own signals are ignored.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, QPointF, Signal

from cobbdesk.core.compare.model import base_window, film_center, sync_units, synced_window
from cobbdesk.core.dicom.film import Film, Window
from cobbdesk.core.viewing import synced_center_mm, synced_zoom_mm
from cobbdesk.gui.compare.side import CompareSide
from cobbdesk.gui.viewer.film_view import FilmView

Point = tuple[float, float]


def view_center(view: FilmView) -> Point:
    """Image coordinates at the centre of the viewport (sub-pixel)."""
    centre = view.mapToScene(view.viewport().rect()).boundingRect().center()
    return (centre.x(), centre.y())


class ViewSync(QObject):
    """Synchronises ``views[0]`` and ``views[1]`` (either may lead)."""

    unitsChanged = Signal(str)  # user-facing description of how the views are synchronised

    def __init__(self, views: tuple[FilmView, FilmView], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.views = views
        self.zoom_pan = True
        self.window = False
        self.anchors: list[Point | None] = [None, None]  # None: the film's centre
        self._busy = False
        self._vois: list[object] = [None, None]
        self._bases: dict[int, Window] = {}
        for index, view in enumerate(views):
            view.displayChanged.connect(lambda i=index: self._display_changed(i))
            view.horizontalScrollBar().valueChanged.connect(lambda _v, i=index: self._moved(i))
            view.verticalScrollBar().valueChanged.connect(lambda _v, i=index: self._moved(i))
            view.filmChanged.connect(lambda i=index: self._film_changed(i))

    # --- state --------------------------------------------------------------------------
    def films(self) -> tuple[Film | None, Film | None]:
        return self.views[0].film, self.views[1].film

    def ready(self) -> bool:
        return all(film is not None for film in self.films())

    def units(self) -> str:
        """``"mm"``, ``"px"`` (an uncalibrated film) or ``""`` (fewer than two films)."""
        a, b = self.films()
        if a is None or b is None:
            return ""
        return sync_units(a.spacing_mm, b.spacing_mm)

    def describe(self) -> str:
        """What the status line says about synchronisation."""
        a, b = self.films()
        if not self.zoom_pan:
            return "Zoom/pan not synchronised"
        if a is None or b is None:
            return ""
        if self.units() == "px":
            return "Synchronised in pixels: a film is uncalibrated (no mm scale)" + (
                ", aligned on the landmark" if self.anchors[0] else ""
            )
        return "Synchronised in mm" + (", aligned on the landmark" if self.anchors[0] else "")

    def anchor(self, index: int) -> Point:
        film = self.views[index].film
        given = self.anchors[index]
        if given is not None or film is None:
            return given or (0.0, 0.0)
        return film_center(film.columns, film.rows)

    def set_anchors(self, a: Point | None, b: Point | None) -> None:
        self.anchors = [a, b]

    # --- following ------------------------------------------------------------------------
    def follow(self, leader: int) -> None:
        """Apply the leader's zoom and centre to the other view (in mm, or px)."""
        if not (self.zoom_pan and self.ready()) or self._busy:
            return
        other = 1 - leader
        lead_view, view = self.views[leader], self.views[other]
        spacing_a = lead_view.film.spacing_mm if lead_view.film else None
        spacing_b = view.film.spacing_mm if view.film else None
        if self.units() == "px":
            spacing_a = spacing_b = None
        centre = synced_center_mm(view_center(lead_view), self.anchor(leader),
                                  self.anchor(other), spacing_a, spacing_b)  # fmt: skip
        self._busy = True
        try:
            view.set_zoom(synced_zoom_mm(lead_view.zoom, spacing_a, spacing_b))
            view.centerOn(QPointF(*centre))
        finally:
            self._busy = False

    def fit_both(self) -> None:
        """Fit each film, then show both at the smaller physical scale (both fit entirely)."""
        for view in self.views:
            view.fit()
        if not (self.zoom_pan and self.ready()):
            return
        a, b = self.views
        px = self.units() == "px"
        sa = None if px or a.film is None else a.film.spacing_mm
        sb = None if px or b.film is None else b.film.spacing_mm
        leader = 0 if synced_zoom_mm(a.zoom, sa, sb) <= b.zoom else 1
        self.views[leader].centerOn(QPointF(*self.anchor(leader)))
        self.follow(leader)
        self.unitsChanged.emit(self.describe())

    def _moved(self, index: int) -> None:
        if not self._busy:
            self.follow(index)

    def _film_changed(self, index: int) -> None:
        item = self.views[index].item
        self._vois[index] = item.voi if item is not None else None
        self._bases.pop(index, None)

    def _display_changed(self, index: int) -> None:
        if self._busy:
            return
        item = self.views[index].item
        voi = item.voi if item is not None else None
        if voi != self._vois[index]:
            self._vois[index] = voi
            if self.window and isinstance(voi, Window):
                self._follow_window(index, voi)
        self.follow(index)

    def _base(self, index: int) -> Window:
        if index not in self._bases:
            film = self.views[index].film
            assert film is not None
            self._bases[index] = base_window(film)
        return self._bases[index]

    def _follow_window(self, leader: int, voi: Window) -> None:
        other = 1 - leader
        if not self.ready():
            return
        window = synced_window(voi, self._base(leader), self._base(other))
        self._busy = True
        try:
            self.views[other].set_voi(window)
            self._vois[other] = window
        finally:
            self._busy = False


class Aligner(QObject):
    """Align-on-vertebra mode: collect one landmark click on each side, then anchor the sync."""

    messageChanged = Signal(str)
    finished = Signal()

    def __init__(self, sides: tuple[CompareSide, CompareSide], sync: ViewSync,
                 parent: QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.sides, self.sync = sides, sync
        self.picked: list[bool] = []

    def start(self) -> bool:
        """Wait for a click on each film; False (and a message) without two films."""
        self.stop()
        if not self.sync.ready():
            self.messageChanged.emit("Alignment needs both films")
            return False
        self.picked = [False, False]
        for index, side in enumerate(self.sides):
            side.set_landmark(None)
            side.pick_landmark(partial(self._picked, index))
        self.messageChanged.emit("Align: click the same landmark (e.g. the anterior-inferior "
                                 "corner of C7) on both films")  # fmt: skip
        return True

    def stop(self) -> None:
        if self.picked:
            for side in self.sides:
                side.pick_landmark(None)
        self.picked = []

    def _picked(self, index: int) -> None:
        self.picked[index] = True
        self.sides[index].pick_landmark(None)
        if not all(self.picked):
            self.messageChanged.emit("Now click the same landmark on the other film")
            return
        self.picked = []
        self.set_align(self.sides[0].landmark, self.sides[1].landmark, leader=index)
        self.finished.emit()

    def set_align(self, a: Point | None, b: Point | None, leader: int = 0) -> None:
        """Anchor the sync on ``a`` and ``b`` (None: the film centres)."""
        for side, point in zip(self.sides, (a, b), strict=True):
            side.set_landmark(point)
        self.sync.set_anchors(a, b)
        self.sync.follow(leader)
        self.sync.unitsChanged.emit(self.sync.describe())
        self.messageChanged.emit("Aligned on the landmark" if a and b else "Alignment cleared")
