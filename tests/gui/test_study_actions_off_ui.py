"""Every database call of a user action in the study window runs off the UI thread (#15).

Each action is driven as a user would (double-click in the browser, a context-menu action, the
lab form's Save button, a menu) on a study file and on a study on the throwaway PostgreSQL
cluster, its workers and write queue are waited for, and
:class:`~tests.gui.ui_thread_sql.UiThreadSql` must have seen no statement on the Qt main
thread.  Moving any of these calls back to the UI thread makes the guard list it (and the
test fail).  What the action stored is checked through a second connection (another
:class:`Study`, not watched by the guard).
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Region, Study
from cobbdesk.gui import errors, settings
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study import jobs as study_jobs
from cobbdesk.gui.study.lab_form import LabForm
from cobbdesk.gui.study.model import FILM, PATIENT, VISIT, StudyModel
from cobbdesk.gui.study.photo_dialog import PhotoTargetDialog
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine
from tests.gui.ui_thread_sql import UiThreadSql


def spine(region: str) -> SyntheticSpine:
    return make_lateral_spine(region, 20.0, rows=400, columns=320, spacing_mm=(0.6, 0.6), seed=4)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """P0001: an admission with a measured cervical film and a lumbar film imported from its
    header (no pixel hash yet); P0002 without visits."""
    place: Any = tmp_path / "trial.cobbdesk"
    if request.param == "postgresql":
        place = request.getfixturevalue("pg_url")
    (tmp_path / "films").mkdir()
    with Study.create(place, actor="setup") as study:
        pid = study.add_patient("P0001", name="Doe^Jane", sex="F")
        study.add_patient("P0002")
        vid = study.add_visit(pid, "admission", visit_date="2026-01-05")
        for region in ("cervical", "lumbar"):
            file = write_dicom(spine(region), tmp_path / "films" / f"{region}.dcm")
            film = read_film(file)
            fid = study.add_film(vid, sop_instance_uid=film.sop_instance_uid, path=str(file),
                                 region=region, pixel_sha256=film.pixel_sha256
                                 if region == "cervical" else None)  # fmt: skip
            if region == "cervical":
                upper, lower = spine(region).template_endplates
                study.save_measurement(fid, CobbMeasurement(
                    film.sop_instance_uid, film.pixel_sha256, Template.C2_C7,
                    EndplateLine(*upper), EndplateLine(*lower), rater="r0"))  # fmt: skip
    return place


@pytest.fixture
def window(qtbot: Any, where: Any) -> Iterator[MainWindow]:
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    assert win.session.open_study(where)
    settle(qtbot, win)
    yield win
    win.session.shutdown()


def settle(qtbot: Any, win: MainWindow) -> None:
    """Wait until the window's reads, jobs and writes have all ended."""
    session = win.session

    def quiet() -> bool:
        saver = session.saver
        return (session.browser.model.rowCount() > 0 and not session.jobs
                and not session._flag_runs.busy and not session._pending
                and not session._waiting and (saver is None or saver.outbox.pending() == 0)
                and "Loading" not in session.browser.summary.text()
                and "checking" not in session.browser.summary.text())  # fmt: skip

    qtbot.waitUntil(quiet, timeout=20_000)
    qtbot.wait(30)  # results posted by the last worker are delivered
    qtbot.waitUntil(quiet, timeout=20_000)


def other(where: Any) -> Study:
    """A second connection to the study, for checks (not watched by the guard)."""
    return Study.open(where, actor="checker")


def find_row(model: StudyModel, kind: int, text: str, parent: QModelIndex) -> QModelIndex:
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        node = model.node(index)
        if node is not None and node.kind == kind and str(index.data()).startswith(text):
            return index
    raise AssertionError(f"no row {text!r} under {parent.data()!r}")


