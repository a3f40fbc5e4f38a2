"""A study in the main window: open films from the browser, autosave, reasons, relink, privacy."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from cobbdesk import __version__
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.measure.commands import MovePoint
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, PointName, Template
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.core.store.schema import audit
from cobbdesk.gui import errors, settings
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study.model import MEASURED
from cobbdesk.gui.study.session_actions import raters_of
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine

SHOTS = Path(os.environ.get("COBBDESK_SCREENSHOTS", "/tmp/cobbdesk_shots"))
NAME, MRN, BIRTH = "Doe^Jane", "MRN-99812", "1961-07-23"


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


def spine(region: str) -> SyntheticSpine:
    return make_lateral_spine(region, 20.0, rows=400, columns=320, spacing_mm=(0.6, 0.6), seed=4)  # type: ignore[arg-type]


@pytest.fixture
def study_path(tmp_path: Path) -> Path:
    """P0001 (Doe^Jane): admission with a measured cervical and an unmeasured lumbar film."""
    path = tmp_path / "trial.cobbdesk"
    films = tmp_path / "films"
    films.mkdir()
    with Study.create(path, actor="setup") as study:
        pid = study.add_patient("P0001", name=NAME, mrn=MRN, birth_date=BIRTH, sex="F")
        vid = study.add_visit(pid, "admission", visit_date="2026-01-05")
        for region in ("cervical", "lumbar"):
            file = write_dicom(spine(region), films / f"{region}.dcm", patient_name=NAME)
            film = read_film(file)
            fid = study.add_film(
                vid,
                sop_instance_uid=film.sop_instance_uid,
                path=file,
                region=region,
                pixel_sha256=film.pixel_sha256,
            )
            if region == "cervical":
                upper, lower = spine(region).template_endplates
                m = CobbMeasurement(
                    film.sop_instance_uid,
                    film.pixel_sha256,
                    Template.C2_C7,
                    EndplateLine(*upper),
                    EndplateLine(*lower),
                    rater="r0",
                )
                study.save_measurement(fid, m)
    return path


@pytest.fixture
def window(qtbot, study_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    win.confirm_close = False
    qtbot.addWidget(win)
    win.resize(1400, 850)
    win.show()
    assert win.session.open_study(study_path)
    yield win
    win.session.shutdown()


def film_record(win: MainWindow, region: str) -> FilmRecord:
    assert win.session.study is not None
    return next(f for f in win.session.study.films() if f.region.value == region)


def open_film(qtbot, win: MainWindow, region: str) -> FilmRecord:  # type: ignore[no-untyped-def]
    record = film_record(win, region)
    win.session.browser.filmActivated.emit(record)
    qtbot.waitUntil(
        lambda: win.view.film is not None and win.view.film.pixel_sha256 == record.pixel_sha256,
        timeout=20000,
    )
    qtbot.waitUntil(lambda: win.current is not None and win.current.controller is not None)
    return record


def stored(path: Path, film_id: int) -> list[CobbMeasurement]:
    with Study.open(path) as fresh:
        return fresh.measurements(film_id)


def place_lumbar(win: MainWindow) -> CobbMeasurement:
    controller = win.current.controller  # type: ignore[union-attr]
    controller.set_snap_threshold(30.0)  # snaps apply at once (confirmation: test_measure_tool)
    controller.set_snapping(True)  # off by default; these tests save a snapped measurement
    if controller.session.facing is None:
        controller.set_facing(spine("lumbar").facing)  # the facing prompt's answer
    controller.start_placement(Template.L1_S1)
    for endplate in spine("lumbar").template_endplates:
        for x, y in endplate:
            controller.press(x + 1.5, y - 1.0, Qt.KeyboardModifier.NoModifier)
    (m,) = controller.measurements.values()
    return m


def test_title_names_the_study_file_only(qtbot, window: MainWindow, study_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert window.windowTitle() == f"CobbDesk {__version__} — trial.cobbdesk"
    assert window.session.dock is not None and window.session.dock.isVisible()
    # the patient list is read off the UI thread (#15): wait for it, as a user would
    qtbot.waitUntil(lambda: window.session.browser.model.rowCount() == 1, timeout=10_000)
    assert settings.settings().value("recent_studies") in ([str(study_path)], str(study_path))


def test_opening_a_film_shows_its_saved_measurements(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    record = open_film(qtbot, window, "cervical")
    controller = window.current.controller  # type: ignore[union-attr]
    (m,) = controller.measurements.values()
    assert m.rater == "r0" and m.id == stored(window.session.study.path, record.id)[0].id  # type: ignore[union-attr]
    assert window.panel.table.rowCount() == 1
    assert controller.overlay(m.id) is not None  # drawn on the film
    assert controller.is_clean()


def test_placing_a_measurement_autosaves_it(qtbot, window: MainWindow, study_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = open_film(qtbot, window, "lumbar")
    m = place_lumbar(window)  # placed, then moved by snapping: both saved at once
    (saved,) = stored(study_path, record.id)
    assert saved.id == m.id and saved.rater == "tester"
    assert saved.angle == pytest.approx(m.angle)
    assert saved.upper == m.upper and saved.lower == m.lower
    model = window.session.browser.model
    assert model.data(model.index(0, 3)) == MEASURED  # lumbar column updated live
    qtbot.waitUntil(window.current.controller.is_clean)  # type: ignore[union-attr]


def test_closing_the_window_loses_nothing(qtbot, window: MainWindow, study_path: Path) -> None:  # type: ignore[no-untyped-def]
    record = open_film(qtbot, window, "lumbar")
    m = place_lumbar(window)
    window.current.controller.push(MovePoint(m.id, PointName.LOWER_ANTERIOR, (150.0, 300.0)))  # type: ignore[union-attr]
    final = window.current.controller.measurements[m.id]  # type: ignore[union-attr]
    window.close()
    (saved,) = stored(study_path, record.id)
    assert saved.lower == final.lower
    with Study.open(study_path) as fresh:
        assert fresh.verify_audit().ok
        with fresh.engine.connect() as conn:
            reasons = [
                r.reason for r in conn.execute(audit.select().where(audit.c.entity_id == m.id))
            ]
    assert any(r.startswith("adjusted while measuring") for r in reasons)


def test_changing_a_settled_measurement_needs_a_reason(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    answers: list[str | None] = [None, "wrong endplate"]
    asked: list[str] = []
    window.session.reason_prompt = lambda parent, what: (asked.append(what), answers.pop(0))[1]
    record = open_film(qtbot, window, "cervical")
    controller = window.current.controller  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: bool(controller.measurements))  # read off the UI thread
    (m,) = controller.measurements.values()
    controller.push(MovePoint(m.id, PointName.UPPER_ANTERIOR, (90.0, 100.0)))
    qtbot.waitUntil(lambda: len(asked) == 1)
    assert "C2-C7" in asked[0]
    qtbot.waitUntil(lambda: controller.measurements[m.id] == m)  # declined: back to saved
    path = window.session.study.path  # type: ignore[union-attr]
    assert stored(path, record.id)[0].upper == m.upper
    controller.select(m.id)
    controller.delete_selected()
    qtbot.waitUntil(lambda: len(asked) == 2)
    qtbot.waitUntil(lambda: not stored(path, record.id))  # deleted, with the reason
    with Study.open(path) as fresh, fresh.engine.connect() as conn:
        rows = list(conn.execute(audit.select().where(audit.c.entity_id == m.id)))
    assert rows[-1].field == "deleted_utc" and rows[-1].reason == "wrong endplate"


def test_fresh_measurement_settles_when_the_film_changes(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    asked: list[str] = []
    window.session.reason_prompt = lambda parent, what: (asked.append(what), "recheck")[1]
    lumbar = open_film(qtbot, window, "lumbar")
    m = place_lumbar(window)
    lumbar_controller = window.current.controller  # type: ignore[union-attr]
    lumbar_controller.undo()  # undo the snap: a fresh edit, saved silently
    assert asked == []
    open_film(qtbot, window, "cervical")
    window.step_film(-1 if window.film_list.currentRow() else 1)
    qtbot.waitUntil(lambda: window.current.controller is lumbar_controller)  # type: ignore[union-attr]
    lumbar_controller.push(MovePoint(m.id, PointName.UPPER_ANTERIOR, (80.0, 60.0)))
    qtbot.waitUntil(lambda: len(asked) == 1)
    path = window.session.study.path  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: stored(path, lumbar.id)[0].upper.anterior == (80.0, 60.0))


def test_relink_by_pixel_hash_after_moving_a_file(
    qtbot, window: MainWindow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    record = film_record(window, "lumbar")
    moved = tmp_path / "archive" / "2026"
    moved.mkdir(parents=True)
    shutil.copy(film_record(window, "cervical").path, moved / "lumbar.dcm")  # a decoy, same name
    (moved / "notes.txt").write_text("not a film")
    shutil.move(record.path, moved / "renamed.dcm")
    job = window.session.relink(record, [tmp_path / "archive"])
    assert job is not None
    qtbot.waitUntil(lambda: not window.session.jobs, timeout=20000)
    new_path = str(moved / "renamed.dcm")
    assert film_record(window, "lumbar").path == new_path
    with window.session.study.engine.connect() as conn:  # type: ignore[union-attr]
        last = conn.execute(audit.select().order_by(audit.c.seq.desc()).limit(1)).one()
    assert (last.field, last.reason, last.new_value) == ("path", "file moved", new_path)
    qtbot.waitUntil(
        lambda: (
            window.view.film is not None and window.view.film.pixel_sha256 == record.pixel_sha256
        ),
        timeout=20000,
    )


def test_labs_from_the_browser_and_rater(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    visit_id = film_record(window, "lumbar").visit_id
    form = session.enter_labs(visit_id)
    assert form is not None
    qtbot.waitUntil(lambda: not form.loading)  # read off the UI thread
    assert "P0001 · Admission" in form.windowTitle()
    form.set_raw("vas", "4")
    assert form.save()
    model = session.browser.model
    qtbot.waitUntil(lambda: model.data(model.index(0, 4)) == MEASURED)
    assert session.study is not None
    assert {"r0", "tester"} <= set(session.rater_choices(raters_of(session.study)))
    session.set_rater("dr_b")
    assert settings.settings().value("rater") == "dr_b"
    assert session.study.actor.rater == "dr_b"  # type: ignore[union-attr]
    assert window.panel.rater.text() == "dr_b"
    assert session.verify_audit() is not None  # a background job (progress, Cancel)
    qtbot.waitUntil(lambda: not session.jobs and session.audit_result is not None)
    assert session.audit_result is True


def test_import_off_the_ui_thread_then_open_hashes_the_film(
    qtbot,
    window: MainWindow,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    write_dicom(
        spine("lumbar"),
        incoming / "new.dcm",
        patient_id="SYN-0002",
        patient_name="Roe^Richard",
        study_date="20260301",
        body_part="LSPINE",
    )
    assert window.session.import_films([incoming]) is not None
    qtbot.waitUntil(lambda: not window.session.jobs, timeout=20000)
    qtbot.waitUntil(lambda: window.session.browser.model.rowCount() == 2, timeout=10_000)
    assert "1 film(s) imported" in window.statusBar().currentMessage()
    assert "Roe" not in window.statusBar().currentMessage()
    study = window.session.study
    assert study is not None
    (record,) = [f for f in study.films() if f.path.endswith("new.dcm")]
    assert record.pixel_sha256 is None  # the import reads headers only
    window.session.browser.filmActivated.emit(record)
    qtbot.waitUntil(lambda: bool(window.session.links), timeout=20000)
    assert window.session.saver is not None  # the hash is written on the study's write queue
    assert window.session.saver.outbox.wait_idle(10)
    (hashed,) = [f for f in study.films() if f.id == record.id]
    assert hashed.pixel_sha256 == window.current.film.pixel_sha256  # type: ignore[union-attr]


def test_no_patient_identifiers_in_title_or_log(
    qtbot,
    window: MainWindow,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    _env: list[str],
) -> None:
    from cobbdesk.gui.app import _setup_logging

    _setup_logging()
    root = logging.getLogger("cobbdesk")
    try:
        window.session.close_study()
        assert window.session.open_study(tmp_path / "trial.cobbdesk")
        open_film(qtbot, window, "lumbar")
        place_lumbar(window)
        window.session.browser.identifiers.setChecked(True)  # names in the browser only
        window.session.browser.tree.expandAll()
        qtbot.wait(50)
        SHOTS.mkdir(parents=True, exist_ok=True)
        assert window.grab().save(str(SHOTS / "main_window_study.png"))
        titles = [window.windowTitle(), window.session.dock.windowTitle()]  # type: ignore[union-attr]
        window.close()
    finally:
        for handler in root.handlers[:]:
            handler.close()
            root.removeHandler(handler)
    log = (tmp_path / "logs" / "cobbdesk.log").read_text(encoding="utf-8")
    assert "Opened study trial.cobbdesk" in log and "saved measurement" in log
    for text in [*titles, log, *_env]:
        for secret in ("Doe", "Jane", MRN, BIRTH, "19610723"):
            assert secret not in text


def test_browser_context_menu_changes_region_and_facing_with_a_reason(
    qtbot, window: MainWindow
) -> None:  # type: ignore[no-untyped-def]
    session = window.session
    record = film_record(window, "cervical")  # holds r0's C2–C7 measurement
    (m,) = session.study.measurements(record.id)  # type: ignore[union-attr]
    answers: list[str | None] = [None, "film is lumbar", "mirrored on the scanner"]
    asked: list[str] = []
    session.reason_prompt = lambda parent, what: (asked.append(what), answers.pop(0))[1]
    menu = session.browser.film_menu(record)
    region_menu = next(a.menu() for a in menu.actions() if a.text() == "Change region")
    lumbar = next(a for a in region_menu.actions() if a.text() == "Lumbar")
    lumbar.trigger()  # declined: nothing changes
    assert film_record(window, "cervical").id == record.id
    lumbar.trigger()
    changed = session.study.film(record.id)  # type: ignore[union-attr]
    assert changed.region.value == "lumbar" and "region of film" in asked[1]
    model = session.browser.model  # the flags come from a background job after the refresh
    qtbot.waitUntil(lambda: record.id in model.film_flags, timeout=5000)
    assert any("another region's template" in f for f in model.film_flags[record.id])
    before = m.angle
    assert session.change_film(changed, "facing", "right")  # the other facing relabels
    (after,) = session.study.measurements(record.id)  # type: ignore[union-attr]
    assert after.angle == pytest.approx(-before)  # same points, ends swapped by the facing
    assert session.study.film(record.id).facing == "right"  # type: ignore[union-attr]
    assert session.study.verify_audit().ok  # type: ignore[union-attr]


def test_recent_films_keep_no_file_names(qtbot, window: MainWindow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Open recent remembers study films by a study-relative id and loose films only for the
    session: the settings file never holds a film's file name (issue #12)."""
    record = open_film(qtbot, window, "cervical")
    loose = tmp_path / "Doe_Jane_MRN-99812.dcm"
    shutil.copy(record.path, loose)
    window.open_paths([loose])
    qtbot.waitUntil(lambda: len(window.films) == 2, timeout=20000)
    study = window.session.study
    assert study is not None
    assert settings.recent_films() == [(str(study.path), record.id)]
    assert window.session_recent == [loose]
    qtbot.waitUntil(lambda: window.session.recent_film_label(study.path, record.id)  # read
                    .startswith("P0001"))  # off the UI thread  # fmt: skip
    label = window.session.recent_film_label(study.path, record.id)
    assert label.startswith("P0001") and label.endswith("cervical")
    text = settings.settings_path().read_text(encoding="utf-8")
    for secret in ("Doe", "MRN-99812", "cervical.dcm", str(record.path)):
        assert secret not in text
    # an old (version 1) settings file's film paths are removed on first use
    store = settings.settings()
    store.setValue("settings_version", 1)
    store.setValue("recent_files", [str(loose)])
    store.sync()
    settings.settings().sync()
    assert "Doe_Jane" not in settings.settings_path().read_text(encoding="utf-8")


def test_the_import_summary_names_no_patient(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, tmp_path: Path
) -> None:
    """Files named after the study's patient that cannot be read are listed in the "Import
    finished" box and the status bar redacted (breaker 9: the box read "MRN…_lat.dcm: the
    DICOM header cannot be read" in clear)."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    for name in (f"{MRN}_lat.dcm", f"{NAME}.dcm"):  # DICOM preamble, then a broken header
        (incoming / name).write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\xff")

    def boxes() -> list[QMessageBox]:
        return [w for w in QApplication.topLevelWidgets()
                if isinstance(w, QMessageBox) and w.windowTitle() == "Import finished"]  # fmt: skip

    assert window.session.import_films([incoming]) is not None
    qtbot.waitUntil(lambda: not window.session.jobs, timeout=20000)
    qtbot.waitUntil(lambda: bool(boxes()), timeout=10_000)
    shown = boxes()[0].text()
    boxes()[0].done(0)
    text = shown + window.statusBar().currentMessage()
    assert "2 error(s)" in shown and shown.count("[redacted]") >= 2
    for identifier in (MRN, NAME, NAME.split("^", maxsplit=1)[0]):
        assert identifier not in text
