"""The study's reads run off the UI thread with a visible state (#15, #17).

Each read is blocked on its worker (a core function replaced by one that waits for the test's
release): meanwhile the UI thread keeps running (a QTimer keeps ticking) and the window shows
"Loading…"; after the release the content is what the core function returns — the same rows,
flags, measurements and lab values as a direct read of the study.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QTimer
from PySide6.QtWidgets import QDialogButtonBox, QProgressDialog, QPushButton

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.errors import StoreError
from cobbdesk.core.measure.commands import AddMeasurement
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.overview import patient_list
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study import model_nodes, reads, session_actions
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine


class Gate:
    """``real`` that waits, on its worker thread, until the test releases it."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real, self.calls = real, 0
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        self.entered.set()
        self.release.wait(15)
        return self.real(*args, **kwargs)


class Ticker:
    """A QTimer of the UI thread counting its ticks."""

    def __init__(self) -> None:
        self.ticks = 0
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.ticks += 1

    def keeps_ticking(self, qtbot: Any, while_: Callable[[], bool]) -> None:
        """The timer ticks 10 more times while ``while_`` holds (the read is blocked)."""
        start = self.ticks
        qtbot.waitUntil(lambda: self.ticks >= start + 10, timeout=5000)
        assert while_()


def spine(region: str) -> SyntheticSpine:
    return make_lateral_spine(region, 20.0, rows=400, columns=320, spacing_mm=(0.6, 0.6), seed=4)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(errors, "present", lambda parent, title, text: None)


@pytest.fixture
def study_path(tmp_path: Path) -> Path:
    """P0001: an admission with a measured cervical film and labs; P0002 without visits."""
    path = tmp_path / "trial.cobbdesk"
    (tmp_path / "films").mkdir()
    with Study.create(path, actor="setup") as study:
        pid = study.add_patient("P0001", name="Doe^Jane", sex="F")
        study.add_patient("P0002")
        vid = study.add_visit(pid, "admission", visit_date="2026-01-05")
        file = write_dicom(spine("cervical"), tmp_path / "films" / "c.dcm")
        film = read_film(file)
        fid = study.add_film(vid, sop_instance_uid=film.sop_instance_uid, path=str(file),
                             region="cervical", pixel_sha256=film.pixel_sha256)  # fmt: skip
        upper, lower = spine("cervical").template_endplates
        study.save_measurement(fid, CobbMeasurement(
            film.sop_instance_uid, film.pixel_sha256, Template.C2_C7, EndplateLine(*upper),
            EndplateLine(*lower), rater="r0"))  # fmt: skip
        study.set_labs(vid, {"vas": 6.0, "crp": 12.0})
    return path


@pytest.fixture
def window(qtbot: Any) -> Iterator[MainWindow]:
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.resize(1200, 800)
    win.show()
    yield win
    win.session.shutdown()


