"""The lab form: validation as you type, plausibility warnings, derived NLR, reasons for edits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from cobbdesk.core.labs import LAB_SPECS
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.study.lab_form import ERROR_STYLE, WARNING_STYLE, LabForm

SHOTS = Path(os.environ.get("COBBDESK_SCREENSHOTS", "/tmp/cobbdesk_shots"))


@pytest.fixture(autouse=True)
def _shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


@pytest.fixture
def study(tmp_path: Path) -> Study:
    s = Study.create(tmp_path / "labs.cobbdesk", actor="nurse")
    s.add_visit(s.add_patient("P0001", name="Doe^Jane"), "admission", visit_date="2026-01-05")
    yield s
    s.close()


def form_for(qtbot, study: Study, reasons: list[str | None] | None = None) -> LabForm:  # type: ignore[no-untyped-def]
    answers = iter(reasons or [])
    asked: list[str] = []

    def prompt(parent: object, what: str) -> str | None:
        asked.append(what)
        return next(answers)

    form = LabForm(study, 1, "P0001 · Admission", reason_prompt=prompt)
    form.asked = asked  # type: ignore[attr-defined]
    qtbot.addWidget(form)
    form.show()
    return form


def save_button(form: LabForm):  # type: ignore[no-untyped-def]
    return form.buttons.button(QDialogButtonBox.StandardButton.Save)


def test_every_lab_has_a_field_and_unit(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    form = form_for(qtbot, study)
    assert list(form.fields) == list(LAB_SPECS)
    labels = {w.text() for w in form.findChildren(type(form.message))}
    assert {"×10⁹/L", "U/L", "mg/dL", "mg/L", "mm/h"} <= labels
    assert form.nlr.isReadOnly() and form.nlr.text() == "—"


def test_impossible_values_are_red_and_refused(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    form = form_for(qtbot, study)
    qtbot.keyClicks(form.fields["vas"], "12")
    assert form.fields["vas"].styleSheet() == ERROR_STYLE
    assert form.fields["vas"].toolTip() == "vas = 12 is impossible: VAS pain score must be 0–10"
    assert not save_button(form).isEnabled()
    assert form.save() is False
    form.set_raw("vas", "7")
    form.set_raw("neutrophil", "-3")
    assert "neutrophil = -3 is impossible" in form.fields["neutrophil"].toolTip()
    assert form.save() is False
    assert study.labs(1) == {"nlr": None}  # nothing written


def test_plausible_values_saved_with_warnings_and_nlr(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    form = form_for(qtbot, study)
    form.set_raw("vas", "7")
    form.set_raw("neutrophil", "4,2")  # decimal comma accepted by the core
    form.set_raw("lymphocyte", "2.1")
    assert form.nlr.text() == "2.00"
    form.set_raw("cpk", "9000")  # possible but unusual
    assert form.fields["cpk"].styleSheet() == WARNING_STYLE
    assert "unusual" in form.message.text()
    form.set_raw("ana", "positive")
    assert save_button(form).isEnabled()
    assert form.save() is True
    assert form.result() == QDialog.DialogCode.Accepted
    saved = study.labs(1)
    assert saved["vas"] == 7.0 and saved["cpk"] == 9000.0 and saved["ana"] == "positive"
    assert saved["nlr"] == pytest.approx(2.0)
    assert form.asked == []  # type: ignore[attr-defined]  # first entry: no reason needed


def test_editing_saved_labs_needs_a_reason(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    study.set_labs(1, {"vas": 7, "crp": 10})
    form = form_for(qtbot, study, reasons=[None, "transcription error"])
    assert form.fields["vas"].text() == "7"
    form.set_raw("vas", "5")
    form.set_raw("esr", "20")  # a new value alongside the edit
    assert form.save() is False  # reason declined: nothing written
    assert study.labs(1)["vas"] == 7.0 and "esr" not in study.labs(1)
    assert "VAS pain score" in form.asked[0]  # type: ignore[attr-defined]
    assert form.save() is True
    assert study.labs(1)["vas"] == 5.0 and study.labs(1)["esr"] == 20.0
    assert study.verify_audit().ok


def test_cancel_discards(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    form = form_for(qtbot, study)
    form.set_raw("vas", "3")
    form.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert form.result() == QDialog.DialogCode.Rejected
    assert study.labs(1) == {"nlr": None}


def test_screenshot(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    study.set_labs(1, {"vas": 6, "neutrophil": 6.3, "lymphocyte": 1.4, "rf": "negative"})
    form = form_for(qtbot, study)
    form.set_raw("crp", "12")
    form.set_raw("cpk", "9000")
    form.set_raw("esr", "250")
    qtbot.waitExposed(form)
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert form.grab().save(str(SHOTS / "lab_form.png"))
