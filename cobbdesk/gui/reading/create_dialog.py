"""New reading plan: the options of ``cobbdesk plan create`` in a form.

Name, raters (comma-separated), rounds, washout in days, seed, region, an optional sample of
patients, optional adjudication above a threshold with its adjudicator, and snapping (off by
default: assistance would inflate agreement).  :meth:`CreatePlanDialog.spec` is the
:class:`~cobbdesk.core.reading.plan.PlanSpec` the form describes; the plan is created by the
caller (a refusal keeps the dialog open with the message).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from cobbdesk.core.reading.plan import REGIONS, PlanSpec


class CreatePlanDialog(QDialog):
    """The form of a new plan (module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New reading plan")
        form = QFormLayout(self)
        self.name = QLineEdit()
        self.raters = QLineEdit()
        self.raters.setPlaceholderText("A,B")
        self.rounds = _spin(1, 10, 2)
        self.washout = _spin(0, 3650, 14)
        self.seed = _spin(0, 2_000_000_000, 1)
        self.region = QComboBox()
        self.region.addItems(list(REGIONS))
        self.region.setCurrentText("both")
        self.sample_on = QCheckBox("Random sample of patients")
        self.sample = _spin(1, 1_000_000, 20)
        self.adjudicate_on = QCheckBox("Adjudicate films whose raters differ by more than")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.1, 90.0)
        self.threshold.setValue(5.0)
        self.threshold.setSuffix("°")
        self.adjudicator = QLineEdit()
        self.snapping = QCheckBox("Offer endplate snapping (off: assistance inflates agreement)")
        rows = (("Name", self.name), ("Raters", self.raters), ("Rounds per rater", self.rounds),
                ("Washout (days)", self.washout), ("Seed", self.seed), ("Region", self.region),
                (self.sample_on, self.sample), (self.adjudicate_on, self.threshold),
                ("Adjudicator", self.adjudicator), ("", self.snapping))  # fmt: skip
        for label, field in rows:
            form.addRow(label, field)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create plan")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.buttons = buttons

    def spec(self) -> PlanSpec:
        """The plan the form describes (checked when it is created)."""
        adjudicate = self.adjudicate_on.isChecked()
        return PlanSpec(
            self.name.text(), tuple(self.raters.text().split(",")), rounds=self.rounds.value(),
            washout_days=self.washout.value(), seed=self.seed.value(),
            region=self.region.currentText(),
            sample=self.sample.value() if self.sample_on.isChecked() else None,
            adjudicate_above=self.threshold.value() if adjudicate else None,
            adjudicator=(self.adjudicator.text().strip() or None) if adjudicate else None,
            snapping=self.snapping.isChecked(),
        )  # fmt: skip


def _spin(low: int, high: int, value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    return box


__all__ = ["CreatePlanDialog"]
