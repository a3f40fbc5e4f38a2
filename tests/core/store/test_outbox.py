"""The study's write queue (core/store/outbox.py): order kept, faults retried, nothing applied
twice, on a SQLite file and on the throwaway PostgreSQL server (``study_location``).

The lost acknowledgement — the server committed, the client saw the connection die — is made
by wrapping the engine's commit: the real COMMIT runs, then the fault is raised (on the server
after terminating the backend, as pg8000 reports a dropped socket).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from cobbdesk.core.compare.saver import FilmWrite, StudyFilmStore
from cobbdesk.core.errors import ServerUnavailableError, StudyLockedError, ValidationError
from cobbdesk.core.measure.facing import Facing, FacingSource
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.conflicts import ConflictError
from cobbdesk.core.store.outbox import (
    First,
    Outbox,
    OutboxState,
    Phase,
    Ticket,
    attach,
    measurement_write,
)
from cobbdesk.core.store.schema import audit, measurements

FAST = (0.01,)  # backoff for tests: the retry comes at once (no timing is asserted)


def _lost(path: object) -> ServerUnavailableError:
    return ServerUnavailableError(path, "the database server cannot be reached (test)")


# --- the queue alone -----------------------------------------------------------------------
def test_writes_run_in_order_and_a_retriable_fault_keeps_the_head_first() -> None:
    done: list[str] = []
    failures = iter([_lost(None), StudyLockedError(None, "busy")])
    states: list[OutboxState] = []
    gate = threading.Event()

    def flaky() -> str:
        gate.wait()
        fault = next(failures, None)
        if fault is not None:
            raise fault
        done.append("a")
        return "a"

    box = Outbox("t", backoff=FAST)
    box.listener = states.append
    first = box.submit(flaky, "a")
    later = [box.submit(lambda n=n: done.append(n), n) for n in ("b", "c")]
    gate.set()
    assert box.wait_idle(30)
    assert done == ["a", "b", "c"]  # "a" failed twice and still went first
    assert first.done.result() == "a" and first.first.result() is First.KEPT
    assert all(t.done.exception() is None for t in later)
    phases = [s.phase for s in states]
    assert phases.count(Phase.WAITING) == 2 and phases[-1] is Phase.IDLE
    waiting = next(s for s in states if s.phase is Phase.WAITING)
    assert waiting.pending == 3 and waiting.headline == "Server unreachable"
    assert box.close() == 0


def test_a_refused_write_fails_alone_and_the_queue_goes_on() -> None:
    box = Outbox("t", backoff=FAST)
    late: list[tuple[Ticket[Any], BaseException]] = []
    box.on_failure = lambda ticket, error: late.append((ticket, error))

    def refuse() -> None:
        raise ValidationError(None, "changing a saved measurement needs a reason")

    with pytest.raises(ValidationError, match="needs a reason"):
        box.call(refuse, "refused")  # the caller waited: it gets the error, not on_failure
    assert box.call(lambda: 7, "next") == (First.SAVED, 7)
    assert late == []
    fire_and_forget = box.submit(refuse, "later")
    assert box.wait_idle(30)
    assert isinstance(fire_and_forget.done.exception(), ValidationError)
    assert [t for t, _ in late] == [fire_and_forget]
    box.close()


def test_call_reports_kept_while_the_server_is_away_then_a_late_failure_reaches_on_failure() -> (
    None
):
    away = threading.Event()
    away.set()
    late: list[BaseException] = []

    def write() -> None:
        if away.is_set():
            raise _lost(None)
        raise ConflictError(None, "measurement x: angle changed by someone else")

    box = Outbox("t", backoff=(3600.0,))  # no automatic retry: "Retry now" only
    box.on_failure = lambda _ticket, error: late.append(error)
    assert box.call(write, "w") == (First.KEPT, None)
    assert box.call(lambda: 1, "behind") == (First.KEPT, None)  # behind the waiting write
    state = box.state()
    assert state.phase is Phase.WAITING and state.pending == 2
    assert state.text(now=state.retry_at - 7.2) == (  # type: ignore[operator]
        "Server unreachable — 2 edits kept, retrying in 8 s"
    )
    away.clear()
    box.retry_now()
    assert box.wait_idle(30)
    assert [type(e) for e in late] == [ConflictError]
    assert box.state().text() == "All changes saved"
    box.close()


def test_discard_drops_the_kept_writes_and_says_how_many() -> None:
    box = Outbox("t", backoff=(3600.0,))

    def lost() -> None:
        raise _lost(None)

    tickets = [box.submit(lost, "w")] + [box.submit(lambda: None, str(i)) for i in range(2)]
    while box.state().phase is not Phase.WAITING:
        box.wait_idle(0.01)
    assert box.discard() == 3 and box.pending() == 0
    for ticket in tickets:
        with pytest.raises(CancelledError):
            ticket.done.result()
    assert box.state().phase is Phase.IDLE
    box.close()
    with pytest.raises(RuntimeError, match="closed"):
        box.submit(lambda: None, "after close")


# --- against the store, both back ends ----------------------------------------------------------
def _measurement(y: float = 200.0) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid="1.2.3", pixel_sha256="ab" * 32, template=Template.C2_C7,
        upper=EndplateLine((100.0, y), (160.0, y + 10)),
        lower=EndplateLine((100.0, 400.0), (160.0, 380.0)),
        spacing=(0.1, 0.1), spacing_source="PixelSpacing", rater="dr_a",
    )  # fmt: skip


@pytest.fixture
def study(study_location: Callable[[str], object]) -> Iterator[tuple[Study, int]]:
    with Study.create(study_location("s.cobbdesk"), actor="dr_a") as created:
        pid = created.add_patient("P0001", name="Doe^Jane")
        vid = created.add_visit(pid, "admission", visit_date="2026-01-05")
        fid = created.add_film(vid, sop_instance_uid="1.2.3", path="/f/a.dcm", region="cervical")
        yield created, fid


def _fail_next_commit(study: Study, *, applied: bool) -> list[int]:
    """The next COMMIT raises a lost connection — after committing when ``applied``."""
    dialect = study.engine.dialect
    real, fired = dialect.do_commit, [0]

    def do_commit(dbapi_connection: Any) -> None:
        if fired[0]:
            real(dbapi_connection)
            return
        fired[0] = 1
        if not applied:
            raise _lost(study.path)
        if study.server is None:
            real(dbapi_connection)
            raise _lost(study.path)
        import pg8000.exceptions

        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        real(dbapi_connection)
        with study.engine.connect() as other:  # from another connection, as a dying network
            other.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
        raise pg8000.exceptions.InterfaceError("network error")

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    return fired


def _audit_fields(study: Study, measurement_id: str) -> list[str]:
    """The audited fields of the measurement, one per audit row, in the trail's order."""
    with study.engine.connect() as conn:
        query = select(audit.c.field).where(audit.c.entity_id == measurement_id)
        return [str(f) for f in conn.execute(query.order_by(audit.c.seq)).scalars()]