def test_patient_list_read_off_the_ui_thread_then_painted(
    qtbot: Any, window: MainWindow, study_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(reads.patient_list)
    monkeypatch.setattr(reads, "patient_list", gate)
    ticker = Ticker()
    assert window.session.open_study(study_path)  # returns while the list is being read
    browser = window.session.browser
    assert gate.entered.wait(10)
    ticker.keeps_ticking(qtbot, lambda: browser.summary.text() == "Loading patients…")
    assert browser.model.rowCount() == 0
    assert window.session.study is not None and window.session.study.file_check is not None
    assert not window.session.study.file_check.started  # not before the first paint
    gate.release.set()
    qtbot.waitUntil(lambda: browser.model.rowCount() == 2, timeout=5000)
    study = window.session.study
    expected = [row.study_id for row in patient_list(study)]
    assert [browser.model.index(r, 0).data() for r in range(2)] == expected
    qtbot.waitUntil(lambda: "incomplete" in browser.summary.text(), timeout=5000)
    assert browser.summary.text() == "2 patients · 2 incomplete"
    qtbot.waitUntil(lambda: study.file_check.started, timeout=5000)  # after the paint
    assert study.file_check.result(timeout=None) is None


def test_film_flags_off_the_ui_thread_one_job_at_a_time(
    qtbot: Any, window: MainWindow, study_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(reads.film_flags_of)
    monkeypatch.setattr(reads, "film_flags_of", gate)
    ticker = Ticker()
    session = window.session
    assert session.open_study(study_path)
    qtbot.waitUntil(gate.entered.is_set, timeout=10000)  # the refresh's flags job, blocked
    for _ in range(5):  # a burst of saves while it runs
        session.refresh_flags()
    ticker.keeps_ticking(qtbot, lambda: gate.calls == 1)
    gate.release.set()
    qtbot.waitUntil(lambda: gate.calls == 2 and not session._flag_runs.busy, timeout=5000)
    qtbot.wait(50)
    assert gate.calls == 2  # the burst was served by one more job
    assert session.study is not None
    from cobbdesk.core.compare.flags import film_flags
    from cobbdesk.core.store.overview import film_ids_and_mismatches

    uids, mismatched = film_ids_and_mismatches(session.study)  # the former UI-thread way
    old = film_flags(uids, session.study.measurements(), session.study.angle_discrepancies(),
                     mismatched)  # fmt: skip
    assert session.browser.model.film_flags == old


def test_film_opens_with_loading_until_its_saved_measurements_arrive(
    qtbot: Any, window: MainWindow, study_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(reads.read_saved)
    monkeypatch.setattr(reads, "read_saved", gate)
    session = window.session
    assert session.open_study(study_path)
    assert session.study is not None
    record = session.study.films()[0]
    saved = session.study.measurements(record.id)
    ticker = Ticker()
    session.browser.filmActivated.emit(record)
    qtbot.waitUntil(lambda: window.current is not None and window.current.controller is not None,
                    timeout=20000)  # fmt: skip
    assert gate.entered.wait(10)
    controller = window.current.controller  # type: ignore[union-attr]
    item = window.film_list.item(0)
    ticker.keeps_ticking(qtbot, lambda: item.text().endswith("loading measurements…"))
    assert len(controller.measurements) == 0 and not session.links
    new = CobbMeasurement(record.sop_instance_uid, record.pixel_sha256, Template.C2_C7,
                          EndplateLine((10, 10), (60, 12)), EndplateLine((10, 200), (60, 190)),
                          rater="tester")  # fmt: skip
    refused = controller.push(AddMeasurement(new))
    assert not refused.ok and "still loading" in refused.message  # nothing the study loses
    gate.release.set()
    qtbot.waitUntil(lambda: bool(session.links), timeout=5000)
    assert list(controller.measurements.values()) == saved
    assert item.text() == "c.dcm"
    assert controller.push(AddMeasurement(new)).ok  # now stored
    qtbot.waitUntil(lambda: len(session.study.measurements(record.id)) == 2, timeout=5000)  # type: ignore[union-attr]


def test_lab_form_disabled_and_loading_until_its_values_arrive(
    qtbot: Any, window: MainWindow, study_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(session_actions.labs_and_title)
    monkeypatch.setattr(session_actions, "labs_and_title", gate)
    session = window.session
    assert session.open_study(study_path)
    assert session.study is not None
    visit_id = session.study.films()[0].visit_id
    ticker = Ticker()
    form = session.enter_labs(visit_id)
    assert form is not None and gate.entered.wait(10)
    save = form.buttons.button(QDialogButtonBox.StandardButton.Save)
    ticker.keeps_ticking(qtbot, lambda: form.loading and form.message.text() == "Loading…")
    assert not save.isEnabled() and not form.fields["vas"].isEnabled()
    assert not form.save()
    gate.release.set()
    qtbot.waitUntil(lambda: not form.loading, timeout=5000)
    assert form.windowTitle() == "Labs — P0001 · Admission" and form.title == "P0001 · Admission"
    assert form.saved == session.study.labs(visit_id)
    assert form.raw("vas") == "6" and form.raw("crp") == "12"
    assert save.isEnabled() and form.fields["vas"].isEnabled()
    form.set_raw("lymphocyte", "2.5")
    assert form.save()
    assert session.study.labs(visit_id)["lymphocyte"] == 2.5


def _texts(model: Any, parent: Any) -> list[Any]:
    """Every row under ``parent``: its column texts and its children's, depth first."""
    rows = []
    for r in range(model.rowCount(parent)):
        index = model.index(r, 0, parent)
        cells = [model.index(r, c, parent).data() for c in range(model.columnCount())]
        rows.append((cells, _texts(model, index)))
    return rows


def _eager(qtbot: Any, study: Study) -> list[Any]:
    from cobbdesk.gui.study.browser import StudyBrowser

    eager = StudyBrowser()
    qtbot.addWidget(eager)
    eager.set_overview(study.overview())
    return _texts(eager.model, QModelIndex())


def test_patient_visits_read_off_the_ui_thread_when_expanded(
    qtbot: Any, window: MainWindow, study_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(model_nodes.patient_overview)
    monkeypatch.setattr(model_nodes, "patient_overview", gate)
    session = window.session
    assert session.open_study(study_path)
    model, tree = session.browser.model, session.browser.tree
    qtbot.waitUntil(lambda: model.rowCount() == 2 and not session._flag_runs.busy, timeout=5000)
    ticker = Ticker()  # (the flags' model reset collapses the tree: expand after it)
    first = model.index(0, 0)
    tree.expand(first)
    qtbot.waitUntil(gate.entered.is_set, timeout=10000)  # asked when painted or expanded
    child = [model.index(0, c, first) for c in range(2)]
    ticker.keeps_ticking(qtbot, lambda: [i.data() for i in child] == ["Loading…", ""]
                         and model.index(0, 1).data() == "Loading…")  # fmt: skip
    assert model.rowCount(first) == 1
    gate.release.set()
    assert session.study is not None
    expected = _eager(qtbot, session.study)
    qtbot.waitUntil(lambda: _texts(model, QModelIndex()) == expected, timeout=5000)
    assert model.index(0, 0, first).data() == "Admission" and tree.isExpanded(first)
    assert session.browser.selected_patient_id() is None
    tree.setCurrentIndex(model.index(0, 0, first))
    assert session.browser.selected_patient_id() == session.study.patients()[0].id


def test_patient_read_failure_shown_as_the_child_and_retried(
    qtbot: Any, window: MainWindow, study_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, failing = model_nodes.patient_overview, [True]

    def flaky(study: Study, patient_id: int) -> Any:
        if failing[0]:
            raise StoreError(None, "server connection lost")
        return real(study, patient_id)

    monkeypatch.setattr(model_nodes, "patient_overview", flaky)
    session = window.session
    assert session.open_study(study_path)
    model, tree = session.browser.model, session.browser.tree
    qtbot.waitUntil(lambda: model.rowCount() == 2 and not session._flag_runs.busy, timeout=5000)
    first = model.index(0, 0)
    tree.expand(first)
    qtbot.waitUntil(lambda: str(model.index(0, 0, first).data()).startswith("Not available"),
                    timeout=5000)  # fmt: skip
    assert model.index(0, 0, first).data() == "Not available — server connection lost"
    assert model.rowCount(first) == 1 and model.index(0, 1).data() == "Not available"
    failing[0] = False  # the server is back
    tree.collapse(first)
    tree.expand(first)
    qtbot.waitUntil(lambda: model.index(0, 0, first).data() == "Admission", timeout=5000)
    assert session.study is not None
    assert _texts(model, QModelIndex())[0] == _eager(qtbot, session.study)[0]
    assert model.index(1, 1).data() == "Not available"  # P0002's failed read: not retried


def _method(gate: Gate) -> Callable[[Study], Any]:
    """``gate`` as a method of Study (a Gate instance does not bind ``self``)."""

    def method(self: Study, *args: Any) -> Any:
        return gate(self, *args)

    return method


def _progress(window: MainWindow) -> QProgressDialog | None:
    shown = [d for d in window.findChildren(QProgressDialog) if d.isVisible()]
    return shown[0] if shown else None


def test_audit_verified_as_a_background_job(
    qtbot: Any, window: MainWindow, study_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(Study.verify_audit)
    monkeypatch.setattr(Study, "verify_audit", _method(gate))
    session = window.session
    assert session.open_study(study_path)
    ticker = Ticker()
    assert session.verify_audit() is not None
    assert gate.entered.wait(10)
    qtbot.waitUntil(lambda: _progress(window) is not None, timeout=5000)
    dialog = _progress(window)
    assert dialog is not None and dialog.labelText() == "Verifying the audit trail…"
    ticker.keeps_ticking(qtbot, lambda: session.audit_result is None)
    gate.release.set()
    qtbot.waitUntil(lambda: session.audit_result is not None, timeout=5000)
    assert session.study is not None
    rows = gate.real(session.study).rows  # the same answer as a direct check
    assert session.audit_result is True and _progress(window) is None
    assert window.status.currentMessage() == f"The audit trail is intact: {rows:,} entries."


def test_audit_verification_cancelled(
    qtbot: Any, window: MainWindow, study_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(Study.verify_audit)
    monkeypatch.setattr(Study, "verify_audit", _method(gate))
    session = window.session
    assert session.open_study(study_path)
    job = session.verify_audit()
    assert job is not None and gate.entered.wait(10)
    qtbot.waitUntil(lambda: _progress(window) is not None, timeout=5000)
    _progress(window).findChild(QPushButton).click()  # type: ignore[union-attr]  # Cancel
    assert job.cancelled.is_set()
    gate.release.set()
    qtbot.waitUntil(lambda: job not in session.jobs, timeout=5000)
    assert session.audit_result is None
    assert window.status.currentMessage() == "Audit verification cancelled."
