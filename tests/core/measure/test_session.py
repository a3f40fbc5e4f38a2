"""The Qt-free measurement session: click order, facing, guards, save policy, snapping."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import numpy as np
import pytest

from cobbdesk.core.errors import StoreError
from cobbdesk.core.measure.commands import MoveLine, MovePoint
from cobbdesk.core.measure.facing import Facing, FacingSource
from cobbdesk.core.measure.interaction import FilmContext
from cobbdesk.core.measure.measurement import ALGORITHM_VERSION, CobbMeasurement, EndplateLine
from cobbdesk.core.measure.session import (
    ChangeKind,
    MeasurementSession,
    MemoryStore,
)

WIDTH, HEIGHT = 300, 400
# A left-facing C2–C7 film: C2 inferior endplate from (100, 100) anterior to (140, 110)
# posterior, C7 from (100, 300) to (140, 290).  Each line is tilted atan(10/40) = 14.036°
# towards the other posteriorly, so the lines converge posteriorly: lordosis of
# 2 × atan(1/4) = 28.0725°, by hand.
EXPECTED = 2 * math.degrees(math.atan(10 / 40))
LEFT_CORNERS = {"ua": (100.0, 100.0), "up": (140.0, 110.0), "la": (100.0, 300.0),
                "lp": (140.0, 290.0)}  # fmt: skip


def mirrored(point: tuple[float, float]) -> tuple[float, float]:
    """The same anatomy on a right-facing film (mirror about the vertical image axis)."""
    return (WIDTH - 1 - point[0], point[1])


def corners(facing: Facing) -> dict[str, tuple[float, float]]:
    if facing is Facing.LEFT:
        return LEFT_CORNERS
    return {k: mirrored(p) for k, p in LEFT_CORNERS.items()}


def session(facing: Facing | None = Facing.LEFT, store: MemoryStore | None = None,
            spacing: tuple[float, float] | None = None) -> MeasurementSession:  # fmt: skip
    film = FilmContext(HEIGHT, WIDTH, sop_instance_uid="1.2.3", spacing=spacing,
                       spacing_source="PixelSpacing" if spacing else "none",
                       rater="ab")  # fmt: skip
    s = MeasurementSession(film, store or MemoryStore(), facing=facing)
    s.snapping = True  # off by default in the app (see MeasurementSession.snapping)
    return s


def place(s: MeasurementSession, points: list[tuple[float, float]], template: str = "C2-C7"):
    s.start_placement(template)
    outcome = None
    for p in points:
        outcome = s.click(p)
    assert outcome is not None
    return outcome


@pytest.mark.parametrize("facing", [Facing.LEFT, Facing.RIGHT])
def test_every_click_order_gives_the_signed_angle_or_a_refusal(facing: Facing) -> None:
    c = corners(facing)
    angles, refused = [], 0
    for order in itertools.permutations(c):
        s = session(facing)
        outcome = place(s, [c[k] for k in order])
        if outcome.ok:
            assert len(s.measurements) == 1
            angles.append(next(iter(s.measurements.values())).angle)
        else:
            refused += 1
            assert outcome.message and not s.measurements and not s.store.saved  # type: ignore[attr-defined]
    # a line joining two different endplates is steep: refused, never a wrong sign
    assert refused == 16 and len(angles) == 8
    assert all(a == pytest.approx(EXPECTED, abs=1e-9) for a in angles)


@pytest.mark.parametrize("facing", [Facing.LEFT, Facing.RIGHT])
def test_every_accepted_click_order_stores_the_cranial_line_as_upper(facing: Facing) -> None:
    """A tester's find: clicking the C7 line first stored it as ``upper`` and labelled it
    "C2 inf" (the angle was right).  By hand: C2's line lies at rows 100–110, C7's at 290–300;
    whatever the order, upper = C2's corners and lower = C7's."""
    c = corners(facing)
    stored = 0
    for order in itertools.permutations(c):
        s = session(facing)
        outcome = place(s, [c[k] for k in order])
        if not outcome.ok:
            continue
        m = s.measurements[outcome.measurement_id]
        assert {m.upper.anterior, m.upper.posterior} == {c["ua"], c["up"]}
        assert {m.lower.anterior, m.lower.posterior} == {c["la"], c["lp"]}
        assert m.angle == pytest.approx(EXPECTED, abs=1e-9)
        stored += 1
    assert stored == 8


def test_posterior_first_on_a_left_facing_film_is_positive() -> None:
    """The field report: posterior corners clicked first gave −6.3° for a +6.3° film."""
    s = session(Facing.LEFT)
    c = LEFT_CORNERS
    outcome = place(s, [c["up"], c["ua"], c["lp"], c["la"]])
    assert s.measurements[outcome.measurement_id].angle == pytest.approx(EXPECTED)


def test_unknown_facing_waits_for_the_user_then_orients() -> None:
    store = MemoryStore()
    s = session(None, store)
    c = corners(Facing.RIGHT)
    outcome = place(s, [c["up"], c["ua"], c["lp"], c["la"]])
    assert outcome.needs_facing and not s.measurements and s.pending is not None
    done = s.set_facing(Facing.RIGHT, FacingSource.USER)
    assert done.ok and s.pending is None
    assert s.measurements[done.measurement_id].angle == pytest.approx(EXPECTED)
    assert ("facing", "right/user", "") in store.log


def test_changing_the_facing_relabels_saved_measurements_with_a_reason() -> None:
    store = MemoryStore()
    s = session(Facing.LEFT, store)
    mid = place(s, [LEFT_CORNERS[k] for k in ("ua", "up", "la", "lp")]).measurement_id
    s.settle()
    s.ask_reason = lambda changes: None
    assert not s.set_facing(Facing.RIGHT).ok and s.facing is Facing.LEFT
    s.ask_reason = lambda changes: "film was mirrored"
    assert s.set_facing(Facing.RIGHT, reason="film was mirrored").ok
    assert s.measurements[mid].angle == pytest.approx(-EXPECTED)  # same points, other facing
    assert store.saved[mid] == s.measurements[mid]


def test_guards_refuse_and_nothing_is_stored() -> None:
    s = session(Facing.LEFT)
    short = place(s, [(100, 100), (105, 100), (100, 300), (140, 290)])
    assert not short.ok and "at least 20 px" in short.message
    same = place(s, [(100, 100), (140, 110), (100, 100), (140, 110)])
    assert not same.ok and not s.measurements and not s.store.saved  # type: ignore[attr-defined]


def test_fresh_edits_need_no_reason_settled_edits_ask_and_refusal_changes_nothing() -> None:
    store = MemoryStore()
    s = session(Facing.LEFT, store)
    mid = place(s, [LEFT_CORNERS[k] for k in ("ua", "up", "la", "lp")]).measurement_id
    asked: list[object] = []
    s.ask_reason = lambda changes: asked.append(changes) or None
    assert s.execute(MovePoint(mid, "upper.posterior", (140, 112))).ok and not asked
    assert store.log[-1][2].startswith("adjusted while measuring")
    s.settle()
    before = s.measurements[mid]
    refused = s.execute(MoveLine(mid, "lower", 0, 5))
    assert not refused.ok and "reason" in refused.message
    assert s.measurements[mid] == before == store.saved[mid] and len(asked) == 1
    change = asked[0][0]  # type: ignore[index]
    assert change.kind is ChangeKind.ADJUST and "→" in change.text
    s.ask_reason = lambda changes: "re-read"
    assert s.execute(MoveLine(mid, "lower", 0, 5)).ok
    assert store.saved[mid] == s.measurements[mid] and store.log[-1] == ("save", mid, "re-read")


def test_undo_redo_go_through_the_policy_and_restore_deleted_rows() -> None:
    store = MemoryStore()
    s = session(Facing.LEFT, store)
    mid = place(s, [LEFT_CORNERS[k] for k in ("ua", "up", "la", "lp")]).measurement_id
    assert s.delete(mid).ok and mid not in store.saved
    assert s.undo().ok and store.log[-1][0] == "restore" and store.saved[mid]
    s.settle()
    s.ask_reason = lambda changes: None
    assert not s.redo().ok and mid in s.measurements  # deleting a settled one needs a reason
    s.ask_reason = lambda changes: "duplicate"
    assert s.redo().ok and store.log[-1] == ("delete", mid, "duplicate")
    assert s.undo().ok and s.redo().ok and s.undo().ok  # asked each time: settled
    assert dict(s.measurements) == store.saved  # what is shown is what is stored


def test_nudges_merge_into_one_step_and_redo_restores_the_stored_value() -> None:
    store = MemoryStore()
    s = session(Facing.LEFT, store)
    mid = place(s, [LEFT_CORNERS[k] for k in ("ua", "up", "la", "lp")]).measurement_id
    for dy in (1, 2, 3):
        assert s.execute(MovePoint(mid, "upper.posterior", (140, 110 + dy)), merge=True).ok
    assert s.history.undo_text == "Move upper posterior point"
    moved = s.measurements[mid]
    s.undo()
    assert s.measurements[mid].upper.posterior == (140.0, 110.0)
    s.redo()
    assert s.measurements[mid] == moved == store.saved[mid]


def test_a_store_failure_leaves_the_screen_as_stored() -> None:
    class Failing(MemoryStore):
        def save(self, m: CobbMeasurement, reason: str) -> None:
            raise StoreError(None, "disk full")

    s = session(Facing.LEFT, Failing())
    outcome = place(s, [LEFT_CORNERS[k] for k in ("ua", "up", "la", "lp")])
    assert not outcome.ok and "disk full" in outcome.message and not s.measurements


def test_drags_are_oriented_and_guarded() -> None:
    s = session(Facing.LEFT)
    mid = place(s, [LEFT_CORNERS[k] for k in ("ua", "up", "la", "lp")]).measurement_id
    # drag the C2 anterior corner past the posterior one: ends are relabelled by the facing
    assert s.press((100, 100), 3.0) is not None
    s.drag_to((180, 120))
    assert s.release((180, 120)).ok
    m = s.measurements[mid]
    assert m.upper.anterior == (140.0, 110.0) and m.upper.posterior == (180.0, 120.0)
    # dragging C7 onto C2 is refused
    s.press(LEFT_CORNERS["la"], 3.0)
    s.drag_to((140, 111))
    before = s.measurements[mid]
    assert not s.release((140, 111)).ok and s.measurements[mid] == before


def test_flags_implausible_values_but_keeps_them() -> None:
    s = session(Facing.LEFT)
    # both lines tilted 36.87° (3-4-5 triangles) the other way: 73.74° of kyphosis, below
    # C2–C7's plausible range of −40…+60°
    outcome = place(s, [(100, 100), (140, 110), (100, 300), (140, 310)])
    m = s.measurements[outcome.measurement_id]
    assert m.angle == pytest.approx(0.0, abs=1e-9) and s.flag(m) is None
    kyphotic = place(s, [(100, 130), (140, 100), (100, 270), (140, 300)])
    k = s.measurements[kyphotic.measurement_id]
    assert k.angle == pytest.approx(-2 * math.degrees(math.atan(3 / 4)))
    assert "plausible" in (s.flag(k) or "")


def bone_film() -> np.ndarray:
    image = np.zeros((HEIGHT, WIDTH), np.uint16)
    image[:110] = 1000  # C2 body above row 109.5
    image[200:290] = 1000  # C7 body above row 289.5
    return image


def test_small_snaps_apply_large_ones_wait_for_confirmation() -> None:
    s = session(Facing.LEFT)
    s.pixels = bone_film()
    s.snap_threshold_deg = 2.0
    ok = place(s, [(100, 108), (140, 110), (100, 288), (140, 290)])  # 2.9° off: asks
    assert ok.needs_snap_confirmation and s.pending_snap is not None
    m = s.measurements[ok.measurement_id]
    assert not (m.upper_snapped or m.lower_snapped)
    confirmed = s.confirm_snap()
    m = s.measurements[ok.measurement_id]
    assert confirmed.ok and m.upper_snapped and m.lower_snapped
    assert m.angle == pytest.approx(0.0, abs=0.2)  # both edges are horizontal
    up, low = s.snap_report[m.id]
    assert low.angle_deg == pytest.approx(math.degrees(math.atan(2 / 40)), abs=0.3)
    assert up.angle_deg == pytest.approx(math.degrees(math.atan(2 / 40)), abs=0.3)
    assert up.units == "px" and "snapped" in up.text
    s.undo()  # one step back to the clicks
    assert not s.measurements[m.id].upper_snapped
    small = session(Facing.LEFT)
    small.pixels = bone_film()
    done = place(small, [(100, 109), (140, 110), (100, 289), (140, 290)])  # 1.4°: applied
    assert done.ok and not done.needs_snap_confirmation
    assert small.measurements[done.measurement_id].upper_snapped


def test_a_hand_move_clears_the_snapped_flag() -> None:
    s = session(Facing.LEFT)
    s.pixels = bone_film()
    mid = place(s, [(100, 109), (140, 110), (100, 289), (140, 290)]).measurement_id
    assert s.execute(MovePoint(mid, "upper.posterior", (140, 115))).ok
    m = s.measurements[mid]
    assert not m.upper_snapped and m.lower_snapped


def test_discrepancies_report_a_changed_calibration_and_algorithm() -> None:
    s = session(Facing.LEFT, spacing=(0.2, 0.1))
    old = CobbMeasurement("1.2.3", "", "C2-C7", EndplateLine((100, 100), (140, 110)),
                          EndplateLine((100, 300), (140, 290)), spacing=(0.1, 0.1),
                          spacing_source="PixelSpacing")  # fmt: skip
    older = replace(old, id="v0", algorithm_version="cobbdesk-cobb-0")
    s.load([old, older])
    found = {d.measurement_id: d for d in s.discrepancies()}
    # by hand: with (0.2, 0.1) each line rises 10 × 0.2 = 2 mm over 40 × 0.1 = 4 mm
    assert found[old.id].recomputed_deg == pytest.approx(2 * math.degrees(math.atan(0.5)))
    assert found[old.id].stored_deg == pytest.approx(EXPECTED)
    assert "calibration" in found[old.id].reason
    assert ALGORITHM_VERSION in found["v0"].reason
    assert session(Facing.LEFT).discrepancies() == []


def test_the_header_facing_is_stored_with_the_first_measurement() -> None:
    store = MemoryStore()
    s = session(None, store)
    s.header_facing = Facing.RIGHT
    c = corners(Facing.RIGHT)
    outcome = place(s, [c["up"], c["ua"], c["lp"], c["la"]])
    assert outcome.ok and s.facing is Facing.RIGHT and s.facing_source is FacingSource.DICOM
    assert s.measurements[outcome.measurement_id].angle == pytest.approx(EXPECTED)
    assert store.log[0] == ("facing", "right/dicom", "")


def test_snapping_is_off_by_default() -> None:
    """Measured on real films it made lines worse (benchmarks/bench_snapping_real.py)."""
    film = FilmContext(HEIGHT, WIDTH, sop_instance_uid="1.2.3", rater="ab")
    assert MeasurementSession(film, MemoryStore(), facing=Facing.LEFT).snapping is False