def film_index(qtbot: Any, win: MainWindow, region: str) -> QModelIndex:
    """The film row of P0001's admission, expanded to as a user would (visits read off the UI
    thread when the patient row is expanded)."""
    model, tree = win.session.browser.model, win.session.browser.tree
    patient = find_row(model, PATIENT, "P0001", QModelIndex())
    tree.expand(patient)
    qtbot.waitUntil(lambda: model.index(0, 0, patient).data() == "Admission", timeout=10_000)
    visit = find_row(model, VISIT, "Admission", patient)
    tree.expand(visit)
    return find_row(model, FILM, region.capitalize(), visit)


def double_click(qtbot: Any, win: MainWindow, index: QModelIndex) -> None:
    tree = win.session.browser.tree
    tree.scrollTo(index)
    centre = tree.visualRect(index).center()
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)


def context_action(qtbot: Any, win: MainWindow, index: QModelIndex, path: tuple[str, str]) -> None:
    """Right-click the row, then choose ``path`` (submenu, action) in the popup menu."""
    tree = win.session.browser.tree
    tree.scrollTo(index)
    centre: QPoint = tree.visualRect(index).center()
    tree.customContextMenuRequested.emit(centre)  # what a right-click on the row emits
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    sub = next(a.menu() for a in menu.actions() if a.text() == path[0])
    action = next(a for a in sub.actions() if a.text() == path[1])
    menu.close()
    action.trigger()


def test_opening_a_film_hashes_it_off_the_ui_thread(qtbot: Any, window: MainWindow,
                                                   where: Any) -> None:  # fmt: skip
    index = film_index(qtbot, window, "lumbar")
    with UiThreadSql(window.session.study) as seen:  # type: ignore[arg-type]
        double_click(qtbot, window, index)
        qtbot.waitUntil(lambda: bool(window.session.links), timeout=20_000)
        settle(qtbot, window)
    assert seen.statements == []
    assert window.current is not None and window.current.film is not None
    with other(where) as check:
        lumbar = next(f for f in check.films() if f.region is Region.LUMBAR)
        assert lumbar.pixel_sha256 == window.current.film.pixel_sha256  # written on the queue
        assert (lumbar.pixel_rows, lumbar.pixel_columns) == (400, 320)


def test_changing_region_and_facing_from_the_context_menu(qtbot: Any, window: MainWindow,
                                                          where: Any) -> None:  # fmt: skip
    session = window.session
    with other(where) as check:
        (before,) = check.measurements(check.films()[0].id)
    session.reason_prompt = lambda parent, what: "film is lumbar"
    with UiThreadSql(session.study) as seen:  # type: ignore[arg-type]
        context_action(qtbot, window, film_index(qtbot, window, "cervical"),
                       ("Change region", "Lumbar"))  # fmt: skip
        settle(qtbot, window)
        qtbot.waitUntil(lambda: any(session.browser.model.film_flags.values()), timeout=10_000)
        session.reason_prompt = lambda parent, what: "mirrored on the scanner"
        context_action(qtbot, window, film_index(qtbot, window, "lumbar"),
                       ("Change facing (anterior towards)", "Image right"))  # fmt: skip
        settle(qtbot, window)
    assert seen.statements == []
    with other(where) as check:
        films = sorted(check.films(), key=lambda f: f.id)
        assert [f.region for f in films] == [Region.LUMBAR, Region.LUMBAR]
        assert films[0].facing == "right" and films[1].facing is None
        (m,) = check.measurements(films[0].id)
        assert m.angle == pytest.approx(-before.angle)  # same points, ends swapped
        assert check.verify_audit().ok
    assert "facing set to anterior right" in window.status.currentMessage()


