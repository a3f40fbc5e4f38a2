"""The compare view shows a study film with its saved measurements only when its file IS the
film the study recorded (relink's rule): a month-3 film whose file was replaced by one adding
Pixel Aspect Ratio 1\\2 is shown as an error (no values: the view may be blinded), nothing
can be measured on it, and the admission film beside it shows its hand-computed angle."""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cobbdesk.core.importing.csv_import import import_points
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.compare.view import CompareView
from cobbdesk.gui.workers import FilmLoader
from tests.core.test_measure_film_identity import HEADER

UIDS = {"admission": "1.2.826.0.1.3680043.8.498.781", "month3": "1.2.826.0.1.3680043.8.498.782"}
DATES = {"admission": "2026-01-05", "month3": "2026-04-06"}


def _write(make_ds: Callable[..., Any], path: Path, kind: str, aspect: bool = False) -> Path:
    extra: dict[str, Any] = {"SOPInstanceUID": UIDS[kind], "PatientOrientation": ["A", "F"],
                             "StudyDate": DATES[kind].replace("-", "")}  # fmt: skip
    if aspect:
        extra["PixelAspectRatio"] = ["1", "2"]
    pixels = np.random.default_rng(len(kind)).integers(0, 4000, (400, 300), dtype=np.uint16)
    ds = make_ds(pixels, pixel_spacing=None, **extra)
    ds.file_meta.MediaStorageSOPInstanceUID = UIDS[kind]
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def study(tmp_path: Path, make_ds: Callable[..., Any]) -> Iterator[Study]:
    s = Study.create(tmp_path / "s.cobbdesk", actor="dr_a")
    pid = s.add_patient("P0001")
    for kind in ("admission", "month3"):
        visit = s.add_visit(pid, kind, visit_date=DATES[kind])
        film = _write(make_ds, tmp_path / "films" / f"{kind}.dcm", kind)
        s.add_film(visit, sop_instance_uid=UIDS[kind], path=film, region="cervical",
                   study_date=DATES[kind], view="LL", pixel_rows=400, pixel_columns=300,
                   facing="right", facing_source="dicom")  # fmt: skip
    csv = tmp_path / "m.csv"
    csv.write_text(HEADER + "".join(f"{uid},C2-C7,200,100,100,100,200,340,100,300,dr_a\n"
                                    for uid in UIDS.values()))  # fmt: skip
    assert import_points(s, csv).imported == 2
    yield s
    s.close()


def test_a_replaced_film_is_not_shown_with_the_saved_measurements(
    qtbot, study: Study, tmp_path: Path, make_ds: Callable[..., Any],  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr(errors, "present", lambda *args: None)
    month3 = tmp_path / "films" / "month3.dcm"
    shutil.copy(_write(make_ds, tmp_path / "other" / "month3.dcm", "month3", aspect=True), month3)
    loader = FilmLoader(isolated=False)
    view = CompareView(study, "dr_a", loader)
    loader.setParent(view)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    qtbot.waitUntil(lambda: view.loaded, timeout=10000)
    (po,) = view.overview
    view.show_patient(po.patient.id, "cervical")
    qtbot.waitUntil(view.films_shown, timeout=20000)
    admission, replaced = view.sides
    assert admission.film is not None and admission.controller is not None
    assert replaced.film is None and replaced.controller is None
    assert "not the film the study recorded" in replaced.error
    assert "1:2" not in replaced.error and "2026" not in replaced.error  # no values: blinding
    left, right = view.angles()
    assert right is None
    assert left == pytest.approx(math.degrees(math.atan(40 / 100)), abs=1e-9)
    assert len(study.measurements()) == 2
