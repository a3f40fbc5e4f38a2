"""Two raters, one visit (#12): the lab form saves only what its user changed, and a field the
other rater (another process, same study file) saved meanwhile is asked about — theirs, mine
or cancel — never silently reverted."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from cobbdesk.core.store import Study
from cobbdesk.core.store.conflicts import FieldConflict
from cobbdesk.gui import errors
from cobbdesk.gui.study.lab_form import LabForm


@pytest.fixture(autouse=True)
def _shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


@pytest.fixture
def study(tmp_path: Path) -> Study:
    s = Study.create(tmp_path / "labs.cobbdesk", actor="rater_a")
    vid = s.add_visit(s.add_patient("P0001"), "admission", visit_date="2026-01-05")
    s.set_labs(vid, {"crp": 5.0, "esr": 20.0})
    yield s
    s.close()


def _rival(path: str, values: dict[str, float]) -> None:
    with Study.open(path, actor="rater_b") as other:
        other.set_labs(1, values, reason="lab report corrected")


def rival_saves(study: Study, **values: float) -> None:
    process = multiprocessing.get_context("spawn").Process(
        target=_rival, args=(str(study.path), values)
    )
    process.start()
    process.join(60)
    assert process.exitcode == 0


def open_form(qtbot, study: Study, answers: list[str | None]):  # type: ignore[no-untyped-def]
    asked: list[FieldConflict] = []
    replies = iter(answers)

    def resolve(parent: object, clash: FieldConflict) -> str | None:
        asked.append(clash)
        return next(replies)

    form = LabForm(
        study, 1, "P0001 · Admission",
        reason_prompt=lambda parent, what: "typo", conflict_prompt=resolve,
    )  # fmt: skip
    form.asked = asked  # type: ignore[attr-defined]
    qtbot.addWidget(form)
    return form


def test_a_field_the_user_did_not_touch_is_not_reverted(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    form = open_form(qtbot, study, [])
    form.set_raw("esr", "25")
    rival_saves(study, crp=12.0)  # B corrects the CRP while A's form is open
    assert form.save() is True
    assert form.asked == []  # type: ignore[attr-defined]
    assert (study.labs(1)["crp"], study.labs(1)["esr"]) == (12.0, 25.0)


@pytest.mark.parametrize(("answer", "crp"), [("theirs", 12.0), ("mine", 7.0)])
def test_a_conflicting_field_is_asked_about(qtbot, study: Study, answer: str, crp: float) -> None:  # type: ignore[no-untyped-def]
    form = open_form(qtbot, study, [answer])
    form.set_raw("crp", "7")
    form.set_raw("esr", "25")
    rival_saves(study, crp=12.0)
    assert form.save() is True
    assert form.asked == [FieldConflict("crp", 5.0, 12.0, 7.0)]  # type: ignore[attr-defined]
    assert (study.labs(1)["crp"], study.labs(1)["esr"]) == (crp, 25.0)
    assert study.verify_integrity().ok


def test_cancel_keeps_their_value_and_saves_nothing(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    form = open_form(qtbot, study, [None])
    form.set_raw("crp", "7")
    form.set_raw("esr", "25")
    rival_saves(study, crp=12.0)
    assert form.save() is False
    assert "cancelled" in form.message.text()
    assert (study.labs(1)["crp"], study.labs(1)["esr"]) == (12.0, 20.0)
