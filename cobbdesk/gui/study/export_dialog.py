"""Study > Export study data: the ``cobbdesk export`` choices in a dialog.

Format (wide, long, xlsx, sav, codebook), rater policy (mean, each, consensus or a rater's
name; the study's default preselected), identified or not, and a reason for the audit trail.
The export itself is :func:`cobbdesk.core.export.writers.export_study`: the same rows, audit
rows and refusals as the command line.  Errors go through :func:`cobbdesk.gui.errors.report`.

De-identified by default: ticking "identified" asks for a confirmation first.  Saving runs the
export off the UI thread (:class:`~cobbdesk.gui.study.jobs.BackgroundJob`) behind a progress
dialog, then opens the file's folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QThreadPool, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.export.policy import study_policy, study_raters
from cobbdesk.core.export.writers import FORMATS, ExportResult, export_study
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.study.jobs import BackgroundJob, off_ui

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost

SUFFIXES = {"wide": ".csv", "long": ".csv", "xlsx": ".xlsx", "sav": ".sav", "codebook": ".csv"}
IDENTIFIED_WARNING = (
    "This export will contain patients' names, MRNs, birth dates and visit dates. Keep it on "
    "an encrypted, access-controlled drive and share it only as your ethics approval allows. "
    "Export identified data?"
)


def ask_identified(parent: QWidget) -> bool:
    """The confirmation behind the identified option (tests replace it)."""
    answer = QMessageBox.warning(
        parent, "Identified export", IDENTIFIED_WARNING,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )  # fmt: skip
    return answer == QMessageBox.StandardButton.Yes


def reveal(path: Path) -> None:
    """Open the folder that holds ``path`` in the desktop's file manager."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


LOADING_RATERS = "Loading raters…"


def policy_choices(study: Study, *, allow_each: bool) -> list[str]:
    """``mean``, ``each`` (exports), ``consensus``, then every rater of the study."""
    return [*policy_keywords(allow_each), *study_raters(study)]


def policy_keywords(allow_each: bool) -> list[str]:
    return ["mean", "each", "consensus"] if allow_each else ["mean", "consensus"]


def choices_and_default(study: Study, allow_each: bool) -> tuple[list[str], str]:
    """Worker thread: (:func:`policy_choices`, the study's default policy's text)."""
    return policy_choices(study, allow_each=allow_each), study_policy(study).text


def load_policy_choices(dialog: QWidget, study: Study, combo: QComboBox, allow_each: bool,
                        then: Callable[[], None]) -> None:  # fmt: skip
    """Fill ``combo`` with the policy choices read off the UI thread ("Loading raters…",
    disabled meanwhile), then ``then()``; a failed read is reported and leaves the keywords."""
    combo.setEnabled(False)
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(LOADING_RATERS)
    combo.blockSignals(False)

    def fill(found: tuple[list[str], str]) -> None:
        combo.blockSignals(True)  # the default is set once, below
        combo.clear()
        combo.addItems(found[0])
        combo.setCurrentText(found[1])
        combo.blockSignals(False)
        combo.setEnabled(True)
        then()

    def failed(error: BaseException) -> None:
        errors.report(dialog, error, "Reading the study's raters")
        fill((policy_keywords(allow_each), "mean"))

    off_ui(dialog, lambda: choices_and_default(study, allow_each), fill, failed, study)


class ExportDialog(QDialog):
    """Choices of one export; :meth:`export_to` writes it (the file dialog gives the path)."""

    def __init__(self, parent: QWidget | None, study: Study) -> None:
        super().__init__(parent)
        self.study = study
        self.result_: ExportResult | None = None
        self.setWindowTitle("Export study data")
        layout = QVBoxLayout(self)
        intro = QLabel(
            "mean: one row per patient, each angle the mean over raters (what the statistics "
            "use); each: one row per rater, for reliability work; consensus: the study's "
            "adjudicator; a name: that rater only."
        )
        intro.setWordWrap(True)
        self.raters_help = intro  # under the Raters choice it explains
        form = QFormLayout()
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        self.raters = QComboBox()
        self.loading = True  # the raters are read off the UI thread
        self.identified = QCheckBox("Include names, MRNs, birth and visit dates")
        self.identified.toggled.connect(self._identified_toggled)
        self.confirm_identified: Callable[[QWidget], bool] = ask_identified
        self.reveal: Callable[[Path], None] = reveal
        self.job: BackgroundJob | None = None
        self.progress: QProgressDialog | None = None
        self.reason = QLineEdit()
        form.addRow("Format", self.format)
        form.addRow("Raters", self.raters)
        form.addRow("", intro)
        form.addRow("", self.identified)
        form.addRow("Reason (audit trail)", self.reason)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._choose_path)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.save = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save.setEnabled(False)
        load_policy_choices(self, study, self.raters, True, self._loaded)

    def _loaded(self) -> None:
        self.loading = False
        self.save.setEnabled(True)

    def _identified_toggled(self, on: bool) -> None:
        if on and not self.confirm_identified(self):
            self.identified.setChecked(False)

    def _choose_path(self) -> None:
        suffix = SUFFIXES[self.format.currentText()]
        name = Path(self.study.path).stem + f"_{self.format.currentText()}{suffix}"
        path, _ = QFileDialog.getSaveFileName(self, "Export study data", name, f"*{suffix}")
        if path:
            self.start_export(Path(path))

    def start_export(self, path: Path) -> BackgroundJob:
        """Export to ``path`` in a worker thread with a progress dialog; on success the file's
        folder is opened and the dialog closes, on failure the error is shown."""
        choices = {
            "identified": self.identified.isChecked(), "reason": self.reason.text().strip(),
            "raters": self.raters.currentText(),
        }  # fmt: skip
        fmt = self.format.currentText()

        def job(_progress: Any, _cancel: Any) -> ExportResult:
            return export_study(self.study, fmt, path, **choices)  # type: ignore[arg-type]

        self.progress = QProgressDialog(f"Writing {path.name}…", "", 0, 0, self)
        self.progress.setCancelButton(None)
        self.progress.setMinimumDuration(300)
        self.job = BackgroundJob(job, self)
        self.job.finished.connect(lambda result: self._done(path, result))
        self.job.failed.connect(self._failed)
        QThreadPool.globalInstance().start(self.job.run)
        return self.job

    def _done(self, path: Path, result: ExportResult) -> None:
        self.result_ = result
        if self.progress is not None:
            self.progress.reset()
        self.reveal(path)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if self.progress is not None:
            self.progress.reset()
        errors.report(self, exc, "Export")

    def export_to(self, path: Path) -> ExportResult | None:
        """Write the export to ``path``; errors are shown and give None."""
        try:
            self.result_ = export_study(
                self.study,
                self.format.currentText(),  # type: ignore[arg-type]
                path,
                identified=self.identified.isChecked(),
                reason=self.reason.text().strip(),
                raters=self.raters.currentText(),
            )
        except (CobbdeskError, OSError) as exc:
            errors.report(self, exc, "Export")
            return None
        return self.result_


def open_export_dialog(window: WindowHost) -> ExportDialog | None:
    """Study > Export study data… (nothing without an open study)."""
    study = window.session.study
    if study is None:
        errors.present(window, "Export study data", "Open a study first (Study > Open study…).")
        return None
    dialog = ExportDialog(window, study)
    dialog.open()
    return dialog
