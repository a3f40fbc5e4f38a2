"""A study file moved while the window has it open: saves pause, the edit is kept, the user is
told — "All changes saved" never shows while writes are refused — and moving it back saves.

A tester moved the open study's file; the window went on saving into the moved inode and a
``-wal`` left at the old name and said "All changes saved".  Driven as a user would: the lab
form's Save after the move; the study watcher's poll (off the UI thread) notices the move too.
No SQL runs on the UI thread throughout (:class:`~tests.gui.ui_thread_sql.UiThreadSql`).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from cobbdesk.core.store import Study
from cobbdesk.core.store.file_identity import MOVED
from cobbdesk.core.store.outbox import Phase
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study.lab_form import LabForm
from cobbdesk.gui.study.saving import PAUSED
from cobbdesk.gui.study.watch import StudyWatcher
from cobbdesk.gui.workers import FilmLoader
from tests.gui.ui_thread_sql import UiThreadSql

SAVED = "All changes saved"


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, str]]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: seen.append((title, text)))
    return seen


@pytest.fixture
def window(qtbot: Any, tmp_path: Path, shown: list[tuple[str, str]]) -> Iterator[MainWindow]:
    path = tmp_path / "study" / "trial.cobbdesk"
    with Study.create(path, actor="setup") as study:
        pid = study.add_patient("P0001", name="Doe^Jane", mrn="MRN4455667")
        study.add_visit(pid, "admission", visit_date="2026-01-05")
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    assert win.session.open_study(path)
    session = win.session
    assert session._watch is not None and session.saver is not None
    session._watch.timer.setInterval(50)  # the watcher polls often in this test
    qtbot.waitUntil(lambda: session.browser.model.rowCount() == 1, timeout=20_000)
    qtbot.waitUntil(lambda: session.save_status.label.text() == SAVED, timeout=20_000)
    yield win
    win.session.close_prompt = lambda parent, pending, text: "discard"
    win.session.shutdown()


def _labs_as_is(path: Path) -> int:
    """Lab rows in the file alone, read without writing a byte."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as raw:
        return int(raw.execute("SELECT count(*) FROM labs").fetchone()[0])


def _lab_form(qtbot: Any, win: MainWindow) -> LabForm:
    session = win.session
    model, tree = session.browser.model, session.browser.tree
    patient = model.index(0, 0)
    tree.expand(patient)
    qtbot.waitUntil(lambda: model.index(0, 0, patient).data() == "Admission", timeout=10_000)
    tree.setCurrentIndex(model.index(0, 0, patient))
    qtbot.mouseClick(session.browser.labs_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(f.isVisible() for f in win.findChildren(LabForm)))
    form = next(f for f in win.findChildren(LabForm) if f.isVisible())
    qtbot.waitUntil(lambda: not form.loading, timeout=10_000)
    return form


def test_a_save_after_the_study_file_moved_is_kept_told_and_saved_when_back(
    qtbot: Any, window: MainWindow, tmp_path: Path, shown: list[tuple[str, str]]
) -> None:
    session = window.session
    study, saver, label = session.study, session.saver, session.save_status.label
    assert study is not None and saver is not None
    path = study.path
    labels: list[str] = []
    with UiThreadSql(study) as seen:
        form = _lab_form(qtbot, window)
        (tmp_path / "elsewhere").mkdir()
        moved = tmp_path / "elsewhere" / "trial.cobbdesk"
        os.rename(path, moved)
        rows_before = _labs_as_is(moved)
        form.set_raw("vas", "4")
        qtbot.mouseClick(form.buttons.button(QDialogButtonBox.StandardButton.Save),
                         Qt.MouseButton.LeftButton)  # fmt: skip
        qtbot.waitUntil(lambda: saver.outbox.state().phase is Phase.WAITING, timeout=10_000)
        assert saver.outbox.pending() == 1  # the edit is kept, not failed
        qtbot.waitUntil(lambda: label.text().startswith(PAUSED), timeout=10_000)
        qtbot.waitUntil(lambda: bool(shown), timeout=10_000)  # the watcher's poll: one dialog
        for _ in range(10):  # while moved, the status bar never says "All changes saved"
            qtbot.wait(60)
            labels.append(label.text())
        assert all(t.startswith(PAUSED) for t in labels), labels
        assert SAVED not in label.toolTip()
        title, text = shown[0]
        assert len(shown) == 1 and title == "Saving to the study failed"
        assert str(path) in text and MOVED in text and "\n" not in text
        assert "Doe" not in text and "4455667" not in text  # no patient identifier
        assert _labs_as_is(moved) == rows_before  # nothing written into the moved file
        assert not path.exists()  # nor re-created at the old name
        os.rename(moved, path)  # the user puts it back: the kept edit is saved
        qtbot.waitUntil(lambda: label.text() == SAVED, timeout=30_000)
        assert saver.outbox.pending() == 0
    assert seen.statements == []
    assert len(shown) == 1
    with Study.open(path, actor="checker") as check:
        visit = check.visits(check.patients()[0].id)[0]
        assert check.labs(visit.id)["vas"] == 4.0


