"""CompareView offscreen: two visits side by side, mm sync, measuring both, navigation, bad input.

The demo study (12 patients) is written once per module and extended with:
P0013 — cervical films of different spacing (0.2 mm vs 0.3 mm) and known endplates;
P0014 — an admission visit only; P0015 — an unreadable month-3 film.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel

from cobbdesk.core.compare.model import delta_text
from cobbdesk.core.dicom.film import Window
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.errors import ExportError
from cobbdesk.core.store import Region, Study
from cobbdesk.gui import errors
from cobbdesk.gui.compare.side import CompareSide
from cobbdesk.gui.compare.sync import view_center
from cobbdesk.gui.compare.view import CompareView
from cobbdesk.gui.compare.window import open_compare
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.demo_study import write_demo_study
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine

SHOTS = Path("/tmp/cobbdesk_shots")
Pt = tuple[float, float]


@dataclass
class Demo:
    path: Path
    spines: dict[str, SyntheticSpine]  # "admission"/"month3" of P0013


def _add_film(study: Study, visit: int, path: Path, region: str = "cervical") -> None:
    film = read_film(path)
    study.add_film(visit, sop_instance_uid=film.sop_instance_uid, path=path, region=region,
                   pixel_sha256=film.pixel_sha256)  # fmt: skip


def _extend(study: Study, folder: Path) -> dict[str, SyntheticSpine]:
    spines = {
        "admission": make_lateral_spine("cervical", 12.0, rows=1300, columns=1100,
                                        spacing_mm=(0.2, 0.2), seed=5),
        "month3": make_lateral_spine("cervical", 21.0, rows=900, columns=750,
                                     spacing_mm=(0.3, 0.3), seed=6),
    }  # fmt: skip
    pid = study.add_patient("P0013", name="Secret^Name")
    for n, (kind, spine) in enumerate(spines.items()):
        visit = study.add_visit(pid, kind, visit_date=f"2026-0{1 + 3 * n}-10")
        _add_film(study, visit, write_dicom(spine, folder / f"p13_{kind}.dcm"))
    one = make_lateral_spine("cervical", 10.0, rows=500, columns=400, spacing_mm=(0.6, 0.6))
    visit = study.add_visit(study.add_patient("P0014"), "admission", visit_date="2026-02-01")
    _add_film(study, visit, write_dicom(one, folder / "p14.dcm"))
    pid = study.add_patient("P0015")
    p15 = write_dicom(one, folder / "p15.dcm", sop_instance_uid="1.2.826.0.1.3680043.99.15")
    _add_film(study, study.add_visit(pid, "admission"), p15)
    junk = folder / "p15_month3.dcm"
    junk.write_bytes(b"not a radiograph at all" * 40)
    study.add_film(study.add_visit(pid, "month3"), sop_instance_uid="9.9.9", path=junk,
                   region="cervical")  # fmt: skip
    return spines


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    folder = tmp_path_factory.mktemp("compare")
    path = write_demo_study(folder)
    with Study.open(path, "setup") as study:
        spines = _extend(study, folder / "films")
    return Demo(path, spines)


@pytest.fixture
def study(demo: Demo, tmp_path: Path) -> Study:
    copy = tmp_path / "study.cobbdesk"
    shutil.copy(demo.path, copy)
    s = Study.open(copy, "dr_a")
    yield s  # type: ignore[misc]
    s.close()


@pytest.fixture(autouse=True)
def _quiet_errors(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    return shown


def make_view(qtbot, study: Study, rater: str = "dr_a") -> CompareView:  # type: ignore[no-untyped-def]
    loader = FilmLoader(isolated=False)
    view = CompareView(study, rater, loader)
    loader.setParent(view)
    qtbot.addWidget(view)
    view.resize(1500, 900)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.loaded, timeout=10000)  # the overview is read off the UI thread
    return view


def show(qtbot, view: CompareView, study_id: str, region: str = "cervical") -> None:  # type: ignore[no-untyped-def]
    pid = next(po.patient.id for po in view.overview if po.patient.study_id == study_id)
    view.show_patient(pid, region)
    qtbot.waitUntil(view.films_shown, timeout=20000)


def shot(view: CompareView, name: str, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for folder in (SHOTS, tmp_path):
        assert view.grab().save(str(folder / name))
    assert (SHOTS / name).stat().st_size > 20_000


def screen(side: CompareSide, p: Pt) -> QPoint:
    return side.view.mapFromScene(QPointF(*p))


def click(qtbot, side: CompareSide, p: Pt) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(side.view.viewport(), Qt.MouseButton.LeftButton, pos=screen(side, p))


def key(qtbot, view: CompareView, k: Qt.Key, modifier=Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    target = view.sides[view.active].view
    target.setFocus()
    qtbot.keyClick(target.viewport(), k, modifier)


def measure(qtbot, view: CompareView, index: int, spine: SyntheticSpine) -> None:  # type: ignore[no-untyped-def]
    side = view.sides[index]
    click(qtbot, side, (5.0, 5.0))  # a click on the film makes its side active
    assert view.active == index
    key(qtbot, view, Qt.Key.Key_M)
    assert side.controller is not None and side.controller.placing
    for line in spine.template_endplates:
        for corner in line:
            click(qtbot, side, corner)
    assert not side.controller.placing
    if side.controller.session.facing is None:  # first measurement: the facing is asked
        assert side.controller.waiting() and side.controller.session.pending is not None
        key(qtbot, view, Qt.Key.Key_Left if spine.facing == "left" else Qt.Key.Key_Right)
    assert not side.controller.waiting()


# --- tests ----------------------------------------------------------------------------------------
def test_two_visit_patient_shows_both_films_angles_and_difference(qtbot, study: Study,
                                                                   tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    view = make_view(qtbot, study)
    show(qtbot, view, "P0001")
    left, right = view.angles()
    assert left is not None and right is not None
    assert view.difference() == pytest.approx(right - left)
    assert view.header.delta.text() == delta_text(right - left)
    assert view.header.title.text() == "P0001 · cervical"
    assert "day 0" in view.sides[0].title.text() and "day +" in view.sides[1].title.text()
    assert "rater dr_a" in view.sides[1].title.text()
    view.set_deidentified(False)
    assert "2026-01-05" in view.sides[0].title.text()
    texts = " ".join(label.text() for label in view.findChildren(QLabel))
    assert "Demo^" not in texts and "Patient01" not in texts
    assert "Synchronised in mm" in view.header.sync.text()
    shot(view, "compare_p0001_cervical.png", tmp_path)


def _wheel(side: CompareSide, pos: QPointF, clicks: int) -> None:
    viewport = side.view.viewport()
    event = QWheelEvent(pos, viewport.mapToGlobal(pos), QPoint(), QPoint(0, 120 * clicks),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)  # fmt: skip
    QApplication.sendEvent(viewport, event)


def _pan(side: CompareSide, start: QPointF, end: QPointF) -> None:
    viewport, middle = side.view.viewport(), Qt.MouseButton.MiddleButton
    none = Qt.KeyboardModifier.NoModifier
    for kind, pos, button, buttons in (
        (QMouseEvent.Type.MouseButtonPress, start, middle, middle),
        (QMouseEvent.Type.MouseMove, end, Qt.MouseButton.NoButton, middle),
        (QMouseEvent.Type.MouseButtonRelease, end, middle, Qt.MouseButton.NoButton),
    ):
        event = QMouseEvent(kind, pos, viewport.mapToGlobal(pos), button, buttons, none)
        QApplication.sendEvent(viewport, event)


def _mm_offset(view: CompareView, index: int) -> Pt:
    side, anchor = view.sides[index], view.sync.anchor(index)
    assert side.film is not None and side.film.spacing_mm is not None
    (x, y), s = view_center(side.view), side.film.spacing_mm[0]
    return ((x - anchor[0]) * s, (y - anchor[1]) * s)


def test_zoom_and_pan_on_the_left_follow_on_the_right_in_mm(qtbot, study: Study,
                                                            tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    view = make_view(qtbot, study)
    show(qtbot, view, "P0013")
    left, right = view.sides
    assert left.film.spacing_mm == (0.2, 0.2) and right.film.spacing_mm == (0.3, 0.3)
    per_mm = lambda side: side.view.zoom / side.film.spacing_mm[0]  # noqa: E731
    assert per_mm(right) == pytest.approx(per_mm(left))  # same scale from the start
    _wheel(left, QPointF(300, 300), 3)
    assert per_mm(right) == pytest.approx(per_mm(left))
    assert left.view.zoom > 0.5
    _pan(left, QPointF(400, 400), QPointF(250, 310))
    a, b = _mm_offset(view, 0), _mm_offset(view, 1)
    tolerance = 1.5 / per_mm(left)  # a screen pixel or so
    assert b == pytest.approx(a, abs=tolerance) and abs(a[0]) > 5
    _wheel(right, QPointF(500, 200), -1)  # the right side leads too
    assert per_mm(left) == pytest.approx(per_mm(right))
    view.set_sync_zoom(False)
    before = right.view.zoom
    _wheel(left, QPointF(300, 300), 1)
    assert right.view.zoom == before
    shot(view, "compare_p0013_zoomed.png", tmp_path)


def test_uncalibrated_film_syncs_in_pixels(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, study)
    show(qtbot, view, "P0007", "lumbar")  # the demo's uncalibrated month-3 lumbar film
    assert "pixels" in view.header.sync.text()
    left, right = view.sides
    _wheel(left, QPointF(300, 300), 2)
    assert right.view.zoom == pytest.approx(left.view.zoom)
    assert "(px)" in view.header.delta.text()


def test_measure_both_films_live_difference_undo_and_delete(qtbot, study: Study, demo: Demo,
                                                             tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    view = make_view(qtbot, study, rater="dr_t")
    show(qtbot, view, "P0013")
    assert view.angles() == (None, None) and view.header.delta.text() == "Δ —"
    measure(qtbot, view, 0, demo.spines["admission"])
    measure(qtbot, view, 1, demo.spines["month3"])
    left, right = view.angles()
    assert left == pytest.approx(12.0, abs=1.0) and right == pytest.approx(21.0, abs=1.0)
    assert view.difference() == pytest.approx(right - left)
    assert view.header.delta.text() == delta_text(right - left)
    side = view.sides[1]
    record = side.slot.film
    saved = study.measurements(record.id)
    assert [m.rater for m in saved] == ["dr_t"] and saved[0].angle == pytest.approx(right)
    shot(view, "compare_p0013_measured.png", tmp_path)
    # live: drag the month-3 upper posterior handle; the header follows before the release
    m = side.counted()
    handle = screen(side, m.upper.posterior)
    viewport = side.view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=handle)
    qtbot.mouseMove(viewport, pos=handle + QPoint(0, -25))
    live = view.angles()[1]
    assert live != pytest.approx(right, abs=0.5)
    assert view.header.delta.text() == delta_text(live - left)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=handle + QPoint(0, -25))
    assert study.measurements(record.id)[0].angle == pytest.approx(view.angles()[1])
    key(qtbot, view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the drag
    assert view.angles()[1] == pytest.approx(right)
    assert study.measurements(record.id)[0].angle == pytest.approx(right)
    view.reason_prompt = lambda parent, text: "wrong level"
    side.controller.select(m.id)
    qtbot.keyClick(side.view, Qt.Key.Key_Delete)
    assert study.measurements(record.id) == [] and view.angles()[1] is None
    assert view.header.delta.text() == "Δ —"
    key(qtbot, view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the delete
    assert len(study.measurements(record.id)) == 1 and view.difference() is not None
    assert study.verify_audit().ok


def test_deleting_without_a_reason_is_undone(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, study)
    show(qtbot, view, "P0002")
    side = view.sides[0]
    view.reason_prompt = lambda parent, text: None  # the dialog was cancelled
    side.controller.select(side.counted().id)
    qtbot.keyClick(side.view, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: side.counted() is not None)
    assert len(study.measurements(side.slot.film.id)) == 2  # dr_a's and dr_b's


def test_keyboard_navigation_and_skip_complete(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, study)
    show(qtbot, view, "P0001")
    seen: list[tuple[int, str]] = []
    view.patientChanged.connect(lambda pid, region: seen.append((pid, region)))
    key(qtbot, view, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(view.films_shown, timeout=20000)
    assert view.header.title.text() == "P0002 · cervical"
    key(qtbot, view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert view.header.title.text() == "P0001 · cervical"
    key(qtbot, view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert view.region is Region.LUMBAR and view.toolbar.region.currentText() == "Lumbar"
    view.toolbar.skip_complete.setChecked(True)  # dr_a measured P0001–P0008
    key(qtbot, view, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert view.header.title.text() == "P0015 · cervical"  # back past complete lumbar pairs
    view.show_patient(view.overview[0].patient.id, "cervical")
    view.next_patient()
    assert view.header.title.text() == "P0009 · cervical"
    assert len(seen) == 6
    qtbot.waitUntil(view.films_shown, timeout=20000)


def test_next_patient_is_prefetched(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, study)
    show(qtbot, view, "P0003")
    following = next(po for po in view.overview if po.patient.study_id == "P0004")
    paths = [f.path for v in following.visits for f in v.films[Region.CERVICAL]]
    qtbot.waitUntil(lambda: all(view.cache.get(p) is not None for p in paths), timeout=20000)
    ids = [f.id for v in following.visits for f in v.films[Region.CERVICAL]]
    qtbot.waitUntil(lambda: all(i in view.saved for i in ids), timeout=10000)  # read as well
    assert len(view.cache.wanted) == 2 and len(view.cache.entries) == 4
    view.next_patient()
    assert view.films_shown()  # at once: no waiting for the loader


def test_blinded_reading_hides_the_other_visit(qtbot, study: Study, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, study)
    show(qtbot, view, "P0001")
    view.toolbar.blinded.setChecked(True)
    left, right = view.sides
    assert view.header.angles[1].text() == "hidden (blinded)"
    assert view.header.delta.text() == "hidden (blinded)"
    assert "lordosis" in view.header.angles[0].text()
    assert all("date hidden" in s.title.text() for s in view.sides)
    assert right.controller.view is None and left.controller.view is left.view
    shot(view, "compare_blinded.png", tmp_path)
    click(qtbot, right, (5.0, 5.0))
    assert view.active == 1 and left.controller.view is None
    assert view.header.angles[0].text() == "hidden (blinded)"
    view.toolbar.blinded.setChecked(False)
    assert "lordosis" in view.header.angles[0].text() and left.controller.view is left.view


def test_window_level_sync_is_optional(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    view = make_view(qtbot, study)
    show(qtbot, view, "P0001")
    left, right = view.sides
    before = right.view.item.voi
    left.view.set_voi(Window(1500, 800))
    assert right.view.item.voi == before
    view.set_sync_window(True)
    left.view.set_voi(Window(1400, 600))
    after = right.view.item.voi
    assert isinstance(after, Window) and after != before and after.explanation == "synchronised"


def test_alignment_on_a_landmark_keeps_it_level(qtbot, study: Study, demo: Demo,
                                                 tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    view = make_view(qtbot, study)
    show(qtbot, view, "P0013")
    a = demo.spines["admission"].endplates["C7_inferior"][0]
    b = demo.spines["month3"].endplates["C7_inferior"][0]
    view.toolbar.align.click()
    assert view.toolbar.align.isChecked()
    click(qtbot, view.sides[0], a)
    click(qtbot, view.sides[1], b)
    assert not view.toolbar.align.isChecked()
    assert view.sync.anchors[0] == pytest.approx(a, abs=2) and view.sides[1].landmark
    _wheel(view.sides[0], QPointF(200, 600), 2)
    _pan(view.sides[0], QPointF(400, 400), QPointF(300, 250))
    on_left = view.sides[0].view.mapFromScene(QPointF(*view.sync.anchors[0]))
    on_right = view.sides[1].view.mapFromScene(QPointF(*view.sync.anchors[1]))
    assert abs(on_left.x() - on_right.x()) <= 2 and abs(on_left.y() - on_right.y()) <= 2
    shot(view, "compare_aligned.png", tmp_path)


def test_missing_visit_offers_import_and_unreadable_film_shows_its_error(qtbot, study: Study,
                                                                        tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    view = make_view(qtbot, study)
    show(qtbot, view, "P0014")
    right = view.sides[1]
    assert right.stack.currentIndex() == 1 and "No month 3 visit" in right.placeholder.text()
    assert right.import_button.isVisible() and view.header.delta.text() == "Δ —"
    with qtbot.waitSignal(view.importRequested) as signal:
        right.import_button.click()
    assert signal.args == [view.patient_id]
    shot(view, "compare_missing_visit.png", tmp_path)
    show(qtbot, view, "P0014", "lumbar")
    assert "No lumbar film at admission" in view.sides[0].placeholder.text()
    show(qtbot, view, "P0015")
    assert "cannot be shown" in right.placeholder.text() and right.error
    assert view.sides[0].film is not None
    shot(view, "compare_unreadable.png", tmp_path)


def test_export_png_and_open_compare(qtbot, study: Study, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    loader = FilmLoader(isolated=False)
    pid = study.patient_by_study_id("P0002")
    window = open_compare(study, "dr_a", loader, pid, "lumbar")
    loader.setParent(window)
    qtbot.addWidget(window)
    qtbot.waitUntil(window.view.films_shown, timeout=20000)
    assert window.windowTitle() == "Compare P0002 · lumbar — CobbDesk"
    SHOTS.mkdir(parents=True, exist_ok=True)
    for target in (tmp_path / "figure.png", SHOTS / "compare_export.png"):
        assert window.view.export_png(target) == target
        assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 50_000
    assert (tmp_path / "figure.png").stat().st_mode & 0o777 == 0o600
    # the open study chosen as the figure's name is refused, untouched (tester's find: the
    # study became a PNG and every measurement was lost)
    before = study.path.read_bytes()
    with pytest.raises(ExportError, match=r"is a study \(SQLite database\); it was left untouched"):
        window.view.export_png(study.path)
    assert study.path.read_bytes() == before
    window.close()


def test_changing_a_settled_angle_asks_for_a_reason_as_the_main_window_does(
    qtbot, study: Study
) -> None:  # type: ignore[no-untyped-def]
    """The issue: the compare view saved 28.07° → 50.91° with an automatic reason."""
    from cobbdesk.core.measure.changes import Change, ChangeKind
    from cobbdesk.gui.viewer.prompts import reason_text

    view = make_view(qtbot, study)
    show(qtbot, view, "P0002")
    side = view.sides[0]
    record, settled = side.slot.film, side.counted()
    asked: list[str] = []
    answers: list[str | None] = [None, "re-read the C2 endplate"]
    view.reason_prompt = lambda parent, text: (asked.append(text), answers.pop(0))[1]
    handle = screen(side, settled.upper.posterior)
    viewport = side.view.viewport()
    for _attempt in range(2):
        qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=handle)
        qtbot.mouseMove(viewport, pos=handle + QPoint(0, -25))
        qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=handle + QPoint(0, -25))
        if _attempt == 0:  # declined: the screen and the study keep the saved angle
            assert side.counted() == settled
            assert {m.id: m for m in study.measurements(record.id)}[settled.id] == settled
    moved = side.counted()
    assert moved is not None and moved.angle != pytest.approx(settled.angle, abs=0.5)
    expected = reason_text(f"film #{record.id}",
                           [Change(ChangeKind.ADJUST, settled, moved, side.rater)])  # fmt: skip
    assert asked == [expected, expected]  # the main window's prompt, word for word
    assert expected.startswith(f"You are changing saved measurement(s) of film #{record.id}:")
    saved = {m.id: m for m in study.measurements(record.id)}[settled.id]
    assert saved == moved
    with study.engine.connect() as conn:
        from cobbdesk.core.store.schema import audit

        reasons = [r.reason for r in conn.execute(audit.select()) if r.entity_id == settled.id]
    assert reasons[-1] == "re-read the C2 endplate"
