"""Generate the README's screenshots from the real application (offscreen), on the demo study.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/screenshots.py [resources/screenshots]

Every picture is the app as a user sees it: the study browser, a C2–C7 measurement being
placed (the facing question over the film) and finished (with snapping), the admission vs
month-3 compare view, the lab form, and an implausible angle saved but flagged.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget

from cobbdesk.core.measure.measurement import Template
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.demo_study import film_specs, spine_for, write_demo_study

WIDTH = 1100  # pictures are scaled to this width for the README


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the application did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def save(widget: QWidget, folder: Path, name: str) -> Path:
    path = folder / name
    widget.grab().scaledToWidth(WIDTH, Qt.TransformationMode.SmoothTransformation).save(str(path))
    print(f"wrote {path}")
    return path


def click(window: MainWindow, x: float, y: float) -> None:
    view = window.view
    pos = QPointF(view.mapFromScene(QPointF(x, y)))
    for kind in (QMouseEvent.Type.MouseButtonPress, QMouseEvent.Type.MouseButtonRelease):
        buttons = (
            Qt.MouseButton.LeftButton
            if kind == QMouseEvent.Type.MouseButtonPress
            else Qt.MouseButton.NoButton
        )
        event = QMouseEvent(
            kind,
            pos,
            view.viewport().mapToGlobal(pos),
            Qt.MouseButton.LeftButton,
            buttons,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(view.viewport(), event)


def true_corners(patient: int, visit: str, region: str) -> list[tuple[float, float]]:
    """The demo film's endplate corners, regenerated from its (deterministic) recipe."""
    spec = next(
        s for s in film_specs() if (s.patient, s.visit, s.region) == (patient, visit, region)
    )
    upper, lower = spine_for(spec).template_endplates
    return [*upper, *lower]


def measure_unmeasured_film(app: QApplication, window: MainWindow, folder: Path) -> None:
    study = window.session.study
    assert study is not None
    patient = next(p for p in study.patients() if p.study_id == "P0009")
    visit = next(v for v in study.visits(patient.id) if v.kind.value == "admission")
    record = next(f for f in study.films(visit.id) if f.region.value == "cervical")
    window.session.browser.filmActivated.emit(record)
    wait_until(
        app,
        lambda: (
            window.current is not None
            and window.current.controller is not None
            and window.view.film is not None
        ),
    )
    controller = window.current.controller
    corners = true_corners(9, "admission", "cervical")
    controller.session.header_facing = None  # as for a film without Patient Orientation
    window.panel.snapping.setChecked(True)  # off by default; this screenshot shows the aid
    controller.start_placement(Template.C2_C7)  # the film's facing is unknown: the bar asks
    for x, y in corners[:3]:
        click(window, x + 2.5, y - 2.0)  # a rater's clicks are never exact
    app.processEvents()
    save(window, folder, "02_placing_c2_c7.png")
    save(window.view, folder, "06_facing_prompt.png")
    click(window, corners[3][0] - 2.0, corners[3][1] + 2.5)
    controller.set_facing(facing_of(9, "admission", "cervical"))  # the user's answer
    wait_until(app, lambda: len(controller.measurements) == 1)
    if controller.waiting():  # a snap beyond the threshold: the user applies it
        controller.confirm_snap()
    app.processEvents()
    save(window, folder, "03_measured_with_snapping.png")


def flagged_measurement(app: QApplication, window: MainWindow, folder: Path) -> None:
    """A C2–C7 angle outside the plausible range: saved, flagged on the film and in the panel."""
    controller = window.current.controller
    window.panel.snapping.setChecked(False)
    (ax, ay), (px, _), (bx, by), (qx, _) = true_corners(9, "admission", "cervical")
    controller.start_placement(Template.C2_C7)
    # both lines 37° from horizontal (3-4-5), converging posteriorly: about +74° of lordosis
    for x, y in ((ax, ay), (px, ay + 0.75 * abs(px - ax)), (bx, by),
                 (qx, by - 0.75 * abs(qx - bx))):  # fmt: skip
        click(window, x, y)
    wait_until(app, lambda: len(controller.measurements) == 2)
    window.view.zoom_out()  # room for the angle label beside the lines
    app.processEvents()
    save(window, folder, "07_flagged_value.png")


def facing_of(patient: int, visit: str, region: str) -> str:
    spec = next(
        s for s in film_specs() if (s.patient, s.visit, s.region) == (patient, visit, region)
    )
    return str(spine_for(spec).facing)


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("COBBDESK_CONFIG_DIR", tempfile.mkdtemp())
    app = QApplication.instance() or QApplication([])
    window = MainWindow(rater="dr_a", loader=FilmLoader(isolated=False))
    window.confirm_close = False
    window.resize(1500, 920)
    window.show()
    study_path = write_demo_study(Path(tempfile.mkdtemp()) / "demo")
    assert window.session.open_study(study_path)
    app.processEvents()
    save(window, folder, "01_study_browser.png")
    measure_unmeasured_film(app, window, folder)
    flagged_measurement(app, window, folder)
    compare = window.session.compare(window.session.study.patients()[0].id)
    assert compare is not None
    compare.resize(1500, 900)
    wait_until(app, lambda: compare.view.difference() is not None)
    app.processEvents()
    save(compare, folder, "04_compare_admission_month3.png")
    compare.close()
    visit = window.session.study.visits(window.session.study.patients()[0].id)[0]
    form = window.session.enter_labs(visit.id)
    assert form is not None
    app.processEvents()
    save(form, folder, "05_lab_form.png")
    form.close()
    window.session.shutdown()
    window.loader.close()


if __name__ == "__main__":
    main()
