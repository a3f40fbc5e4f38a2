"""The import stores each film's facing read from Patient Orientation (0020,0020), with the
source "dicom", and the pixel aspect ratio of films without spacing (issues #10, #11)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.store import Study


@pytest.mark.parametrize(
    ("orientation", "facing", "source"),
    [
        (["A", "F"], "right", "dicom"),  # row axis points anterior: anterior on the right
        (["P", "F"], "left", "dicom"),
        (["AH", "F"], "right", "dicom"),
        (["PF", "H"], "left", "dicom"),
        (["L", "F"], None, None),  # a frontal film: no facing from the header
        (None, None, None),
    ],
)
def test_import_keeps_the_facing_from_patient_orientation(
    tmp_path: Path,
    dicom_factory: Callable[..., Path],
    orientation: list[str] | None,
    facing: str | None,
    source: str | None,
) -> None:
    extra = {} if orientation is None else {"PatientOrientation": orientation}
    path = dicom_factory(np.zeros((64, 48), np.uint16), **extra)
    assert read_film(path).patient_orientation == (
        None if orientation is None else tuple(orientation)
    )
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        import_paths(study, [path])
        (film,) = study.films()
    assert (film.facing, film.facing_source) == (facing, source)


def test_import_keeps_the_pixel_aspect_of_a_film_without_spacing(
    tmp_path: Path, dicom_factory: Callable[..., Path]
) -> None:
    path = dicom_factory(np.zeros((64, 48), np.uint16), pixel_spacing=None, PixelAspectRatio=[2, 1])
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        import_paths(study, [path])
        (film,) = study.films()
        with study.engine.connect() as conn:
            from sqlalchemy import select

            from cobbdesk.core.store.schema import films

            row = conn.execute(select(films.c.pixel_aspect_row, films.c.pixel_aspect_col)).one()
    assert tuple(row) == (2.0, 1.0) and film.facing is None
