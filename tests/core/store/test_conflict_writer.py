"""Who wrote the version a measurement write conflicted with (core/store/writers.py, #15).

Two windows of one app write through their own :class:`StudyFilmStore` on one study object; a
third writer is another program (its own study object, another rater or the same one).  The
conflict raised to the stale window names the writer: ``here`` with the other window's name
when the stored row is what that window wrote, else the rater and user of the row's newest
audit entry.  On a study file and on the throwaway PostgreSQL cluster (``study_location``).
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from cobbdesk.core.compare.saver import StudyFilmStore
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study, film_events
from cobbdesk.core.store.conflicts import ConflictError, Writer
from cobbdesk.core.store.writers import measurement_writer


def _m(y: float = 200.0) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid="1.2.3", pixel_sha256="ab" * 32, template=Template.C2_C7,
        upper=EndplateLine((100.0, y), (160.0, y + 10)),
        lower=EndplateLine((100.0, 400.0), (160.0, 390.0)), rater="dr_a", id="m1",
        created_utc="2026-01-01T10:00:00+00:00",
    )  # fmt: skip


@pytest.fixture
def opened(study_location: Callable[[str], object]) -> Iterator[tuple[Study, int]]:
    location = study_location("s.cobbdesk")
    with Study.create(location, actor="dr_a") as created:
        vid = created.add_visit(created.add_patient("P0001"), "admission",
                                visit_date="2026-01-05")  # fmt: skip
        fid = created.add_film(vid, sop_instance_uid="1.2.3", path="c.dcm", region="cervical")
        created.save_measurement(fid, _m())
    with Study.open(location, actor="dr_a") as study:
        yield study, fid


def _windows(study: Study, fid: int) -> tuple[StudyFilmStore, StudyFilmStore]:
    viewer, compare = StudyFilmStore(study, fid), StudyFilmStore(study, fid)
    for store in (viewer, compare):
        store.shown(study.measurements(fid, seen={}))
    film_events.name_window(compare, "Compare view")
    return viewer, compare


def test_the_other_window_of_this_app_is_named(opened: tuple[Study, int]) -> None:
    study, fid = opened
    viewer, compare = _windows(study, fid)
    compare.save(replace(_m(210.0)), "re-read")
    with pytest.raises(ConflictError) as caught:
        viewer.save(_m(220.0), "mine")
    found = caught.value.writer
    assert found == Writer("dr_a", found.user, found.utc, here=True, window="Compare view")
    assert caught.value.writer.who("dr_a") == "your other window (Compare view)"
    again = pickle.loads(pickle.dumps(caught.value))  # crosses to a worker process intact
    assert again.writer == caught.value.writer and again.conflicts == caught.value.conflicts
    compare.delete("m1", "duplicate")  # a deletion by the other window is named too
    viewer.current("m1")
    writer = measurement_writer(study, "m1")
    assert writer is not None and writer.here and writer.window == "Compare view"


@pytest.mark.parametrize("rater", ["dr_b", "dr_a"])
def test_another_program_is_named_by_the_audit_trail(opened: tuple[Study, int], rater: str) -> None:
    """Another study object (another program) wrote after this app's window: not ``here``,
    even when this app's other window wrote the measurement before."""
    study, fid = opened
    viewer, compare = _windows(study, fid)
    compare.save(_m(210.0), "re-read")
    viewer.current("m1")
    with Study.open(study.location, actor=rater) as other:
        other.save_measurement(fid, _m(230.0), reason="their re-read")
    with pytest.raises(ConflictError) as caught:
        viewer.save(_m(240.0), "mine")
    writer = caught.value.writer
    assert writer is not None and not writer.here and writer.rater == rater  # the audit's
    expected = "another rater (dr_b)" if rater == "dr_b" else \
        "you (dr_a), in another window or program"  # fmt: skip
    assert writer.who("dr_a") == expected
    assert measurement_writer(study, "nothing") is None
