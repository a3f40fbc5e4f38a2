"""Study > Export study data: the ``cobbdesk export`` choices in a dialog.

Format (wide, long, xlsx, sav, codebook), rater policy (mean, each, consensus or a rater's
name; the study's default preselected), identified or not, and a reason for the audit trail.
The export itself is :func:`cobbdesk.core.export.writers.export_study`: the same rows, audit
rows and refusals as the command line.  Errors go through :func:`cobbdesk.gui.errors.report`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.export.policy import study_policy, study_raters
from cobbdesk.core.export.writers import FORMATS, ExportResult, export_study
from cobbdesk.core.store import Study
from cobbdesk.gui import errors

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost

SUFFIXES = {"wide": ".csv", "long": ".csv", "xlsx": ".xlsx", "sav": ".sav", "codebook": ".csv"}


def policy_choices(study: Study, *, allow_each: bool) -> list[str]:
    """``mean``, ``each`` (exports), ``consensus``, then every rater of the study."""
    keywords = ["mean", "each", "consensus"] if allow_each else ["mean", "consensus"]
    return [*keywords, *study_raters(study)]


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
        layout.addWidget(intro)
        form = QFormLayout()
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        self.raters = QComboBox()
        self.raters.addItems(policy_choices(study, allow_each=True))
        self.raters.setCurrentText(study_policy(study).text)
        self.identified = QCheckBox("Include names, MRNs, birth and visit dates")
        self.reason = QLineEdit()
        form.addRow("Format", self.format)
        form.addRow("Raters", self.raters)
        form.addRow("", self.identified)
        form.addRow("Reason (audit trail)", self.reason)
        layout.addLayout(form)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._choose_path)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _choose_path(self) -> None:
        suffix = SUFFIXES[self.format.currentText()]
        name = Path(self.study.path).stem + f"_{self.format.currentText()}{suffix}"
        path, _ = QFileDialog.getSaveFileName(self, "Export study data", name, f"*{suffix}")
        if path and self.export_to(Path(path)):
            self.accept()

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
