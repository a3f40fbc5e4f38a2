"""First paint of the study browser: patients at once, completeness when the background job ends."""

from __future__ import annotations

from pathlib import Path

from cobbdesk.core.measure.measurement import Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.overview import patient_completeness, patient_list
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study.browser import StudyBrowser
from cobbdesk.gui.study.model import StudySource
from cobbdesk.gui.workers import FilmLoader
from tests.gui.test_study_browser_lazy import _visit


def _study(tmp_path: Path) -> Study:
    """A complete patient, one without month 3 and one with an unmeasured lumbar film."""
    study = Study.create(tmp_path / "s.cobbdesk", actor="tester")
    for name, visits in (
        ("A-complete", [("admission", {}), ("month3", {})]),
        ("B-no-month3", [("admission", {})]),
        ("C-unmeasured", [("admission", {}), ("month3", {"templates": (Template.C2_C7, None)})]),
    ):
        patient = study.add_patient(name)
        for kind, options in visits:
            _visit(study, patient, kind, **options)  # type: ignore[arg-type]
    return study


def test_patient_list_has_no_completeness_and_completeness_matches_the_overview(
    tmp_path: Path,
) -> None:
    study = _study(tmp_path)
    rows = patient_list(study)
    assert [r.study_id for r in rows] == ["A-complete", "B-no-month3", "C-unmeasured"]
    assert all(r.complete is None for r in rows)
    by_id = {po.patient.id: po.complete for po in study.overview()}
    assert patient_completeness(study) == by_id
    assert sorted(by_id.values()) == [False, False, True]
    study.close()


def test_browser_paints_patients_before_completeness_then_shows_it(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    study = _study(tmp_path)
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.incomplete.setChecked(True)
    browser.set_rows(patient_list(study), StudySource(study))
    model = browser.model
    assert model.rowCount() == 3  # unknown completeness: every patient is listed
    assert browser.summary.text() == "3 patients · checking completeness…"
    browser.set_completeness(patient_completeness(study))
    assert browser.summary.text() == "3 patients · 2 incomplete · showing 2"
    shown = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert shown == ["B-no-month3", "C-unmeasured"]
    browser.incomplete.setChecked(False)
    assert browser.summary.text() == "3 patients · 2 incomplete"
    study.close()


def test_session_refresh_paints_first_and_fills_completeness_in_background(  # type: ignore[no-untyped-def]
    qtbot, tmp_path: Path
) -> None:
    _study(tmp_path).close()
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    try:
        assert win.session.open_study(tmp_path / "s.cobbdesk")
        browser = win.session.browser
        assert browser.summary.text() == "Loading patients…"  # read off the UI thread
        qtbot.waitUntil(lambda: browser.model.rowCount() == 3, timeout=5000)
        qtbot.waitUntil(lambda: "incomplete" in browser.summary.text(), timeout=5000)
        assert browser.summary.text() == "3 patients · 2 incomplete"
    finally:
        win.session.shutdown()
