"""The overlay items of a :class:`~cobbdesk.gui.viewer.measure_tool.MeasureController` in its
film view: one :class:`MeasurementItem` per measurement, the placement sketch and the ghost of
clicked points after snapping moved them.

A mixin of the controller, which attaches it to a view: it uses the controller's ``view``,
``film``, ``session``, ``measurements``, ``_selected``, ``_placed``, ``_ghost_timer`` and its
``_notes`` method; it keeps ``_items``, ``_sketch`` and ``_ghost``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QTimer

from cobbdesk.core.measure.measurement import CobbMeasurement, LineName
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_items import MeasurementItem, OverlayItem, SketchItem

_Overlay = TypeVar("_Overlay", bound=OverlayItem)


class MeasureOverlays:
    """Keep a view's overlay items in step with the measurements (see the module docstring)."""

    view: FilmView | None
    film: Any
    session: Any
    measurements: Any
    _selected: str | None
    _items: dict[str, MeasurementItem]
    _sketch: SketchItem | None
    _ghost: SketchItem | None
    _placed: list[tuple[float, float]]
    _ghost_timer: QTimer
    # the controller's (annotations only: no attribute here may shadow it in the MRO)
    _notes: Callable[[CobbMeasurement], dict[LineName, str]]

    def _overlay_items(self) -> list[MeasurementItem | SketchItem]:
        extra = [i for i in (self._sketch, self._ghost) if i is not None]
        return [*self._items.values(), *extra]

    def _shows_film(self) -> bool:
        film = self.view.film if self.view is not None else None
        return film is not None and film.pixel_sha256 == self.film.pixel_sha256

    def _rebuild(self) -> None:
        """(Re)create every overlay item in the view's current scene (after ``filmChanged``)."""
        self._items, self._sketch, self._ghost = {}, None, None  # the old scene owns the old
        if self.view is None or not self._shows_film():
            return
        self._sketch = self._add(SketchItem())
        self._ghost = self._add(SketchItem(ghost=True))
        self._sync_items()
        if self.session.placing:
            self._sketch.set_points(self._placed)

    def _add(self, item: _Overlay) -> _Overlay:
        assert self.view is not None
        item.set_view(self.view.transform())
        self.view.scene().addItem(item)
        if isinstance(item, MeasurementItem):
            item.keep_labels_inside()
        return item

    def _keep_labels_inside(self) -> None:
        for item in self._items.values():
            item.keep_labels_inside()

    def _sync_items(self) -> None:
        if self.view is None or self._sketch is None:
            return
        state = self.measurements
        for mid in [mid for mid in self._items if mid not in state]:
            self.view.scene().removeItem(self._items.pop(mid))
        for mid, m in state.items():
            item = self._items.get(mid)
            if item is None:
                item = self._items[mid] = self._add(
                    MeasurementItem(m, (self.film.columns, self.film.rows))
                )
            elif item.measurement != m:
                item.set_measurement(m)
            item.set_notes(self._notes(m), self.session.flag(m))
            item.set_selected(mid == self._selected)

    def _on_display_changed(self) -> None:
        if self.view is not None:
            transform = self.view.transform()
            for item in self._overlay_items():
                item.set_view(transform)

    def _clear_ghost(self) -> None:
        self._ghost_timer.stop()
        if self._ghost is not None:
            self._ghost.set_points([])

    def _show_ghost(self, clicked: CobbMeasurement) -> None:
        if self._ghost is not None:
            self._ghost.set_points([*clicked.upper.as_tuple(), *clicked.lower.as_tuple()])
            self._ghost_timer.start()