def test_relinking_a_moved_film_off_the_ui_thread(
    qtbot: Any, window: MainWindow, where: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moved = tmp_path / "archive"
    moved.mkdir()
    with other(where) as check:
        cervical = next(f for f in check.films() if f.region is Region.CERVICAL)
    shutil.move(cervical.path, moved / "renamed.dcm")
    monkeypatch.setattr(study_jobs.QFileDialog, "getExistingDirectory",
                        lambda *_a, **_k: str(moved))  # the user picks the folder  # fmt: skip
    index = film_index(qtbot, window, "cervical")
    with UiThreadSql(window.session.study) as seen:  # type: ignore[arg-type]
        double_click(qtbot, window, index)  # file not found: relink
        qtbot.waitUntil(lambda: bool(window.session.links), timeout=30_000)
        settle(qtbot, window)
    assert seen.statements == []
    with other(where) as check:
        assert check.film(cervical.id).path == str(moved / "renamed.dcm")
    assert window.current is not None and window.current.path == moved / "renamed.dcm"


def test_lab_form_save_off_the_ui_thread(qtbot: Any, window: MainWindow, where: Any) -> None:
    session = window.session
    model, tree = session.browser.model, session.browser.tree
    with UiThreadSql(session.study) as seen:  # type: ignore[arg-type]
        visit = film_index(qtbot, window, "cervical").parent()
        tree.setCurrentIndex(visit)
        qtbot.mouseClick(session.browser.labs_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: any(f.isVisible() for f in window.findChildren(LabForm)))
        form = next(f for f in window.findChildren(LabForm) if f.isVisible())
        qtbot.waitUntil(lambda: not form.loading, timeout=10_000)
        form.set_raw("vas", "4")
        qtbot.mouseClick(form.buttons.button(QDialogButtonBox.StandardButton.Save),
                         Qt.MouseButton.LeftButton)  # fmt: skip
        qtbot.waitUntil(lambda: model.index(0, 4).data() == "✓", timeout=10_000)
        settle(qtbot, window)
    assert seen.statements == []
    with other(where) as check:
        assert check.labs(visit.internalPointer().item.visit.id)["vas"] == 4.0


def test_browsing_patients_and_filtering(qtbot: Any, window: MainWindow) -> None:
    session = window.session
    browser, model = session.browser, session.browser.model
    with UiThreadSql(session.study) as seen:  # type: ignore[arg-type]
        browser.tree.expandAll()
        for row in range(model.rowCount()):
            patient = model.index(row, 0)
            browser.tree.expand(patient)
            qtbot.waitUntil(lambda p=patient: model.index(0, 0, p).data() != "Loading…",  # type: ignore[misc]
                            timeout=10_000)  # fmt: skip
        qtbot.keyClicks(browser.filter, "P0002")
        browser.incomplete.setChecked(True)
        browser.identifiers.setChecked(True)
        browser.filter.clear()
        browser.tree.setCurrentIndex(model.index(0, 0))
        settle(qtbot, window)
    assert seen.statements == []
    assert model.rowCount() == 2


def test_flags_refresh_keeps_expansion_selection_and_scroll(
    qtbot: Any, window: MainWindow, where: Any
) -> None:
    """A film-flags refresh updates the rows in place: expanded rows stay expanded, the
    selected film stays selected, the scroll position stays (it was a model reset)."""
    session = window.session
    browser, model, tree = session.browser, session.browser.model, session.browser.tree
    film = film_index(qtbot, window, "cervical")
    tree.setMaximumHeight(tree.header().height() + 3 * tree.sizeHintForRow(0))  # 3 rows show
    tree.setCurrentIndex(film)
    qtbot.waitUntil(lambda: tree.verticalScrollBar().maximum() > 0)
    tree.verticalScrollBar().setValue(tree.verticalScrollBar().maximum())
    scroll = tree.verticalScrollBar().value()
    assert scroll > 0
    (film_id,) = [film.internalPointer().item.id]
    assert model.film_flags.get(film_id) is None
    with other(where) as check:  # another rater moves the film to the lumbar region
        check.change_film(film_id, reason="film is lumbar", region="lumbar")
    with UiThreadSql(session.study) as seen:  # type: ignore[arg-type]
        session.refresh_flags()
        qtbot.waitUntil(lambda: bool(model.film_flags.get(film_id)), timeout=10_000)
        settle(qtbot, window)
    assert seen.statements == []
    missing = film.sibling(film.row(), 5)
    assert missing.data() == "\u26a0 check angle"  # the row shows the new flag, in full in
    assert "another region's template" in missing.data(Qt.ItemDataRole.ToolTipRole)  # its tip
    assert tree.isExpanded(film.parent()) and tree.isExpanded(film.parent().parent())
    assert tree.currentIndex() == film and browser.selected_node() is film.internalPointer()
    assert tree.verticalScrollBar().value() == scroll


def test_verify_audit_trail_from_the_menu(qtbot: Any, window: MainWindow) -> None:
    session = window.session
    with UiThreadSql(session.study) as seen:  # type: ignore[arg-type]
        window.actions_by_name["verify"].trigger()
        qtbot.waitUntil(lambda: getattr(session, "audit_result", None) is not None,
                        timeout=10_000)  # fmt: skip
        settle(qtbot, window)
    assert seen.statements == []
    assert session.audit_result is True
    assert window.status.currentMessage().startswith("The audit trail is intact")


def test_open_recent_menu_labels_and_open(qtbot: Any, window: MainWindow, where: Any) -> None:
    session = window.session
    with other(where) as check:
        cervical = next(f for f in check.films() if f.region is Region.CERVICAL)
    settings.add_recent_film(session.study.path, cervical.id)  # type: ignore[union-attr]
    window.session.close_study()
    assert session.open_study(where)  # its recent films' labels are read after the list
    settle(qtbot, window)
    recent = next(m for m in window.findChildren(QMenu) if m.title() == "Open &recent")
    with UiThreadSql(session.study) as seen:  # type: ignore[arg-type]
        qtbot.waitUntil(lambda: session.recent_film_label(
            session.study.path, cervical.id).startswith("P0001"), timeout=10_000)  # type: ignore[union-attr]  # fmt: skip
        recent.aboutToShow.emit()
        entry = next(a for a in recent.actions() if a.text().startswith("P0001"))
        assert entry.text() == "P0001 · Admission · cervical"
        entry.trigger()
        qtbot.waitUntil(lambda: bool(session.links), timeout=20_000)
        settle(qtbot, window)
    assert seen.statements == []
    assert window.current is not None and window.current.path == Path(cervical.path)


def _photo(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scan.png"
    Image.fromarray(np.tile(np.arange(0, 256, 2, dtype=np.uint8), (96, 1))).save(path)
    return path


def test_photo_import_dialog_lists_patients_off_the_ui_thread(
    qtbot: Any, window: MainWindow, where: Any, tmp_path: Path
) -> None:
    session = window.session
    offered: list[list[str]] = []

    def user(parent: Any, study: Study, count: int) -> Any:  # the real dialog, answered
        dialog = PhotoTargetDialog(parent, study, count)
        dialog.show()
        qtbot.waitUntil(lambda: not dialog.loading, timeout=10_000)
        offered.append([dialog.patient.itemText(i) for i in range(dialog.patient.count())])
        dialog.patient.setCurrentIndex(dialog.patient.findText("P0002"))
        dialog.visit.setCurrentIndex(1)
        dialog.accept()
        dialog.deleteLater()
        return dialog.target

    session.photo_prompt = user
    with UiThreadSql(session.study) as seen:  # type: ignore[arg-type]
        assert session.import_films([_photo(tmp_path / "incoming").parent]) is not None
        qtbot.waitUntil(lambda: not session.jobs, timeout=30_000)
        settle(qtbot, window)
    assert seen.statements == []
    assert offered == [["P0001", "P0002"]]
    with other(where) as check:
        p2 = check.patient_by_study_id("P0002")
        assert p2 is not None and [v.kind.value for v in check.visits(p2)] == ["month3"]


def test_opening_a_study_runs_no_sql_on_the_ui_thread(qtbot: Any, window: MainWindow,
                                                     where: Any) -> None:  # fmt: skip
    """Opening (file or server) happens on a worker: every engine's statements are watched,
    since the study's engine does not exist before the open."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            seen.append(" ".join(statement.split()[:6]))

    session = window.session
    session.close_study()
    event.listen(Engine, "before_cursor_execute", record)
    try:
        assert session.open_study(where)
        settle(qtbot, window)
        session.close_study()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    assert seen == []
