"""Importing photos and scans of films (JPEG, PNG, TIFF) into a study: they carry no patient,
visit or region, so the import asks for them in a small dialog and passes a
:class:`~cobbdesk.core.importing.photos.PhotoTarget` to
:func:`~cobbdesk.core.importing.importer.import_paths` (declined: the photos are skipped with
a hint, the DICOM films are imported all the same).

The patient is given by study ID (an existing one is offered) or a new DICOM Patient ID, the
same rule as the command line's ``--patient``; the dialog never lists names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QStyle,
    QStyleOptionComboBox,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.importing.photos import PhotoTarget
from cobbdesk.core.redact import redact
from cobbdesk.core.store import Region, Study, VisitKind

PHOTO_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".tif", ".tiff"})
VISITS = (("Admission", VisitKind.ADMISSION), ("Month 3", VisitKind.MONTH3))
REGIONS = (("Cervical", Region.CERVICAL), ("Lumbar", Region.LUMBAR), ("Unknown", Region.UNKNOWN))
LOADING_PATIENTS = "Loading patients…"
PATIENT_HINT = "study ID, or a new DICOM Patient ID"
PhotoPrompt = Callable[[QWidget, Study, int], PhotoTarget | None]
"""(parent, study, number of photos) → where they go, or None to skip them."""


def photo_files(paths: Iterable[Path]) -> list[Path]:
    """The JPEG/PNG/TIFF files (by name, then by their first bytes) under ``paths``."""
    from cobbdesk.core.dicom.photo import image_format
    from cobbdesk.core.importing.scan import collect_files

    files, _ = collect_files([Path(p) for p in paths], None)
    return [p for p in files if p.suffix.lower() in PHOTO_SUFFIXES and image_format(p)]


class PhotoTargetDialog(QDialog):
    """Patient, visit and region of the photos being imported."""

    def __init__(self, parent: QWidget | None, study: Study, count: int) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import photos of films")
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"{count} photo(s) or scan(s) of films (JPEG, PNG, TIFF) were found. They have no "
            "header: say whose films they are. They are imported uncalibrated (calibrate them "
            "on a ruler before measuring lengths)."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.patient = QComboBox()
        self.patient.setEditable(True)
        self.patient.setCurrentIndex(-1)
        self.patient.lineEdit().setPlaceholderText(LOADING_PATIENTS)
        self.patient.setMinimumWidth(_width_for(self.patient, PATIENT_HINT))  # reads whole
        self.patient.setEnabled(False)  # until the study's patients are read (off the UI thread)
        self.loading = True
        form.addRow("Patient:", self.patient)
        self.visit = _combo(VISITS)
        form.addRow("Visit:", self.visit)
        self.region = _combo(REGIONS)
        form.addRow("Region:", self.region)
        layout.addLayout(form)
        self.problem = QLabel("")
        self.problem.setStyleSheet("color: #c62828")
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox()
        buttons.addButton("Import photos", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Skip photos", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.target: PhotoTarget | None = None
        self.setMinimumWidth(32 * self.fontMetrics().horizontalAdvance("M"))
        self._read_patients(study)

    def _read_patients(self, study: Study) -> None:
        """The study IDs offered, read on a worker thread (the combo says "Loading
        patients…" meanwhile); a failure says so and leaves the box free for typing."""
        from cobbdesk.gui.study.background import off_ui

        off_ui(self, lambda: [p.study_id for p in study.patients()], self._patients_arrived,
               self._patients_failed, study)  # fmt: skip

    def _patients_arrived(self, ids: list[str]) -> None:
        typed = self.patient.currentText()
        self.patient.addItems(ids)
        self.patient.setCurrentIndex(-1)
        self.patient.setEditText(typed)
        self._loaded()

    def _patients_failed(self, error: BaseException) -> None:
        message = redact(getattr(error, "message", "") or type(error).__name__).splitlines()[0]
        self.problem.setText(f"The study's patients could not be listed ({message}); type the "
                             "study ID.")  # fmt: skip
        self._loaded()

    def _loaded(self) -> None:
        self.loading = False
        self.patient.lineEdit().setPlaceholderText(PATIENT_HINT)
        self.patient.setEnabled(True)

    def accept(self) -> None:
        try:
            self.target = PhotoTarget(
                self.patient.currentText(), self.visit.currentData(), self.region.currentData()
            )
        except CobbdeskError as exc:
            self.problem.setText(exc.message)
            return
        super().accept()


def _width_for(box: QComboBox, text: str) -> int:
    """Width of an editable combo box whose line edit shows ``text`` whole: the text's advance
    at the box's font, the line edit's own margins (2 px a side in Qt) and a character of slack,
    grown to the box by the style (frame, arrow)."""
    metrics = box.fontMetrics()
    inner = metrics.horizontalAdvance(text) + 4 + metrics.horizontalAdvance("M")
    option = QStyleOptionComboBox()
    option.initFrom(box)
    option.editable = True
    size = QSize(inner, metrics.height())
    style = box.style()
    return style.sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, size, box).width()


def _combo(choices: tuple[tuple[str, object], ...]) -> QComboBox:
    box = QComboBox()
    for text, value in choices:
        box.addItem(text, value)
    return box


def ask_photo_target(parent: QWidget, study: Study, count: int) -> PhotoTarget | None:
    """Ask where ``count`` photos go (modal); None when the user skips them."""
    dialog = PhotoTargetDialog(parent, study, count)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    dialog.deleteLater()
    return dialog.target if accepted else None
