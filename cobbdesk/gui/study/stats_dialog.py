"""Study > Statistics and report: ``cobbdesk stats`` with a rater policy, in a dialog.

The statistics are :func:`cobbdesk.core.export.analysis.analyse` on the analysis dataset of
the chosen policy (the study's default preselected) — the rows an export with the same
policy writes.  The dialog shows the main results with the paper's p format and writes the
HTML report with its 300 dpi figures (:func:`cobbdesk.core.export.report.write_report`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.export.analysis import LABELS, StudyAnalysis, analyse
from cobbdesk.core.export.dataset import load_long
from cobbdesk.core.export.formatting import format_value, p_phrase
from cobbdesk.core.export.policy import parse_policy, resolve, study_policy, study_raters
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.study.export_dialog import policy_choices

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost


def summary_lines(analysis: StudyAnalysis) -> list[str]:
    """The dialog's text: policy, then the Wilcoxon result of each angle and lab."""
    lines = [f"{analysis.n_patients} patients; {analysis.policy_note}", ""]
    for measure, r in analysis.wilcoxon.items():
        label = LABELS[measure]
        if not r.computable:
            lines.append(f"{label}: {r.reason}")
            continue
        exact = " (exact, small sample)" if r.p_source == "exact" else ""
        lines.append(
            f"{label}: n = {r.n_pairs} pairs, W = {r.w:g}, Z = {format_value(r.z, 2)}, "
            f"{p_phrase(r.p)}{exact}"
        )
    return lines


class StatsDialog(QDialog):
    """Rater policy, the results, and a button writing the HTML report."""

    def __init__(self, parent: QWidget | None, study: Study) -> None:
        super().__init__(parent)
        self.study = study
        self.analysis: StudyAnalysis | None = None
        self.setWindowTitle("Statistics")
        self.resize(720, 480)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.raters = QComboBox()
        self.raters.addItems(policy_choices(study, allow_each=False))
        self.raters.setCurrentText(study_policy(study).text)
        self.raters.currentTextChanged.connect(lambda _text: self.compute())
        form.addRow("Raters", self.raters)
        layout.addLayout(form)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        layout.addWidget(self.text)
        report = QPushButton("Write HTML report…")
        report.clicked.connect(self._choose_report)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(report, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.compute()

    def compute(self) -> StudyAnalysis | None:
        """Run the statistics under the chosen policy; a refusal is shown in the text."""
        try:
            policy = resolve(self.study, parse_policy(self.raters.currentText()),
                             study_raters(self.study))  # fmt: skip
            self.analysis = analyse(load_long(self.study), policy)
        except CobbdeskError as exc:
            self.analysis = None
            self.text.setPlainText(exc.message)
            return None
        self.text.setPlainText("\n".join(summary_lines(self.analysis)))
        return self.analysis

    def _choose_report(self) -> None:
        name = Path(self.study.path).stem + "_report.html"
        path, _ = QFileDialog.getSaveFileName(self, "Write report", name, "*.html")
        if path:
            self.write_report_to(Path(path))

    def write_report_to(self, path: Path) -> list[Path]:
        """Write the report of the current analysis; errors are shown and give []."""
        from cobbdesk.core.export.report import write_report

        if self.analysis is None:
            return []
        try:
            return write_report(self.analysis, path, title=f"Statistics: {self.study.path.name}")
        except OSError as exc:
            errors.report(self, exc, "Report")
            return []


def open_stats_dialog(window: WindowHost) -> StatsDialog | None:
    """Study > Statistics and report… (nothing without an open study)."""
    study = window.session.study
    if study is None:
        errors.present(window, "Statistics", "Open a study first (Study > Open study…).")
        return None
    dialog = StatsDialog(window, study)
    dialog.open()
    return dialog
