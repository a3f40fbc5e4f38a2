"""A window around the compare view, for the main window to open (see :func:`open_compare`)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QWidget

from cobbdesk.core.store import Region, Study
from cobbdesk.gui.compare.view import CompareView
from cobbdesk.gui.workers import FilmLoader


class CompareWindow(QMainWindow):
    """The compare view with a status bar; its title names the study ID only."""

    closed = Signal()  # measurements made here are in the study: refresh what shows counts

    def __init__(self, study: Study, rater: str, loader: FilmLoader,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.view = CompareView(study, rater, loader, self)
        self.setCentralWidget(self.view)
        self.resize(1500, 950)
        self.setWindowTitle("Compare — loading… — CobbDesk")
        self.view.messageChanged.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.view.patientChanged.connect(self._retitle)

    def _retitle(self, patient_id: int, region: str) -> None:
        po = next((p for p in self.view.overview if p.patient.id == patient_id), None)
        study_id = po.patient.study_id if po else "?"
        self.setWindowTitle(f"Compare {study_id} · {region} — CobbDesk")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.view.close_films()
        super().closeEvent(event)
        self.closed.emit()


def open_compare(  # noqa: PLR0917 - the signature the main window calls
    study: Study,
    rater: str,
    loader: FilmLoader,
    patient_id: int | None,
    region: Region | str,
    parent: QWidget | None = None,
    *,
    visit_id: int | None = None,
) -> CompareWindow:
    """Open (and show) a compare window on ``patient_id`` (None: the patient of
    ``visit_id``) and ``region``; returns it at once, "Loading…" until the study is read.

    Connect ``window.view.importRequested(patient_id)`` to the import dialog, and
    ``window.view.patientChanged`` to keep a patient list in step.
    """
    window = CompareWindow(study, rater, loader, parent)
    if patient_id is not None:
        window.view.show_patient(patient_id, region)
    elif visit_id is not None:
        window.view.show_visit(visit_id, region)
    window.show()
    return window
