"""MeasureController in a real FilmView, driven by simulated mouse and key events (offscreen)."""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.measure.commands import MovePoint
from cobbdesk.core.measure.facing import Facing
from cobbdesk.core.measure.geometry import cobb_angle
from cobbdesk.core.measure.measurement import CobbMeasurement, LineName, PointName, Template
from cobbdesk.gui.viewer.film_view import FilmView
from cobbdesk.gui.viewer.measure_items import angle_text, level_text
from cobbdesk.gui.viewer.measure_tool import MeasureController
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine

Pt = tuple[float, float]


@lru_cache(maxsize=2)
def spine(region: str = "cervical", lordosis: float = 25.0) -> SyntheticSpine:
    return make_lateral_spine(region, lordosis, seed=3)  # type: ignore[arg-type]


def make_film(tmp_path: Path, name: str = "c.dcm", **kwargs: object) -> Film:
    return read_film(write_dicom(spine(), tmp_path / name, **kwargs))  # type: ignore[arg-type]


@pytest.fixture
def film(tmp_path: Path) -> Film:
    return make_film(tmp_path)


def make_view(qtbot, film: Film) -> tuple[FilmView, MeasureController]:
    view = FilmView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    view.set_film(film)
    controller = MeasureController(film, "rater1", parent=view)
    controller.session.header_facing = Facing.LEFT  # the synthetic spines face left
    controller.set_snap_threshold(30.0)  # snaps apply at once (confirmation: its own test)
    controller.set_snapping(True)  # off by default in the app; these tests exercise it
    controller.attach(view)
    return view, controller


@pytest.fixture
def setup(qtbot, film: Film) -> tuple[FilmView, MeasureController]:
    return make_view(qtbot, film)


def screen(view: FilmView, p: Pt) -> QPoint:
    return view.mapFromScene(QPointF(*p))


def landed(view: FilmView, p: Pt) -> Pt:
    """Where a click aimed at image point ``p`` lands (screen pixels are coarser)."""
    q = view.mapToScene(screen(view, p))
    return (q.x(), q.y())


def click(qtbot, view: FilmView, p: Pt) -> None:
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=screen(view, p))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=screen(view, p))


def drag_mouse(qtbot, view: FilmView, path: list[Pt]) -> None:
    viewport, left = view.viewport(), Qt.MouseButton.LeftButton
    qtbot.mousePress(viewport, left, pos=screen(view, path[0]))
    for p in path[1:]:
        qtbot.mouseMove(viewport, pos=screen(view, p))
    qtbot.mouseRelease(viewport, left, pos=screen(view, path[-1]))


def true_clicks(noise_px: float = 2.5, seed: int = 7, sp: SyntheticSpine | None = None
                ) -> list[Pt]:  # fmt: skip
    upper, lower = (sp or spine()).template_endplates
    rng = np.random.default_rng(seed)
    return [(x + rng.uniform(-noise_px, noise_px), y + rng.uniform(-noise_px, noise_px))
            for x, y in (*upper, *lower)]  # fmt: skip


def place(qtbot, view: FilmView, controller: MeasureController, clicks: list[Pt],
          template: Template = Template.C2_C7) -> str:  # fmt: skip
    controller.start_placement(template)
    for p in clicks:
        click(qtbot, view, p)
    assert not controller.placing
    assert len(controller.measurements) == 1
    return next(iter(controller.measurements))


def points(m: CobbMeasurement) -> list[Pt]:
    return [m.point(which) for which in PointName]


def test_place_with_snapping_then_undo_redo(qtbot, setup) -> None:
    view, controller = setup
    prompts: list[str] = []
    messages: list[str] = []
    controller.promptChanged.connect(prompts.append)
    controller.messageChanged.connect(messages.append)
    clicks = true_clicks()
    with qtbot.waitSignal(controller.measurementsChanged):
        mid = place(qtbot, view, controller, clicks)
    assert prompts == [*Template.C2_C7.prompts, ""]
    snapped = controller.measurements[mid]
    assert abs(snapped.angle - spine().true_angle_deg) < 0.5
    assert messages[-1].startswith("C2 snapped") and "mm" in messages[-1]
    assert controller.session.history.steps == 2
    assert controller.undo_text == "Snap endplates"
    assert controller.selected_id == mid

    controller.undo()  # back to the clicked points
    clicked = [landed(view, p) for p in clicks]
    undone = np.array(points(controller.measurements[mid]))
    assert undone == pytest.approx(np.array(clicked), abs=1e-9)
    controller.undo()
    assert len(controller.measurements) == 0
    assert controller.selected_id is None
    controller.redo()
    controller.redo()
    assert controller.measurements[mid] == snapped


