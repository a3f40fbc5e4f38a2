"""Two windows of one app on one study object (#15): each checks its writes against the version
*it* showed (its own baseline table, ``seen=``), never against the other window's last write;
a window's write retried after a lost acknowledgement is still applied exactly once; every
write that lands is told to the film's other listeners (core/store/film_events).

Geometry (image px): the measurement's upper line is (100, y)–(160, y+10); a window's edit moves
it to another y, so the stored ``upper_anterior_y`` names the window whose edit is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from cobbdesk.core.compare.saver import StudyFilmStore, film_session_of
from cobbdesk.core.measure.commands import MoveLine
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study, film_events
from cobbdesk.core.store.conflicts import ConflictError
from cobbdesk.core.store.film_events import FilmSaved
from cobbdesk.core.store.outbox import Outbox, attach
from tests.core.store.test_outbox import FAST, _audit_fields, _fail_next_commit


def _m(y: float = 200.0) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid="1.2.3", pixel_sha256="ab" * 32, template=Template.C2_C7,
        upper=EndplateLine((100.0, y), (160.0, y + 10)),
        lower=EndplateLine((100.0, 400.0), (160.0, 390.0)), rater="dr_a", id="m1",
        created_utc="2026-01-01T10:00:00+00:00",
    )  # fmt: skip


@pytest.fixture
def opened(study_location: Callable[[str], object]) -> Iterator[tuple[Study, int]]:
    """A study with one film holding ``_m()`` saved, opened once (as the app opens it)."""
    location = study_location("s.cobbdesk")
    with Study.create(location, actor="dr_a") as created:
        vid = created.add_visit(created.add_patient("P0001"), "admission",
                                visit_date="2026-01-05")  # fmt: skip
        fid = created.add_film(vid, sop_instance_uid="1.2.3", path="c.dcm", region="cervical")
        created.save_measurement(fid, _m())
    with Study.open(location, actor="dr_a") as study:
        yield study, fid


def _upper_y(study: Study) -> float | None:
    with Study.open(study.location, actor="dr_c") as other:
        found = other.reread_measurement("m1")
    return None if found is None else found.upper.anterior[1]


def test_two_windows_tables_are_independent(opened: tuple[Study, int]) -> None:
    study, fid = opened
    viewer, compare = {}, {}
    shown_v, shown_c = study.measurements(fid, seen=viewer), study.measurements(fid, seen=compare)
    assert shown_v == shown_c and set(viewer) == set(compare) == {"m1"}
    study.save_measurement(fid, _m(205.0), reason="compare re-read", seen=compare)
    with pytest.raises(ConflictError) as caught:  # the viewer still shows y = 200
        study.save_measurement(fid, _m(210.0), reason="viewer re-read", seen=viewer)
    assert {"upper_anterior_y", "upper_posterior_y"} <= {c.field for c in caught.value.conflicts}
    assert _upper_y(study) == 205.0
    with pytest.raises(ConflictError):  # deleting the version it showed: refused too
        study.delete_measurement("m1", "duplicate", seen=viewer)
    study.reread_measurement("m1", seen=viewer)  # Keep mine: theirs is the new baseline
    study.save_measurement(fid, _m(210.0), reason="viewer re-read", seen=viewer)
    assert _upper_y(study) == 210.0


def test_the_study_objects_own_table_still_serves_callers_without_one(
    opened: tuple[Study, int],
) -> None:
    """The command line and older callers pass no table: unchanged behaviour."""
    study, fid = opened
    study.measurements(fid)
    with Study.open(study.location, actor="dr_b") as rival:
        rival.save_measurement(fid, _m(190.0), reason="re-read")
    with pytest.raises(ConflictError):
        study.save_measurement(fid, _m(210.0), reason="mine")


def test_a_stale_stored_angle_is_no_ones_change(opened: tuple[Study, int]) -> None:
    """A window's baseline built from what it shows omits the cached angle: a stored angle that
    disagrees with its points (edited outside CobbDesk) does not block the window's edit."""
    study, fid = opened
    from cobbdesk.core.store.schema import measurements

    with study.transaction() as conn:
        conn.execute(measurements.update().values(angle_deg=1.0))
    store = StudyFilmStore(study, fid)
    store.shown(study.measurements(fid, seen={}))
    store.save(_m(205.0), "re-read")
    assert _upper_y(study) == 205.0


