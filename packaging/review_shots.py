"""Every view of the app, maximised on the screen it runs on, for reading by eye (#17).

    xvfb-run -s "-screen 0 1366x768x24" .venv/bin/python packaging/review_shots.py OUT
    QT_SCALE_FACTOR=2 xvfb-run -s "-screen 0 2732x1536x24" .venv/bin/python \
        packaging/review_shots.py OUT2        # 200 %: the same logical 1366×768

Pictures are saved at full size (not scaled): the welcome dialog, the demo being generated,
the study browser, a film being measured and a flagged angle at the view's edge, the
measurement table, a long film name, the status bar after an import, the photo dialog, the
"Open anyway" error, the compare view and the lab form.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from PIL import Image
from pydicom.filewriter import dcmwrite
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from screenshots import flagged_measurement, measure_unmeasured_film, wait_until

from cobbdesk.gui import demo, errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study.photo_dialog import PhotoTargetDialog
from cobbdesk.gui.welcome import WelcomeDialog
from cobbdesk.gui.workers import FilmLoader

FOLDER = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/cobbdesk_review")


def shot(widget: QWidget, name: str) -> None:
    QApplication.processEvents()
    path = FOLDER / name
    widget.grab().save(str(path))
    print(f"wrote {path}")


def start(app: QApplication, window: MainWindow) -> None:
    welcome = WelcomeDialog(window)
    welcome.show()
    shot(welcome, "00_welcome.png")
    welcome.close()
    generator = demo.start_demo(window)
    assert generator is not None
    wait_until(app, lambda: window.status.progress.value() >= 3, 120)
    shot(window, "01_demo_generating.png")
    wait_until(app, lambda: window.view.film is not None, 180)
    wait_until(app, lambda: window.current is not None and window.current.controller is not None)
    shot(window, "02_demo_opened.png")


def measuring(app: QApplication, window: MainWindow) -> None:
    measure_unmeasured_film(app, window, FOLDER)  # writes 02_/03_/06_ (README names)
    flagged_measurement(app, window, FOLDER)  # writes 07_flagged_value.png
    view, controller = window.view, window.current.controller
    label = controller.overlay(controller.selected_id).angle_label
    view.set_zoom(view.zoom * 1.6, label.scenePos())
    edge = view.viewport().width() - 60  # the label's anchor near the right edge
    shift = view.mapFromScene(label.scenePos()).x() - edge
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + shift)
    shot(window, "08_flagged_at_the_edge.png")


def films_and_import(app: QApplication, window: MainWindow, temp: Path) -> None:
    long_name = temp / "Lateral_cervical_spine_admission_2026-01-05_patient_study_export.dcm"
    study = window.session.study
    assert study is not None
    source = Path(study.films()[0].path)
    long_name.write_bytes(source.read_bytes())
    legacy = temp / "legacy_acr_nema.dcm"
    import pydicom

    from cobbdesk.core.dicom.reader import read_film  # noqa: F401 (pydicom loaded)

    ds = pydicom.dcmread(source)
    del ds.file_meta
    ds.preamble = None
    dcmwrite(legacy, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)
    window.open_paths([long_name, legacy])
    wait_until(app, lambda: all(f.film is not None or f.error for f in window.films), 60)
    box = window.findChild(QMessageBox, "open_anyway")
    if box is not None:
        shot(box, "09_open_anyway.png")
        box.close()
    shot(window, "10_long_film_name.png")
    folder = temp / "incoming"
    folder.mkdir()
    Image.fromarray(np.tile(np.arange(0, 256, 2, dtype=np.uint8), (96, 1))).save(folder / "a.png")
    dialog = PhotoTargetDialog(window, study, 1)
    dialog.show()
    shot(dialog, "11_photo_dialog.png")
    dialog.close()
    window.session.photo_prompt = lambda parent, s, n: None
    window.session.import_films([folder])
    wait_until(app, lambda: not window.session.jobs, 60)
    for box in window.findChildren(QMessageBox):
        if box.isVisible():
            shot(box, "12_import_summary.png")
            box.close()
    shot(window, "13_status_after_import.png")


def compare_and_labs(app: QApplication, window: MainWindow) -> None:
    study = window.session.study
    assert study is not None
    compare = window.session.compare(study.patients()[0].id)
    assert compare is not None
    compare.setGeometry(app.primaryScreen().availableGeometry())
    wait_until(app, lambda: compare.view.difference() is not None, 60)
    shot(compare, "14_compare.png")
    compare.close()
    visit = study.visits(study.patients()[0].id)[0]
    form = window.session.enter_labs(visit.id)
    assert form is not None
    shot(form, "15_lab_form.png")
    form.close()


def main() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp())
    os.environ.setdefault("COBBDESK_CONFIG_DIR", str(temp / "config"))
    os.environ.setdefault("COBBDESK_DEMO_DIR", str(temp / "demo"))
    app = QApplication.instance() or QApplication([])
    errors.present = lambda parent, title, text: print(f"[{title}] {text}")
    window = MainWindow(rater="dr_a", loader=FilmLoader(isolated=False))
    window.setGeometry(app.primaryScreen().availableGeometry())  # maximised (no window manager)
    window.show()
    wait_until(app, window.isVisible)
    start(app, window)
    measuring(app, window)
    films_and_import(app, window, temp)
    compare_and_labs(app, window)
    window.close()


if __name__ == "__main__":
    main()