def test_place_without_snapping_keeps_clicks(qtbot, setup) -> None:
    view, controller = setup
    controller.set_snapping(False)
    assert not controller.snapping_enabled
    clicks = true_clicks()
    mid = place(qtbot, view, controller, clicks)
    m = controller.measurements[mid]
    clicked = [landed(view, p) for p in clicks]
    assert np.array(points(m)) == pytest.approx(np.array(clicked), abs=1e-9)
    expected = cobb_angle((clicked[0], clicked[1]), (clicked[2], clicked[3]), m.spacing)
    assert m.angle == pytest.approx(expected)
    assert abs(m.angle - spine().true_angle_deg) < 5.0  # ±3 px on ~110 px endplates
    assert controller.session.history.steps == 1


def test_monochrome1_film_snaps_too(qtbot, tmp_path: Path) -> None:
    film = make_film(tmp_path, "m1.dcm", photometric="MONOCHROME1")
    assert film.inverted
    view, controller = make_view(qtbot, film)
    mid = place(qtbot, view, controller, true_clicks())
    assert abs(controller.measurements[mid].angle - spine().true_angle_deg) < 0.5
    assert controller.session.history.steps == 2


def test_refused_clicks_give_messages(qtbot, setup) -> None:
    view, controller = setup
    messages: list[str] = []
    controller.messageChanged.connect(messages.append)
    controller.start_placement("C2-C7")
    click(qtbot, view, (-150.0, 300.0))  # outside the image, still on screen
    assert "outside the image" in messages[-1]
    first = true_clicks()[0]
    click(qtbot, view, first)
    click(qtbot, view, first)  # the same screen pixel again: a zero-length line
    assert "no length" in messages[-1]
    assert controller.placing and len(controller.measurements) == 0
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert not controller.placing


def test_drag_handle_is_live_and_one_undo_step(qtbot, setup) -> None:
    view, controller = setup
    controller.set_snapping(False)
    mid = place(qtbot, view, controller, true_clicks())
    before = controller.measurements[mid]
    steps_before = controller.session.history.steps
    angles: list[float] = []
    controller.angleChanged.connect(angles.append)
    x, y = before.upper.posterior
    path = [(x, y)] + [(x + 3 * i, y + 6 * i) for i in range(1, 6)]
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=screen(view, path[0]))
    for p in path[1:]:
        qtbot.mouseMove(view.viewport(), pos=screen(view, p))
    assert controller.measurements[mid] == before  # only the preview moved
    assert controller.overlay(mid).measurement.angle == pytest.approx(angles[-1])
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=screen(view, path[-1]))
    assert len(angles) == 5 and len(set(angles)) == 5
    after = controller.measurements[mid]
    assert after.angle == pytest.approx(angles[-1])
    assert after.upper.posterior == pytest.approx(landed(view, path[-1]), abs=4.0)
    assert controller.session.history.steps == steps_before + 1
    assert controller.undo_text == "Move upper posterior point"
    controller.undo()
    assert controller.measurements[mid] == before


def test_drag_whole_line(qtbot, setup) -> None:
    view, controller = setup
    controller.set_snapping(False)
    mid = place(qtbot, view, controller, true_clicks())
    before = controller.measurements[mid]
    (ax, ay), (px, py) = before.lower.as_tuple()
    start = ((ax + px) / 2, (ay + py) / 2)
    end = (start[0] + 40.0, start[1] - 30.0)
    drag_mouse(qtbot, view, [start, (start[0] + 20, start[1] - 15), end])
    after = controller.measurements[mid]
    shift = np.subtract(landed(view, end), landed(view, start))
    moved = np.subtract(after.lower.anterior, before.lower.anterior)
    assert moved == pytest.approx(shift, abs=1e-6)
    assert after.upper == before.upper
    assert after.angle == pytest.approx(before.angle)
    assert controller.undo_text == "Move lower line"


def test_select_delete_and_empty_press(qtbot, setup) -> None:
    view, controller = setup
    controller.set_snapping(False)
    mid = place(qtbot, view, controller, true_clicks())
    selections: list[object] = []
    controller.selectionChanged.connect(selections.append)
    assert controller.press(50.0, 50.0, Qt.KeyboardModifier.NoModifier) is False  # view pans
    assert controller.selected_id is None
    click(qtbot, view, controller.measurements[mid].lower.anterior)
    assert controller.selected_id == mid and selections == [None, mid]
    assert controller.session.history.steps == 1  # a click without movement is no edit
    controller.delete_selected()
    assert len(controller.measurements) == 0
    controller.undo()
    controller.select(mid)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert len(controller.measurements) == 0
    assert controller.undo_text == "Delete measurement"