def test_a_moved_study_with_nothing_to_save_says_saves_are_paused(
    qtbot: Any, window: MainWindow, tmp_path: Path, shown: list[tuple[str, str]]
) -> None:
    """No edit waiting: the watcher alone replaces "All changes saved" by the pause, and a
    file replaced at the same path is a move too."""
    session = window.session
    study, label = session.study, session.save_status.label
    assert study is not None
    path = study.path
    with UiThreadSql(study) as seen:
        os.rename(path, tmp_path / "original.cobbdesk")
        Study.create(tmp_path / "other.cobbdesk", actor="someone").close()
        os.replace(tmp_path / "other.cobbdesk", path)  # another study now at the path
        qtbot.waitUntil(lambda: label.text() == PAUSED, timeout=10_000)
        assert str(path) in label.toolTip() and MOVED in label.toolTip()
        qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
        os.replace(tmp_path / "original.cobbdesk", path)  # the opened file is back
        qtbot.waitUntil(lambda: label.text() == SAVED, timeout=10_000)
    assert seen.statements == []
    assert len(shown) == 1


def test_the_watcher_reports_a_deleted_study_file_as_moved_once(qtbot: Any, tmp_path: Path) -> None:
    path = tmp_path / "w.cobbdesk"
    study = Study.create(path)
    watcher = StudyWatcher(study)
    watcher.timer.setInterval(50)
    heard: list[str] = []
    watcher.moved.connect(heard.append)
    watcher.unreachable.connect(heard.append)
    watcher.start()
    qtbot.wait(200)
    path.unlink()
    qtbot.waitUntil(lambda: bool(heard), timeout=10_000)
    qtbot.wait(300)  # several polls: said once
    assert heard == [f"{path}: {MOVED}"]
    watcher.stop()
    study.close()


def test_a_measurement_moved_after_the_study_file_moved_is_kept_then_saved(
    qtbot: Any, tmp_path: Path
) -> None:
    """The viewer's edit (a line dragged) after the move: on screen and in the queue, in no
    file; the file back, it lands exactly once."""
    from cobbdesk.core.compare.saver import film_session
    from cobbdesk.core.dicom.reader import read_film
    from cobbdesk.core.measure.commands import MoveLine
    from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
    from cobbdesk.gui.study.saving import SaveStatus, StudySaver
    from cobbdesk.gui.viewer.film_view import FilmView
    from cobbdesk.gui.viewer.measure_tool import MeasureController
    from cobbdesk.synth.dicom import write_dicom
    from cobbdesk.synth.spine import make_lateral_spine

    film = read_film(write_dicom(make_lateral_spine("cervical", 25.0, seed=3), tmp_path / "c.dcm"))
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="A") as setup:
        vid = setup.add_visit(setup.add_patient("P0001"), "admission", visit_date="2026-01-05")
        fid = setup.add_film(vid, sop_instance_uid=film.sop_instance_uid, path=tmp_path / "c.dcm",
                             region="cervical")  # fmt: skip
        setup.save_measurement(fid, CobbMeasurement(
            film.sop_instance_uid, "", "C2-C7", EndplateLine((100, 100), (140, 100)),
            EndplateLine((100, 300), (140, 290)), spacing=None, rater="A", id="m1"))  # fmt: skip
    study = Study.open(path, actor="A")
    status = SaveStatus()
    qtbot.addWidget(status)
    saver = StudySaver(study, status)
    view = FilmView()
    qtbot.addWidget(view)
    view.set_film(film)
    controller = MeasureController(film, "A", parent=view)
    controller.attach(view)
    controller.bind(film_session(study, study.films()[0], film, "A",
                                 ask_reason=lambda changes: "re-read"))  # fmt: skip
    with UiThreadSql(study) as seen:
        away = tmp_path / "away.cobbdesk"
        os.rename(path, away)
        controller.push(MoveLine("m1", "upper", 0, 5))
        assert controller.measurements["m1"].upper.posterior[1] == 105.0  # kept on screen
        qtbot.waitUntil(lambda: status.label.text().startswith(f"{PAUSED} — 1 edit kept"),
                        timeout=10_000)  # fmt: skip
        assert MOVED in status.label.toolTip()
        assert saver.outbox.pending() == 1
        os.rename(away, path)
        saver.resume()  # what the watcher's ``returned`` calls
        qtbot.waitUntil(lambda: status.label.text() == SAVED, timeout=30_000)
    assert seen.statements == []
    saver.close()
    study.close()
    with Study.open(path, actor="B") as check:
        (m,) = check.measurements(fid)
        assert m.upper.posterior[1] == 105.0
        assert check.verify_integrity().ok


def test_a_study_file_overwritten_in_place_pauses_saves_and_says_so(
    qtbot: Any, window: MainWindow, tmp_path: Path, shown: list[tuple[str, str]]
) -> None:
    """``cp other.cobbdesk trial.cobbdesk`` keeps the inode: the study's tag in the file tells
    (:data:`~cobbdesk.core.store.file_identity.REPLACED`); its own file back, saves go on."""
    import shutil

    from cobbdesk.core.store.file_identity import REPLACED, identity

    session = window.session
    study, label = session.study, session.save_status.label
    assert study is not None
    path = study.path
    own = tmp_path / "own.cobbdesk"
    shutil.copyfile(path, own)
    with Study.create(tmp_path / "other.cobbdesk", actor="someone") as other:
        other.add_patient("Q0001")
    inode = identity(path)
    with UiThreadSql(study) as seen:
        shutil.copyfile(tmp_path / "other.cobbdesk", path)  # written into the same inode
        assert identity(path) == inode
        qtbot.waitUntil(lambda: label.text() == PAUSED, timeout=10_000)
        assert REPLACED in label.toolTip()
        qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
        assert REPLACED in shown[0][1] and "\n" not in shown[0][1]
        shutil.copyfile(own, path)  # the study's own file back at its name
        qtbot.waitUntil(lambda: label.text() == SAVED, timeout=10_000)
    assert seen.statements == []
    assert len(shown) == 1
