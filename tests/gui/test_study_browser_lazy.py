"""The lazily filled study browser (flat patient list, visits/films on demand) = the eager one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex

from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.overview import film_ids_and_mismatches, patient_rows
from cobbdesk.gui.study.browser import StudyBrowser
from cobbdesk.gui.study.model import COL_CERVICAL, COL_LABS, COL_MISSING, MEASURED, StudySource

LABS = {"vas": 6, "crp": 12}


def _measure(study: Study, film: int, sop: str, template: Template) -> str:
    m = CobbMeasurement(
        sop_instance_uid=sop, pixel_sha256="", template=template,
        upper=EndplateLine((100.0, 100.0), (160.0, 110.0)),
        lower=EndplateLine((100.0, 300.0), (160.0, 280.0)), rater="r1",
    )  # fmt: skip
    return study.save_measurement(film, m)  # type: ignore[no-any-return]


def _visit(study: Study, patient: int, kind: str, *, labs: bool = True,
           templates: tuple[Template | None, Template | None] = (Template.C2_C7, Template.L1_S1),
           regions: tuple[str, str] = ("cervical", "lumbar")) -> int:  # fmt: skip
    visit = study.add_visit(patient, kind, visit_date="2026-01-05")
    for region, template in zip(regions, templates, strict=True):
        sop = f"1.2.{visit}.{region}.{len(study.films())}"
        film = study.add_film(visit, sop_instance_uid=sop, path=Path(f"/x/{sop}.dcm"),
                              region=region)  # fmt: skip
        if template is not None:
            _measure(study, film, sop, template)
    if labs:
        study.set_labs(visit, LABS)
    return visit


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    """Complete, and each way of being incomplete that PatientOverview.complete knows."""
    s = Study.create(tmp_path / "s.cobbdesk", actor="tester")
    cases = {
        "A-complete": [("admission", {}), ("month3", {})],
        "B-no-month3": [("admission", {})],
        "C-no-labs": [("admission", {}), ("month3", {"labs": False})],
        "D-unmeasured": [("admission", {}), ("month3", {"templates": (Template.C2_C7, None)})],
        "E-mismatched": [("admission", {}), ("month3", {"templates": (Template.C2_C7,
                                                                      Template.C2_C7)})],
        "F-unknown-region": [("admission", {}), ("month3", {"regions": ("cervical", "unknown"),
                                                            "templates": (Template.C2_C7,
                                                                          Template.FREE)})]
        ,
        "G-no-visits": [],
        "H-complete-plus-other": [("admission", {}), ("month3", {}), ("other", {})],
    }  # fmt: skip
    for study_id, visits in cases.items():
        patient = s.add_patient(study_id, name=f"Name^{study_id[0]}")
        for kind, options in visits:
            _visit(s, patient, kind, **options)  # type: ignore[arg-type]
    yield s
    s.close()


def _tree(model: object, parent: QModelIndex = QModelIndex()) -> list[object]:  # noqa: B008
    rows = []
    for r in range(model.rowCount(parent)):  # type: ignore[attr-defined]
        index = model.index(r, 0, parent)  # type: ignore[attr-defined]
        texts = [model.data(model.index(r, c, parent)) for c in range(6)]  # type: ignore[attr-defined]
        rows.append((texts, _tree(model, index)))
    return rows


def test_patient_rows_complete_equals_overview(study: Study) -> None:
    expected = {po.patient.study_id: po.complete for po in study.overview()}
    got = {row.study_id: row.complete for row in patient_rows(study)}
    assert got == expected
    assert [sid for sid, done in got.items() if done] == ["A-complete", "H-complete-plus-other"]


def test_flag_inputs_equal_the_overview(study: Study) -> None:
    visits = [v for po in study.overview() for v in po.visits]
    uids = {f.sop_instance_uid: f.id for v in visits for fs in v.films.values() for f in fs}
    mismatched = {fid: n for v in visits for fid, n in v.mismatched.items()}
    assert film_ids_and_mismatches(study) == (uids, mismatched)
    assert len(mismatched) == 1  # E's C2-C7 on the lumbar film; F's FREE on "unknown" matches


def test_lazy_browser_equals_eager(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    eager, lazy = StudyBrowser(), StudyBrowser()
    qtbot.addWidget(eager)
    qtbot.addWidget(lazy)
    eager.set_overview(study.overview())
    lazy.set_rows(patient_rows(study), StudySource(study))
    assert _tree(lazy.model) == _tree(eager.model)
    assert lazy.summary.text() == eager.summary.text() == "8 patients · 6 incomplete"
    for text, incomplete in (("", True), ("e-", False), ("name^c", False)):
        for browser in (eager, lazy):
            browser.identifiers.setChecked(True)
            browser.filter.setText(text)
            browser.incomplete.setChecked(incomplete)
        assert _tree(lazy.model) == _tree(eager.model)
        assert lazy.summary.text() == eager.summary.text()


def test_only_shown_patients_are_loaded(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.set_rows(patient_rows(study), StudySource(study))
    nodes = browser.model._all
    assert not any(n.loaded for n in nodes)  # the summary counts come from the flat list
    assert browser.model.data(browser.model.index(0, COL_CERVICAL)) == MEASURED
    assert [n.loaded for n in nodes] == [True] + [False] * 7


def test_updates_reach_a_patient_not_loaded_yet(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.set_rows(patient_rows(study), StudySource(study))
    c_row = next(r for r in range(8) if browser.model._rows[r].study_id == "C-no-labs")
    month3 = next(v for v in study.overview()[c_row].visits if v.labs == 0)
    study.set_labs(month3.visit.id, LABS)
    browser.model.set_labs(month3.visit.id, 2)  # the patient is loaded from the study here
    assert browser.model.data(browser.model.index(c_row, COL_LABS)) == MEASURED
    assert browser.model.data(browser.model.index(c_row, COL_MISSING)) == "complete"
    found = browser.model.visit(month3.visit.id)
    assert found is not None and found[1].visit.id == month3.visit.id