def test_hover_cursor(qtbot, setup) -> None:
    view, controller = setup
    controller.set_snapping(False)
    mid = place(qtbot, view, controller, true_clicks())
    m = controller.measurements[mid]
    qtbot.mouseMove(view.viewport(), pos=screen(view, m.upper.anterior))
    assert view.viewport().cursor().shape() == Qt.CursorShape.SizeAllCursor
    (ax, ay), (px, py) = m.upper.as_tuple()
    qtbot.mouseMove(view.viewport(), pos=screen(view, ((ax + px) / 2, (ay + py) / 2)))
    assert view.viewport().cursor().shape() == Qt.CursorShape.OpenHandCursor


def test_load_rebuild_and_detach(qtbot, setup, film: Film) -> None:
    view, controller = setup
    controller.set_snapping(False)
    mid = place(qtbot, view, controller, true_clicks())
    saved = list(controller.measurements.values())
    other = MeasureController(film, "rater2")
    with qtbot.waitSignal(other.measurementsChanged):
        other.load(saved)
    assert not other.can_undo and list(other.measurements) == [mid]
    controller.detach()
    assert view.tool is None
    other.attach(view)
    assert view.tool is other and other.overlay(mid).scene() is view.scene()
    view.set_film(film)  # a fresh scene: the overlay is rebuilt in it
    assert other.overlay(mid).scene() is view.scene()


def test_uncalibrated_labels(qtbot, tmp_path: Path) -> None:
    film = make_film(tmp_path, "u.dcm", spacing_tag=None)
    view, controller = make_view(qtbot, film)
    controller.set_snapping(False)
    mid = place(qtbot, view, controller, true_clicks())
    m = controller.measurements[mid]
    assert m.spacing is None
    assert controller.overlay(mid).angle_label.text.endswith("(px, uncalibrated)")


def test_label_texts() -> None:
    assert angle_text(23.44) == "+23.4° lordosis"
    assert angle_text(-8.2) == "\u22128.2° kyphosis"
    assert angle_text(0.01, calibrated=False, separator="\n") == "0.0° parallel\n(px, uncalibrated)"
    assert level_text("C2 inferior endplate") == "C2 inf"
    assert level_text("S1 superior endplate") == "S1 sup"


def test_nudges_merge_into_one_undo_step(qtbot, setup) -> None:
    view, controller = setup
    controller.set_snapping(False)
    mid = place(qtbot, view, controller, true_clicks())
    before = controller.measurements[mid]
    x, y = before.upper.anterior
    for i in range(1, 4):
        controller.push(MovePoint(mid, PointName.UPPER_ANTERIOR, (x + i, y)), mergeable=True)
    assert controller.session.history.steps == 2
    assert controller.measurements[mid].upper.anterior == (x + 3, y)
    controller.undo()
    assert controller.measurements[mid] == before
    controller.redo()
    assert controller.measurements[mid].upper.anterior == (x + 3, y)
    assert controller.undo_text == "Move upper anterior point"


