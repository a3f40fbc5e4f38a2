"""The blinded reading window measures a plan film only when its file IS the film the study
recorded: a hashed film whose file keeps the pixels but adds Pixel Aspect Ratio 1\\2 (the
hash alone would take it; its angles would change) is refused without values (blinded)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.store import Study
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from tests.gui.test_reading_plans import _env, choose, idle, plans_dialog  # noqa: F401


def _write(make_ds: Callable[..., Any], path: Path, i: int, aspect: bool = False) -> Path:
    pixels = np.random.default_rng(i).integers(0, 4000, (400, 300), dtype=np.uint16)
    extra: dict[str, Any] = {"SOPInstanceUID": f"1.2.826.0.1.77.{i + 1}"}
    if aspect:
        extra["PixelAspectRatio"] = ["1", "2"]
    ds = make_ds(pixels, pixel_spacing=None, **extra)
    ds.file_meta.MediaStorageSOPInstanceUID = extra["SOPInstanceUID"]
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def study_path(tmp_path: Path, make_ds: Callable[..., Any]) -> Path:
    """Two patients, two visits each: square-pixel films without spacing, hashed; a plan."""
    path, folder = tmp_path / "rel.cobbdesk", tmp_path / "films"
    folder.mkdir()
    with Study.create(path, actor="setup") as study:
        for p in range(2):
            pid = study.add_patient(f"P000{p + 1}")
            for v, kind in enumerate(("admission", "month3")):
                i = 2 * p + v
                file = _write(make_ds, folder / f"f{i}.dcm", i)
                film = read_film(file)
                fid = study.add_film(study.add_visit(pid, kind), path=file, region="cervical",
                                     sop_instance_uid=film.sop_instance_uid,
                                     pixel_sha256=film.pixel_sha256)  # fmt: skip
                study.set_facing(fid, "left", "user")
    assert main(["plan", "create", str(path), "rel", "--raters", "A,B", "--rounds", "1",
                 "--seed", "5", "--region", "cervical"]) == 0  # fmt: skip
    for i in range(4):  # every file: the same pixels, now 1:2 pixels
        _write(make_ds, folder / f"f{i}.dcm", i, aspect=True)
    return path


@pytest.fixture
def window(qtbot, study_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.show()
    assert win.session.open_study(study_path)
    yield win
    win.session.shutdown()


def test_a_plan_film_whose_file_gained_a_pixel_aspect_is_not_measured(
    qtbot,
    window: MainWindow,
    study_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    dialog = plans_dialog(qtbot, window)
    qtbot.waitUntil(lambda: dialog.plans.count() == 1, timeout=10000)
    dialog.plans.setCurrentRow(0)
    choose(qtbot, dialog, "A", 1)
    qtbot.waitUntil(lambda: bool(dialog.windows), timeout=10000)
    rw = dialog.windows[-1]
    qtbot.waitExposed(rw)
    idle(qtbot, rw)
    qtbot.waitUntil(lambda: "not the study's film" in rw.message.text(), timeout=20000)
    assert rw.controller is None and rw.view.film is None
    text = rw.message.text()
    assert "1:2" not in text and "Pixel Aspect" not in text  # blinded: no values
    rw.close()
