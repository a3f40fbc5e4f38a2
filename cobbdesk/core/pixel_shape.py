"""The one pixel-shape rule: :func:`film_shape` (re-exported by
:mod:`cobbdesk.core.store.calibration`, where calibration, relinking, ``calibrate``, ``verify``
and the film view use it).

Pure: no SQLAlchemy, no store, so the film view can draw a film with its pixel shape without
loading the study database code (a film opened without a study never needs it).

>>> from types import SimpleNamespace as Fields
>>> film_shape(Fields(spacing_mm=(0.1, 0.2), spacing_source="PixelSpacing", pixel_aspect=None))
(0.1, 0.2)
>>> film_shape(Fields(spacing_mm=None, spacing_source="none", pixel_aspect=(1.0, 2.0)))
(1.0, 2.0)
>>> film_shape(Fields(spacing_mm=(0.0, 0.1), spacing_source="PixelSpacing", pixel_aspect=None))
"""

from __future__ import annotations

import math
from typing import Protocol, TypeGuard

REL_TOL = 1e-6
"""The one relative tolerance under which two spacings, aspects or pixel shapes are the same
(values round-trip through text): relinking, the SR import, verify's shape checks and an
unchanged calibration all compare with it."""


class PixelFields(Protocol):
    """What :func:`film_shape` reads: a decoded :class:`~cobbdesk.core.dicom.film.Film` or a
    header read at import (:class:`~cobbdesk.core.importing.scan.HeaderInfo`) has them."""

    @property
    def spacing_mm(self) -> tuple[float, float] | None: ...
    @property
    def spacing_source(self) -> str: ...
    @property
    def pixel_aspect(self) -> tuple[float, float] | None: ...


def _positive(pair: tuple[float, float] | None) -> TypeGuard[tuple[float, float]]:
    return pair is not None and all(math.isfinite(v) and v > 0 for v in pair)


def film_shape(film: PixelFields) -> tuple[float, float] | None:
    """The pixel shape ``(vertical, horizontal)`` of a film's pixels — the one rule for
    calibration, relinking, ``calibrate`` and ``verify``'s file check — or None (square).

    * its spacing ``(row_mm, col_mm)``: Pixel Spacing and its kin are adjacent row spacing
      \\ adjacent column spacing, i.e. the pixel's height \\ width (PS3.3 10.7.1.3);
    * else its Pixel Aspect Ratio (0028,0034), ``vertical \\ horizontal`` (PS3.3
      C.7.6.3.1.7);
    * else None: square pixels (an absent Pixel Aspect Ratio means 1:1).

    Zero, negative or non-finite values never count, as when a header is read
    (:mod:`cobbdesk.core.dicom.spacing`): the next source is used.  A user calibration
    already in force is a spacing like the others: it was made with the film's own shape
    (:func:`~cobbdesk.core.store.calibration.calibration_spacing`), so calibrating again
    keeps that shape (:func:`~cobbdesk.core.store.calibration.apply_calibration` clears the
    Pixel Aspect Ratio it replaces).
    E.g. spacing 0.1 \\ 0.2 mm gives ``(0.1, 0.2)``: pixels half as tall as wide (1:2)."""
    spacing = film.spacing_mm
    if _positive(spacing):
        return spacing
    return film.pixel_aspect if _positive(film.pixel_aspect) else None