@pytest.mark.parametrize("applied", [True, False], ids=["ack-lost", "not-committed"])
def test_a_windows_write_retried_after_a_lost_ack_is_applied_once(
    opened: tuple[Study, int], applied: bool
) -> None:
    study, fid = opened
    box = Outbox("t", backoff=FAST)
    box.first_wait_s = 0.0  # report KEPT at once; the queue retries
    attach(study, box)
    store = StudyFilmStore(study, fid)
    store.shown(study.measurements(fid, seen={}))
    before = _audit_fields(study, "m1")
    fired = _fail_next_commit(study, applied=applied)
    store.save(_m(205.0), "re-read")
    assert box.wait_idle(60) and fired == [1]
    added = _audit_fields(study, "m1")[len(before) :]
    assert added and len(added) == len(set(added))  # one audited change
    assert _upper_y(study) == 205.0
    box.first_wait_s = 30.0
    store.save(_m(207.0), "again")  # the window's baseline is what it stored: no conflict
    assert _upper_y(study) == 207.0
    attach(study, None)
    box.close()


def test_every_landed_write_is_told_to_the_other_listeners(opened: tuple[Study, int]) -> None:
    study, fid = opened
    heard: list[FilmSaved] = []
    announced: list[object] = []
    stop = film_events.watch(study, fid, heard.append, announced.append)
    viewer = film_session_of(study, study.films()[0], "re-read")
    viewer.execute(MoveLine("m1", "upper", 0, 5))
    viewer.delete("m1")
    assert [(e.measurement_id, e.ok) for e in heard] == [("m1", True), ("m1", True)]
    moved = heard[0].measurement
    assert moved is not None and moved.upper.anterior[1] == 205.0 and heard[1].measurement is None
    assert announced == [viewer.store, viewer.store] and heard[0].origin is viewer.store
    stale = film_session_of(study, study.films()[0], "re-read",
                            saved=[_m()])  # fmt: skip  # still shows the deleted one
    assert not stale.execute(MoveLine("m1", "upper", 0, 10)).ok  # conflict: refused
    assert heard[-1].ok is False  # told as refused: listeners keep what they show
    stop()
    assert film_events.watching(study, fid) == 0


def test_a_session_shows_another_windows_save_unless_it_holds_an_edit_of_it(
    opened: tuple[Study, int],
) -> None:
    study, _ = opened
    record = study.films()[0]
    one = film_session_of(study, record, "re-read")
    two = film_session_of(study, record, "re-read")
    assert one.execute(MoveLine("m1", "upper", 0, 5)).ok
    moved = one.measurements["m1"]
    assert two.saved_elsewhere("m1", moved)  # two catches up: shows it, and it is its baseline
    assert two.measurements["m1"] == moved
    assert two.execute(MoveLine("m1", "upper", 0, 5)).ok  # on top of 205: no conflict
    assert _upper_y(study) == 210.0
    refused = one.execute(MoveLine("m1", "upper", 0, 1))  # one is stale now: held
    assert refused.conflicts and one.pending_conflict is not None
    assert not one.saved_elsewhere("m1", two.measurements["m1"])  # the held edit stays
    assert one.measurements["m1"] == moved
    assert one.saved_elsewhere("m2", None) is False  # not shown, nothing to drop
    one.drop_conflict()
    assert one.saved_elsewhere("m1", None)  # deleted elsewhere: gone from this window too
    assert "m1" not in one.measurements


def test_an_only_rater_session_does_not_take_in_another_raters_measurement(
    opened: tuple[Study, int],
) -> None:
    study, _ = opened
    compare = film_session_of(study, study.films()[0], "re-read")
    compare.only_rater, compare.film = True, replace(compare.film, rater="dr_a")
    theirs: Any = replace(_m(), id="m2", rater="dr_b")
    assert not compare.saved_elsewhere("m2", theirs)
    assert compare.saved_elsewhere("m3", replace(_m(), id="m3"))


def test_a_calibration_saved_elsewhere_is_not_overwritten_by_a_stale_window(
    opened: tuple[Study, int],
) -> None:
    """The viewer calibrates the film (its measurements get the user's spacing); the compare
    view still shows them uncalibrated: its edit is refused (spacing named), not written with
    the old spacing."""
    study, fid = opened
    compare = StudyFilmStore(study, fid)
    compare.shown(study.measurements(fid, seen={}))
    study.calibrate_film(fid, (10.0, 10.0), (10.0, 210.0), 50.0, reason="ruler")  # 0.25 mm/px
    with pytest.raises(ConflictError) as caught:
        compare.save(_m(205.0), "re-read")
    assert "spacing_row_mm" in {c.field for c in caught.value.conflicts}
    with Study.open(study.location, actor="dr_c") as other:
        stored = other.reread_measurement("m1")
    assert stored is not None and stored.spacing == (0.25, 0.25)
    assert stored.upper.anterior[1] == 200.0
