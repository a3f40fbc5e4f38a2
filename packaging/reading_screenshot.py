"""The README's picture of the blinded reading view (#14), from the real application offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/reading_screenshot.py [FOLDER]

(FOLDER defaults to resources/screenshots.)

On the demo study: a two-rater, two-round cervical plan; rater dr_b opens round 1, reads the
first film of the worklist by clicking its endplate corners, goes Next and reads the second;
the window is grabbed then (its title carries the progress; no patient, date or other value).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from cobbdesk.core.reading.plan import PlanSpec, create_plan
from cobbdesk.core.reading.rounds import open_round
from cobbdesk.core.store import Study
from cobbdesk.gui.reading.reading_window import ReadingWindow
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.demo_study import film_specs, spine_for, write_demo_study

sys.path.insert(0, str(Path(__file__).parent))
from screenshots import save, wait_until


def click(rw: ReadingWindow, x: float, y: float) -> None:
    view = rw.view
    pos = QPointF(view.mapFromScene(QPointF(x, y)))
    steps = ((QMouseEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton),
             (QMouseEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton))  # fmt: skip
    for kind, buttons in steps:
        event = QMouseEvent(kind, pos, view.viewport().mapToGlobal(pos),
                            Qt.MouseButton.LeftButton, buttons,
                            Qt.KeyboardModifier.NoModifier)  # fmt: skip
        QApplication.sendEvent(view.viewport(), event)


def read_current(app: QApplication, rw: ReadingWindow, study: Study) -> None:
    """Click the current film's true corners (a little off, as a rater does)."""
    wait_until(app, lambda: rw.controller is not None and rw.view.film is not None)
    assert rw.record is not None and rw.controller is not None
    visit = next(v for p in study.patients() for v in study.visits(p.id)
                 if v.id == rw.record.visit_id)  # fmt: skip
    patient = next(p for p in study.patients() if p.id == visit.patient_id)
    spec = next(s for s in film_specs() if (s.patient, s.visit, s.region) == (
        int(patient.study_id[1:]), visit.kind.value, "cervical"))  # fmt: skip
    spine = spine_for(spec)
    upper, lower = spine.template_endplates
    for i, (x, y) in enumerate([*upper, *lower]):
        click(rw, x + (1.5 if i % 2 else -1.0), y + (1.0 if i < 2 else -1.5))
        app.processEvents()
    if rw.controller.waiting():  # the film's facing was never set: the rater answers
        rw.controller.set_facing(str(spine.facing))
    wait_until(app, lambda: rw.controller is not None and len(rw.controller.measurements) == 1)


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("COBBDESK_CONFIG_DIR", tempfile.mkdtemp())
    app = QApplication.instance() or QApplication([])
    study = Study.open(write_demo_study(Path(tempfile.mkdtemp()) / "demo"), actor="dr_b")
    plan = create_plan(study, PlanSpec("icc-pilot", ("dr_a", "dr_b"), rounds=2, washout_days=14,
                                       seed=11, region="cervical"))  # fmt: skip
    open_round(study, plan, "dr_b", 1)
    loader = FilmLoader(isolated=False)
    rw = ReadingWindow(study, plan, "dr_b", 1, loader)
    rw.resize(1400, 880)
    rw.show()
    read_current(app, rw, study)
    rw.go_next()
    read_current(app, rw, study)
    app.processEvents()
    save(rw, folder, "08_reading_view.png")
    rw.close()
    loader.close()
    study.close()


if __name__ == "__main__":
    main()
