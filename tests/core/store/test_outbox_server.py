"""The write queue against real server faults: a server stopped and started again mid-queue,
a connection terminated while its write waits for a lock, a statement timeout.

These tests stop their own throwaway cluster (not the session's shared one).  After recovery
every acknowledged edit is in the study exactly once, in order, and ``verify`` finds the audit
chain and the data intact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from cobbdesk.core.compare.saver import StudyFilmStore
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.outbox import First, Outbox, Phase, attach, measurement_write
from cobbdesk.core.store.pg_dialect import WRITE_LOCK_KEY

pytestmark = pytest.mark.postgres


class _Restartable:
    """A throwaway cluster (tests/pgcluster.py) that can be stopped and started again."""

    def __init__(self) -> None:
        from tests.pgcluster import Cluster

        self.cluster = Cluster()
        self.cluster.start()
        self.args = self._args()

    def _args(self) -> list[str]:
        c = self.cluster
        assert c.bin is not None
        return [str(c.bin / "postgres"), "-D", str(c.data), "-k", str(c.socket_dir),
                "-c", "listen_addresses=", "-c", "fsync=off"]  # fmt: skip

    def stop(self) -> None:
        process = self.cluster.process
        assert process is not None
        os.kill(process.pid, signal.SIGINT)  # fast shutdown: sessions are terminated
        process.wait(timeout=60)

    def start(self) -> None:
        c = self.cluster
        c.process = subprocess.Popen(self.args, stdout=c.log, stderr=subprocess.STDOUT,
                                     **c._as_user())  # fmt: skip
        for _ in range(600):  # ready when it answers (not a timing assertion: a bound)
            if os.path.exists(c.socket) and c._ready():
                return
            time.sleep(0.1)
        raise RuntimeError("postgres did not come back")


@pytest.fixture(scope="module")
def server(pg_cluster: Any) -> Iterator[_Restartable]:  # pg_cluster: skip without PostgreSQL
    own = _Restartable()
    yield own
    own.cluster.stop()


def _measurement(n: int) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid="1.2.3", pixel_sha256="ab" * 32, template=Template.C2_C7,
        upper=EndplateLine((100.0, 200.0 + n), (160.0, 210.0)),
        lower=EndplateLine((100.0, 400.0), (160.0, 380.0)),
        spacing=(0.1, 0.1), spacing_source="PixelSpacing", rater="dr_a",
    )  # fmt: skip


def _open(url: str) -> tuple[Study, int]:
    with Study.create(url, actor="dr_a") as study:
        pid = study.add_patient("P0001")
        vid = study.add_visit(pid, "admission", visit_date="2026-01-05")
        fid = study.add_film(vid, sop_instance_uid="1.2.3", path="/f/a.dcm", region="cervical")
    return Study.open(url, actor="dr_a"), fid


def test_server_stopped_mid_queue_then_started_loses_and_doubles_nothing(
    server: _Restartable,
) -> None:
    study, fid = _open(server.cluster.new_study_url())
    box = Outbox("t", backoff=(3600.0,))  # retried by retry_now once the server is back
    attach(study, box)
    store = StudyFilmStore(study, fid)
    made = [_measurement(i) for i in range(6)]
    store.save(made[0], "")
    assert box.state().phase is Phase.IDLE
    server.stop()
    try:
        for m in made[1:4]:
            store.save(m, "")  # kept: the session goes on as if stored
        store.save(replace(made[1], upper=EndplateLine((100.0, 250.0), (160.0, 210.0))), "move")
        store.delete(made[2].id, "duplicate")
        state = box.state()
        assert state.phase is Phase.WAITING and state.pending == 5
        assert state.text().startswith("Server unreachable — 5 edits kept, retrying in")
    finally:
        server.start()
    for m in made[4:]:
        store.save(m, "")
    box.retry_now()
    assert box.wait_idle(120)
    stored = {m.id: m for m in study.measurements(fid)}
    assert set(stored) == {made[i].id for i in (0, 1, 3, 4, 5)}  # made[2] deleted, in order
    moved = EndplateLine((100.0, 250.0), (160.0, 210.0))
    assert stored[made[1].id].upper == moved  # the move came after the insert
    assert study.verify_integrity().ok
    attach(study, None)
    box.close()
    study.close()


def test_a_write_whose_connection_is_terminated_while_it_waits_is_retried_once(
    server: _Restartable,
) -> None:
    url = server.cluster.new_study_url()
    study, fid = _open(url)
    box = Outbox("t", backoff=(0.2,), first_wait_s=0.0)
    holder = server.cluster.connect(database=server.cluster.shared_db)
    holder.autocommit = False
    cursor = holder.cursor()
    cursor.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")  # another writer's lock
    m = _measurement(0)
    save = measurement_write(study, m.id, lambda: study.save_measurement(fid, m))
    assert box.call(save, "save")[0] is First.KEPT
    waiting: list[Any] = []
    for _ in range(600):  # the save is blocked on the lock: end its connection
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'cobbdesk' "
                       "AND wait_event_type = 'Lock'")  # fmt: skip
        waiting = cursor.fetchall()
        if waiting:
            break
        time.sleep(0.05)
    assert len(waiting) == 1
    cursor.execute(f"SELECT pg_terminate_backend({waiting[0][0]})")
    for _ in range(600):
        if box.state().phase is Phase.WAITING:
            break
        time.sleep(0.05)
    assert box.state().headline == "Server unreachable"
    holder.rollback()  # the other writer is done
    holder.close()
    assert box.wait_idle(120)
    assert [x.id for x in study.measurements(fid)] == [m.id]
    assert study.verify_integrity().ok
    box.close()
    study.close()


def test_a_statement_timeout_is_retried_until_the_server_answers(server: _Restartable) -> None:
    url = server.cluster.new_study_url()
    study, fid = _open(url)
    study.close()
    study = Study.open(url + "&statement_timeout=300", actor="dr_a")
    box = Outbox("t", backoff=(0.2,), first_wait_s=0.0)
    holder = server.cluster.connect(database=server.cluster.shared_db)
    holder.autocommit = False
    cursor = holder.cursor()
    cursor.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
    m = _measurement(0)
    box.submit(measurement_write(study, m.id, lambda: study.save_measurement(fid, m)), "save")
    for _ in range(600):
        if box.state().phase is Phase.WAITING:
            break
        time.sleep(0.05)
    assert box.state().headline == "Server did not answer in time"
    holder.rollback()
    holder.close()
    assert box.wait_idle(120)
    assert [x.id for x in study.measurements(fid)] == [m.id]
    assert study.verify_integrity().ok
    box.close()
    study.close()
