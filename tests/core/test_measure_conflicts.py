"""Two raters on one study file (#12): a measurement edit refused because the other rater
changed or deleted it since it was loaded is held, reported, and resolved (theirs/mine/cancel)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cobbdesk.core.compare.saver import StudyFilmStore
from cobbdesk.core.measure.commands import DeleteMeasurement, MoveLine
from cobbdesk.core.measure.interaction import FilmContext
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.measure.session import MeasurementSession
from cobbdesk.core.store import Study


def measurement() -> CobbMeasurement:
    return CobbMeasurement("1.2.3", "", "C2-C7", EndplateLine((100, 100), (140, 100)),
                           EndplateLine((100, 300), (140, 290)), spacing=None, rater="A",
                           created_utc="2026-01-01T10:00:00+00:00", id="m1")  # fmt: skip


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Study, Study, int]]:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="A") as a:
        vid = a.add_visit(a.add_patient("P0001"), "admission", visit_date="2026-01-05")
        film_id = a.add_film(vid, sop_instance_uid="1.2.3", path=tmp_path / "f.dcm",
                             region="cervical")  # fmt: skip
        a.save_measurement(film_id, measurement())
    a, b = Study.open(path, actor="A"), Study.open(path, actor="B")
    yield a, b, film_id
    a.close()
    b.close()


def session(study: Study, film_id: int) -> MeasurementSession:
    film = FilmContext(400, 300, sop_instance_uid="1.2.3", rater=study.actor.user)
    return MeasurementSession(film, StudyFilmStore(study, film_id), study.measurements(film_id),
                              facing="left", ask_reason=lambda changes: "re-read")  # fmt: skip


def upper_y(study: Study, film_id: int) -> float:
    return study.measurements(film_id)[0].upper.posterior[1]


def test_conflict_is_held_and_reported_then_mine_wins(two: tuple[Study, Study, int]) -> None:
    a, b, film_id = two
    mine, theirs = session(a, film_id), session(b, film_id)
    assert theirs.execute(MoveLine("m1", "upper", 0, 20)).ok  # B saves first
    outcome = mine.execute(MoveLine("m1", "upper", 0, 5))  # A loaded before B's save
    assert not outcome.ok and "another rater (B) changed it" in outcome.message  # who: the audit
    # the whole upper line moved by 20 px: both its y's, the angle unchanged
    assert {c.field for c in outcome.conflicts} == {"upper_anterior_y", "upper_posterior_y"}
    assert mine.pending_conflict is not None and mine.pending_conflict.reason == "re-read"
    assert mine.measurements["m1"].upper.posterior[1] == 100  # nothing applied yet
    assert upper_y(a, film_id) == 120  # B's value stays until A chooses
    assert mine.keep_mine().ok
    assert upper_y(a, film_id) == 105 and mine.measurements["m1"].upper.posterior[1] == 105
    assert mine.pending_conflict is None and a.verify_audit().ok


def test_keep_theirs_shows_their_version(two: tuple[Study, Study, int]) -> None:
    a, b, film_id = two
    mine, theirs = session(a, film_id), session(b, film_id)
    assert theirs.execute(MoveLine("m1", "upper", 0, 20)).ok
    assert mine.execute(MoveLine("m1", "upper", 0, 5)).conflicts
    assert mine.keep_theirs().ok
    assert mine.measurements["m1"].upper.posterior[1] == 120 == upper_y(a, film_id)
    assert mine.execute(MoveLine("m1", "upper", 0, 1)).ok  # later edits start from theirs
    assert upper_y(b, film_id) == 121


def test_deleted_by_the_other_rater(two: tuple[Study, Study, int]) -> None:
    a, b, film_id = two
    mine, theirs = session(a, film_id), session(b, film_id)
    assert theirs.execute(DeleteMeasurement("m1")).ok
    outcome = mine.execute(MoveLine("m1", "upper", 0, 5))
    assert outcome.conflicts and not outcome.ok
    mine.drop_conflict()  # cancel: nothing written, nothing changed
    assert mine.pending_conflict is None and b.measurements(film_id) == []
    assert mine.execute(MoveLine("m1", "upper", 0, 5)).conflicts
    assert mine.keep_theirs().ok
    assert "m1" not in mine.measurements
