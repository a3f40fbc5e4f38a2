"""Study > Statistics and report: ``cobbdesk stats`` with a rater policy, in a dialog.

The statistics are :func:`cobbdesk.core.export.analysis.analyse` on the analysis dataset of
the chosen policy (the study's default preselected) — the rows an export with the same
policy writes.  The dialog shows the main results with the paper's p format and the full
HTML report (:func:`cobbdesk.core.export.report.write_report`, written to a private temporary
folder) in a QTextBrowser; Save as HTML… writes it with its 300 dpi figures, Print… and Save
as PDF… lay it out on an A4 or Letter page (:mod:`cobbdesk.gui.study.report_print`).
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.export.analysis import LABELS, StudyAnalysis, analyse
from cobbdesk.core.export.dataset import load_long
from cobbdesk.core.export.formatting import format_value, p_phrase
from cobbdesk.core.export.policy import parse_policy, resolve, study_raters
from cobbdesk.core.private import private_folder
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.study.export_dialog import LOADING_RATERS, load_policy_choices
from cobbdesk.gui.study.jobs import off_ui
from cobbdesk.gui.study.report_print import (
    PAGE_SIZES,
    load_report,
    pdf_printer,
    print_report,
    set_page,
)

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost

COMPUTING = "Computing the statistics…"


def fit_to_screen(dialog: QWidget, width: int, height: int) -> None:
    """Resize ``dialog`` to ``width`` × ``height`` (logical px), at most 95 % × 85 % of its
    screen's available area: on a 1366×768 laptop the title bar and the buttons stay on
    screen (the report scrolls instead)."""
    screen = dialog.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry() if screen is not None else None
    if area is not None and area.width() > 0:
        width, height = min(width, int(area.width() * 0.95)), min(height, int(area.height() * 0.85))
    dialog.resize(width, height)


SUMMARY_LINES = 8
"""Lines of the summary shown without scrolling (whole lines: none is cut in half)."""


def whole_lines_height(edit: QPlainTextEdit, lines: int) -> int:
    """Height (px) of ``edit`` showing exactly ``lines`` lines: its frame, the document's
    top margin and ``lines`` line spacings of its font (the bottom margin lies after the
    last line of the document, not at the viewport's edge: counted, it showed the top of
    the next line)."""
    margin = edit.document().documentMargin()
    return int(2 * edit.frameWidth() + margin + lines * edit.fontMetrics().lineSpacing())


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
    """Rater policy, the results, the report, and buttons saving, printing it or making a PDF."""

    def __init__(self, parent: QWidget | None, study: Study) -> None:
        super().__init__(parent)
        self.study = study
        self.analysis: StudyAnalysis | None = None
        self.report_html = ""
        self._folder = Path(tempfile.mkdtemp(prefix="cobbdesk-report-"))  # 0700, private
        cleanup = weakref.finalize(self, shutil.rmtree, self._folder, ignore_errors=True)
        self.finished.connect(lambda _code: cleanup())
        self.setWindowTitle("Statistics")
        fit_to_screen(self, 980, 760)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.raters = QComboBox()
        self.raters.currentTextChanged.connect(lambda _text: self.compute())
        self.computing = True  # the raters, then the statistics, are read off the UI thread
        self._generation = 0
        form.addRow("Raters", self.raters)
        self.page = QComboBox()
        self.page.addItems(list(PAGE_SIZES))
        form.addRow("Page size", self.page)
        layout.addLayout(form)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setMaximumHeight(whole_lines_height(self.text, SUMMARY_LINES))
        layout.addWidget(self.text)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self._buttons())
        self.text.setPlainText(LOADING_RATERS)
        self._ready = False
        load_policy_choices(self, study, self.raters, False, self._choices_read)

    def _choices_read(self) -> None:
        self._ready = True
        self.compute()

    def _buttons(self) -> QDialogButtonBox:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        for label, slot in (
            ("Save as HTML…", self._choose_report),
            ("Print…", self._print),
            ("Save as PDF…", self._choose_pdf),
        ):
            button = QPushButton(label)
            button.clicked.connect(slot)
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        return buttons

    def compute(self) -> None:
        """Run the statistics under the chosen policy off the UI thread ("Computing…"), then
        show the report; a refusal is shown in the text (and the report is emptied).  A
        result of an earlier choice is dropped."""
        if not self._ready:
            return  # the choices are still being read
        self._generation += 1
        generation, choice, study = self._generation, self.raters.currentText(), self.study
        self.computing = True
        self.text.setPlainText(COMPUTING)
        html_path = self._folder / f"report{generation}.html"  # one per choice: no two writers
        title = self._title()
        off_ui(self, lambda: _analysis_and_report(study, choice, html_path, title),
               lambda found: self._computed(generation, found),
               lambda error: self._computed(generation, error), study)  # fmt: skip

    def _computed(
        self, generation: int, found: tuple[StudyAnalysis, Path] | BaseException
    ) -> None:
        if generation != self._generation:
            return
        self.computing = False
        if isinstance(found, OSError):  # the statistics are there; the report could not be
            errors.report(self, found, "Report")  # written
            self.browser.clear()
            self.analysis, self.report_html = None, ""
            self.text.setPlainText("")
            return
        if isinstance(found, BaseException):
            self.analysis, self.report_html = None, ""
            self.browser.clear()
            if isinstance(found, CobbdeskError):
                self.text.setPlainText(found.message)
            else:
                self.text.setPlainText("")
                errors.report(self, found, "Statistics")
            return
        self.analysis, html_path = found
        self.text.setPlainText("\n".join(summary_lines(self.analysis)))
        self.browser.setSearchPaths([str(html_path.parent)])
        self.report_html = load_report(self.browser.document(), html_path)

    def _title(self) -> str:
        return f"Statistics: {self.study.path.name}"

    def _choose_report(self) -> None:
        name = Path(self.study.path).stem + "_report.html"
        path, _ = QFileDialog.getSaveFileName(self, "Save report as HTML", name, "*.html")
        if path:
            self.write_report_to(Path(path))

    def write_report_to(self, path: Path) -> list[Path]:
        """Write the report of the current analysis; errors are shown and give []."""
        from cobbdesk.core.export.report import write_report

        if self.analysis is None:
            return []
        try:
            return write_report(self.analysis, path, title=self._title())
        except OSError as exc:
            errors.report(self, exc, "Report")
            return []

    def _choose_pdf(self) -> None:
        name = Path(self.study.path).stem + "_report.pdf"
        path, _ = QFileDialog.getSaveFileName(self, "Save report as PDF", name, "*.pdf")
        if path:
            try:
                self.save_pdf_to(Path(path))
            except (CobbdeskError, OSError) as exc:  # e.g. the name of the study itself
                errors.report(self, exc, "Saving the report")

    def save_pdf_to(self, path: Path, page: str | None = None) -> int:
        """Write the shown report as a PDF on ``page`` (default: the combo's A4/Letter);
        returns the page count (0 when there is no report)."""
        if not self.report_html:
            return 0
        printer = pdf_printer(path, page or self.page.currentText())
        return print_report(self.report_html, private_folder(self._folder), printer)

    def _print(self) -> None:
        if not self.report_html:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        set_page(printer, self.page.currentText())
        if QPrintDialog(printer, self).exec() == QDialog.DialogCode.Accepted:
            print_report(self.report_html, private_folder(self._folder), printer)


def analysis_of(study: Study, choice: str) -> StudyAnalysis:
    """Worker thread: the statistics of ``study`` under the policy ``choice`` (its refusal
    raised as :class:`CobbdeskError`)."""
    policy = resolve(study, parse_policy(choice), study_raters(study))
    return analyse(load_long(study), policy)


def open_stats_dialog(window: WindowHost) -> StatsDialog | None:
    """Study > Statistics and report… (nothing without an open study)."""
    study = window.session.study
    if study is None:
        errors.present(window, "Statistics", "Open a study first (Study > Open study…).")
        return None
    dialog = StatsDialog(window, study)
    dialog.open()
    return dialog


def _analysis_and_report(
    study: Study, choice: str, html_path: Path, title: str
) -> tuple[StudyAnalysis, Path]:
    """Worker thread: the statistics under the rater ``choice`` and their HTML report (its
    figures are drawn here, not on the UI thread) written to ``html_path`` in the dialog's
    private folder (made again when it was removed)."""
    from cobbdesk.core.export.report import write_report

    analysis = analysis_of(study, choice)
    private_folder(html_path.parent)
    write_report(analysis, html_path, title=title)
    return analysis, html_path