EDITS = ("add", "adjust", "delete", "restore")


def _prepare(study: Study, fid: int, edit: str) -> tuple[CobbMeasurement, Callable[[], None]]:
    m = _measurement()
    if edit != "add":
        study.save_measurement(fid, m)
        study.measurements(fid)  # the baseline, as a viewer reads it
    if edit == "restore":
        study.delete_measurement(m.id, "wrong film")
    moved = replace(m, upper=EndplateLine((100.0, 205.0), (160.0, 215.0)))
    calls: dict[str, Callable[[], None]] = {
        "add": lambda: study.save_measurement(fid, m),
        "adjust": lambda: study.save_measurement(fid, moved, reason="endplate re-read"),
        "delete": lambda: study.delete_measurement(m.id, "duplicate"),
        "restore": lambda: study.restore_measurement(fid, m, "deleted by mistake"),
    }
    return m, calls[edit]


@pytest.mark.parametrize("applied", [True, False], ids=["ack-lost", "not-committed"])
@pytest.mark.parametrize("edit", EDITS)
def test_a_retried_write_is_applied_exactly_once(
    study: tuple[Study, int], edit: str, applied: bool
) -> None:
    s, fid = study
    m, call = _prepare(s, fid, edit)
    before = _audit_fields(s, m.id)
    fired = _fail_next_commit(s, applied=applied)
    box = Outbox("t", backoff=FAST)
    assert box.call(measurement_write(s, m.id, call), edit)[0] is First.KEPT
    assert box.wait_idle(60) and fired == [1]
    added = _audit_fields(s, m.id)[len(before) :]
    assert added and len(added) == len(set(added))  # one audited change, whatever happened
    with s.engine.connect() as conn:
        rows = conn.execute(select(measurements).where(measurements.c.id == m.id)).all()
    assert len(rows) == 1
    assert (rows[0].deleted_utc is not None) == (edit == "delete")
    assert s.verify_integrity().ok
    box.close()


@pytest.mark.parametrize("study_location", ["sqlite"], indirect=True)
def test_without_the_pinned_baseline_a_retry_is_taken_for_a_conflict(
    study: tuple[Study, int],
) -> None:
    """Why measurement_write exists: the store moved its baseline before the failed commit."""
    s, fid = study
    _, call = _prepare(s, fid, "adjust")
    _fail_next_commit(s, applied=False)
    with pytest.raises(ServerUnavailableError):
        call()
    with pytest.raises(ConflictError):
        call()  # a plain retry: its own unapplied change looks like someone else's


def test_film_store_through_the_outbox_keeps_edits_and_reports_conflicts_at_once(
    study: tuple[Study, int],
) -> None:
    s, fid = study
    box = Outbox("t", backoff=FAST)
    attach(s, box)
    store = StudyFilmStore(s, fid)
    m = _measurement()
    store.save(m, "")
    store.set_facing(Facing.LEFT, FacingSource.USER, "")
    with Study.open(s.location, actor="dr_b") as rival:
        theirs = replace(m, upper=EndplateLine((100.0, 190.0), (160.0, 200.0)))
        rival.save_measurement(fid, theirs, reason="re-read")
    mine = replace(m, upper=EndplateLine((100.0, 210.0), (160.0, 220.0)))
    with pytest.raises(ConflictError):
        store.save(mine, "my correction")
    current = store.current(m.id)  # read after the queue; the new baseline
    assert current is not None and current.upper == theirs.upper
    store.save(mine, "my correction")  # keep mine, knowingly
    _fail_next_commit(s, applied=True)
    late: list[Any] = []
    box.on_failure = lambda ticket, error: late.append(ticket.subject)
    store.delete(m.id, "duplicate")
    assert box.wait_idle(60) and late == []
    assert s.measurements(fid) == [] and s.verify_integrity().ok
    assert s.film(fid).facing == "left"
    attach(s, None)
    box.close()
    assert FilmWrite(fid, None, lambda: None).measurement_id is None
