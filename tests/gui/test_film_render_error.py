"""A film that cannot be rendered is reported through the error helper, not shown blank."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cobbdesk.core.dicom.film import Film, SpacingSource, VoiFunction
from cobbdesk.gui import errors
from cobbdesk.gui.viewer.film_view import FilmView


def _film(path: Path, pixels: np.ndarray) -> Film:
    return Film(
        path=path,
        pixels=pixels,
        rows=pixels.shape[0],
        columns=pixels.shape[1],
        bits_stored=12,
        bits_allocated=16,
        pixel_representation=0,
        photometric="MONOCHROME2",
        transfer_syntax="1.2.840.10008.1.2.1",
        transfer_syntax_name="Explicit VR Little Endian",
        windows=[],
        voi_luts=[],
        voi_function=VoiFunction.LINEAR,
        presentation_lut_shape="",
        spacing_mm=None,
        spacing_source=SpacingSource.NONE,
        digest="0" * 64,
        pixel_range=(0.0, 4095.0),
    )


def test_unrenderable_film_shows_an_error(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    view = FilmView()
    qtbot.addWidget(view)
    view.set_film(_film(Path("/x/broken.dcm"), np.zeros((4, 4, 2, 2), np.float64)))
    assert view.item is None
    assert len(shown) == 1 and shown[0].startswith("broken.dcm: ")
    view.set_film(_film(Path("/x/good.dcm"), np.arange(64, dtype=np.uint16).reshape(8, 8)))
    assert view.item is not None and len(shown) == 1