def _shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("COBBDESK_SCREENSHOTS", tmp_path / "shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _save(qtbot, view: FilmView, folder: Path, name: str) -> None:
    qtbot.wait(10)
    image = view.grab()
    assert image.width() == 900 and image.height() == 700
    assert image.save(str(folder / f"{name}.png"))


def test_screenshots_cervical(qtbot, setup, tmp_path: Path) -> None:
    view, controller = setup
    folder = _shots_dir(tmp_path)
    mid = place(qtbot, view, controller, true_clicks(noise_px=4.0, seed=11))
    m = controller.measurements[mid]
    _save(qtbot, view, folder, "cervical_fit_selected")
    view.set_zoom(3.0, QPointF(*m.upper.posterior))
    _save(qtbot, view, folder, "cervical_zoom_snapped_ghost")
    controller.select(None)
    view.toggle_invert()
    view.fit()
    _save(qtbot, view, folder, "cervical_inverted_fit")
    controller.start_placement("FREE")
    c3, c5 = spine().endplates["C3_inferior"], spine().endplates["C5_inferior"]
    for p in (*c3, c5[0]):
        click(qtbot, view, p)
    qtbot.mouseMove(view.viewport(), pos=screen(view, (c5[1][0] + 60, c5[1][1] + 40)))
    _save(qtbot, view, folder, "cervical_placing_rubber_band")
    assert controller.overlay(mid).levels[LineName.UPPER].text.startswith("C2 inf\nsnapped ")


@pytest.mark.parametrize(
    ("lordosis", "spacing_tag"), [(45.0, "PixelSpacing"), (-12.0, None), (2.0, "PixelSpacing")]
)
def test_screenshots_lumbar(qtbot, tmp_path: Path, lordosis: float,
                            spacing_tag: str | None) -> None:  # fmt: skip
    sp = spine("lumbar", lordosis)
    film = read_film(write_dicom(sp, tmp_path / "l.dcm", spacing_tag=spacing_tag))  # type: ignore[arg-type]
    view, controller = make_view(qtbot, film)
    mid = place(qtbot, view, controller, true_clicks(sp=sp), Template.L1_S1)
    assert abs(controller.measurements[mid].angle - sp.true_angle_deg) < 1.0
    _save(qtbot, view, _shots_dir(tmp_path), f"lumbar_{lordosis:+.0f}_{spacing_tag or 'uncal'}")
    assert math.isfinite(controller.overlay(mid).measurement.angle)


# --- the session's questions and refusals, as the user sees them ---------------------------------
def unknown_facing_view(qtbot, film: Film) -> tuple[FilmView, MeasureController]:  # type: ignore[no-untyped-def]
    view, controller = make_view(qtbot, film)
    controller.session.header_facing = None  # a film without Patient Orientation
    controller.set_snapping(False)
    return view, controller


@pytest.mark.parametrize("posterior_first", [False, True])
def test_facing_prompt_is_asked_once_and_decides_the_ends(qtbot, film: Film,
                                                          posterior_first: bool) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    view, controller = unknown_facing_view(qtbot, film)
    controller.start_placement(Template.C2_C7)
    assert (
        controller.waiting() and "Which way does the patient face?" in controller.bar.label.text()
    )
    clicks = true_clicks(noise_px=0.0)
    shown = [landed(view, p) for p in clicks]  # anterior, posterior, anterior, posterior
    expected = cobb_angle((shown[0], shown[1]), (shown[2], shown[3]), film.spacing_mm)
    if posterior_first:  # the field report: posterior corners first gave the opposite sign
        clicks = [clicks[1], clicks[0], clicks[3], clicks[2]]
    for p in clicks:
        click(qtbot, view, p)
    assert len(controller.measurements) == 0 and controller.session.pending is not None
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Left)  # the synthetic spine faces left
    assert not controller.waiting()
    (m,) = controller.measurements.values()
    assert m.angle == pytest.approx(expected, abs=1e-9) and m.angle > 0
    assert controller.session.facing == "left" and controller.session.facing_source == "user"
    controller.start_placement(Template.C2_C7)  # known now: not asked again
    assert not controller.waiting()


def test_a_large_snap_asks_before_it_is_applied(qtbot, setup) -> None:  # type: ignore[no-untyped-def]
    view, controller = setup
    controller.set_snap_threshold(0.1)
    mid = place(qtbot, view, controller, true_clicks(noise_px=4.0, seed=5))
    clicked = controller.measurements[mid]
    assert controller.waiting() and "Snapping would move your lines" in controller.bar.label.text()
    assert not (clicked.upper_snapped or clicked.lower_snapped)  # shown = stored = the clicks
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # keep my points
    assert not controller.waiting() and controller.measurements[mid] == clicked
    mid2 = place_again(qtbot, view, controller)
    qtbot.keyClick(view, Qt.Key.Key_Return)  # apply the snap
    snapped = controller.measurements[mid2]
    assert snapped.upper_snapped and snapped.lower_snapped
    assert controller.overlay(mid2).levels[LineName.UPPER].text.startswith("C2 inf\nsnapped ")


def place_again(qtbot, view: FilmView, controller: MeasureController) -> str:  # type: ignore[no-untyped-def]
    before = set(controller.measurements)
    controller.start_placement(Template.C2_C7)
    for p in true_clicks(noise_px=4.0, seed=6):
        click(qtbot, view, p)
    assert controller.waiting()
    view.setFocus()
    (mid,) = set(controller.measurements) - before
    return mid


def test_refusals_are_shown_in_the_panel(qtbot, setup) -> None:  # type: ignore[no-untyped-def]
    from cobbdesk.gui.viewer.measure_panel import MeasurePanel

    view, controller = setup
    panel = MeasurePanel("rater1")
    qtbot.addWidget(panel)
    panel.set_controller(controller)
    controller.set_snapping(False)
    upper = true_clicks(noise_px=0.0)[:2]
    controller.start_placement(Template.C2_C7)
    for p in (*upper, *upper):  # the C7 line drawn over the C2 line
        click(qtbot, view, p)
    assert len(controller.measurements) == 0
    assert "lie on top of each other" in panel.message.text()
    assert panel.message.text().startswith("C2 inferior endplate and C7 inferior endplate")


def test_the_snap_threshold_setting_defaults_to_the_core_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cobbdesk.core.measure import session
    from cobbdesk.gui import settings

    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path))

    assert settings.DEFAULT_SNAP_THRESHOLD_DEG == session.DEFAULT_SNAP_THRESHOLD_DEG
    assert settings.snap_threshold_deg() == session.DEFAULT_SNAP_THRESHOLD_DEG
    settings.set_snap_threshold_deg(5.0)
    assert settings.snap_threshold_deg() == 5.0
