"""Relinking a film never opened (no pixel hash) checks what the study recorded (F3).

The tester's case: a film with Pixel Spacing 0.2×0.1 mm imported from its header and measured
by CSV only, then "moved"; a different image with the same SOP Instance UID, spacing
0.1×0.2 mm and flipped pixels must be refused (naming the spacing), the real film accepted.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.importing.csv_import import import_points
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.importing.relink import find_relinked, mismatch, recorded
from cobbdesk.core.store import Study
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

UID = "1.2.826.0.1.3680043.8.498.4242"
SIDE = 1200  # square: swapping the spacing keeps Rows × Columns


def _spine(spacing: tuple[float, float], flip: bool = False):  # type: ignore[no-untyped-def]
    spine = make_lateral_spine("cervical", 20.0, rows=SIDE, columns=SIDE, spacing_mm=spacing,
                               seed=3)  # fmt: skip
    if flip:
        spine = dataclasses.replace(spine, pixels=np.ascontiguousarray(spine.pixels[:, ::-1]))
    return spine


@pytest.fixture
def case(tmp_path: Path) -> tuple[Study, Path, Path]:
    """The study (film imported from its header, one CSV measurement), the film moved, and
    an impostor with the same UID."""
    for folder in ("orig", "moved", "other"):
        (tmp_path / folder).mkdir()
    original = write_dicom(_spine((0.2, 0.1)), tmp_path / "orig" / "a.dcm", sop_instance_uid=UID)
    study = Study.create(tmp_path / "s.cobbdesk", actor="t")
    report = import_paths(study, [original])
    assert len(report.imported) == 1
    csv = tmp_path / "m.csv"
    csv.write_text(
        "sop_instance_uid,template,upper_anterior_x,upper_anterior_y,upper_posterior_x,"
        "upper_posterior_y,lower_anterior_x,lower_anterior_y,lower_posterior_x,"
        f"lower_posterior_y,rater\n{UID},C2-C7,20,30,120,40,20,130,120,110,alice\n"
    )
    points = import_points(study, csv)
    assert len(study.measurements()) == 1, points
    moved = tmp_path / "moved"
    shutil.move(original, moved / "a.dcm")
    impostor = write_dicom(_spine((0.1, 0.2), flip=True), tmp_path / "other" / "a.dcm",
                           sop_instance_uid=UID)  # fmt: skip
    return study, moved / "a.dcm", impostor


def _search(study: Study, paths: list[Path]):  # type: ignore[no-untyped-def]
    (record,) = study.films()
    assert record.pixel_sha256 is None  # imported from the header, never opened
    return find_relinked(paths, recorded(study, record), read_film, lambda d, t: None,
                         lambda: False)  # fmt: skip


def test_an_impostor_with_the_same_uid_and_swapped_spacing_is_refused(case) -> None:  # type: ignore[no-untyped-def]
    study, _, impostor = case
    search = _search(study, [impostor])
    assert search.found is None
    ((path, problem),) = search.refused
    assert path == impostor
    assert "pixel spacing (PixelSpacing) is 0.1 × 0.2 mm" in problem
    assert "used 0.2 × 0.1 mm" in problem
    assert search.why_not().startswith("a.dcm: pixel spacing")
    study.close()


def test_the_same_film_moved_is_accepted_after_the_impostor(case) -> None:  # type: ignore[no-untyped-def]
    study, moved, impostor = case
    search = _search(study, [impostor, moved])
    assert search.found == moved
    study.close()


def test_other_size_aspect_and_uid_are_named(case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    study, moved, _ = case
    (record,) = study.films()
    expected = recorded(study, record)
    real = read_film(moved)
    assert mismatch(expected, real) is None
    bigger = dataclasses.replace(real, rows=SIDE + 1)
    assert mismatch(expected, bigger) == (
        f"Rows × Columns (0028,0010/0011) is {SIDE + 1} × {SIDE}, the study recorded "
        f"{SIDE} × {SIDE}"
    )
    stretched = dataclasses.replace(real, pixel_aspect=(2.0, 1.0))
    assert mismatch(expected, stretched) == (
        "Pixel Aspect Ratio (0028,0034) is 2:1, the study recorded 1:1"
    )
    imager = dataclasses.replace(real, spacing_source=SpacingSource.IMAGER)
    assert mismatch(expected, imager) is None  # the same values: the same angles
    coarser = dataclasses.replace(imager, spacing_mm=(0.4, 0.2))
    assert mismatch(expected, coarser) == (
        "pixel spacing (ImagerPixelSpacing) is 0.4 × 0.2 mm (row × column), the saved "
        "measurements used 0.2 × 0.1 mm (row × column) (PixelSpacing)"
    )
    other = dataclasses.replace(real, sop_instance_uid="1.2.3")
    assert mismatch(expected, other) == "another SOP Instance UID"
    study.close()


def test_a_hashed_film_is_matched_by_its_pixels(case) -> None:  # type: ignore[no-untyped-def]
    study, moved, impostor = case
    (record,) = study.films()
    real = read_film(moved)
    hashed = recorded(study, record._replace(pixel_sha256=real.pixel_sha256))
    assert mismatch(hashed, real) is None
    assert mismatch(hashed, read_film(impostor)) == (
        "other pixels than the film the study holds (pixel hash differs)"
    )
    study.close()
