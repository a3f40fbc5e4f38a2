"""The 10,000-patient study on a PostgreSQL server, each figure as a ratio to the same on SQLite.

Generates the study of ``bench_export`` (10,000 patients, 2 visits, 2 films per visit,
measurements and labs), copies it to a throwaway cluster (tests/pgcluster.py: Unix socket,
fsync off) with ``cobbdesk copy``, then times on both back ends in the same run:

1. open + browser fill: ``Study.open`` + ``overview()`` (every patient's visits, films and
   counts); and the browser's own path (:meth:`StudySession.refresh`): open + the patient list
   (first paint) + the completeness of every patient (filled in from a background job);
2. wide export + statistics: ``cobbdesk export --format wide --stats-json`` in process;
3. 1,000 measurement saves from two client processes at once (500 each), every save its own
   transaction with its audit rows; p50/p95 per save.

Prints medians of the repeats and the ratios; asserts nothing (goals: ≤ 2× for 1 and 2,
saves ≤ 20 ms p95).

    .venv/bin/python benchmarks/bench_postgres.py [--patients N] [--repeat R]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from bench_export import generate  # noqa: E402

from cobbdesk.cli.main import main as cli_main  # noqa: E402
from cobbdesk.core.store import Study  # noqa: E402
from tests.pgcluster import Cluster  # noqa: E402

_SAVER = """
import json, sys, time, uuid
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
location, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
times = []
with Study.open(location, actor=f"bench{first}") as study:
    films = study.films()[first:first + count]
    for film in films:
        m = CobbMeasurement(sop_instance_uid=film.sop_instance_uid, pixel_sha256="ab" * 32,
            template=Template.C2_C7, upper=EndplateLine((100.0, 200.0), (160.0, 210.0)),
            lower=EndplateLine((100.0, 400.0), (160.0, 380.0)), spacing=(0.1, 0.1),
            spacing_source="PixelSpacing", rater=f"bench{first}", id=str(uuid.uuid4()))
        start = time.perf_counter()
        study.save_measurement(film.id, m)
        times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def _timed(action: object, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def _open_and_fill(location: object) -> None:
    with Study.open(location) as study:  # type: ignore[arg-type]
        study.overview()


def _open_and_list(location: object) -> None:
    from cobbdesk.core.store.overview import patient_completeness, patient_list

    with Study.open(location) as study:  # type: ignore[arg-type]
        patient_list(study)
        patient_completeness(study)


def _export(location: object, out: Path) -> None:
    args = ["export", str(location), "--format", "wide", "-o", str(out),
            "--stats-json", str(out.with_suffix(".json"))]  # fmt: skip
    out.unlink(missing_ok=True)
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(args) == 0


def _saves(location: object, per_client: int, second: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    clients = [subprocess.Popen([sys.executable, "-c", _SAVER, str(location), str(first),
                                 str(per_client)], stdout=subprocess.PIPE, env=env)
               for first in (0, second)]  # fmt: skip
    times: list[float] = []
    for client in clients:
        out, _ = client.communicate()
        assert client.returncode == 0
        times += json.loads(out)
    return times


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cluster = Cluster()
    cluster.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            file = Path(tmp) / "bench.cobbdesk"
            generate(file, args.patients)
            server = cluster.url(cluster.new_database())
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                assert cli_main(["copy", str(file), server]) == 0
            print(f"copy file -> server ({args.patients} patients): "
                  f"{time.perf_counter() - start:.1f} s")  # fmt: skip
            figures = {}
            for name, where in (("sqlite", file), ("postgresql", server)):
                _open_and_fill(where)  # warm-up
                fill = _timed(lambda w=where: _open_and_fill(w), args.repeat)
                listed = _timed(lambda w=where: _open_and_list(w), args.repeat)
                export = _timed(lambda w=where: _export(w, Path(tmp) / "w.csv"), args.repeat)
                saves = _saves(where, 500, 2 * args.patients)
                figures[name] = (fill, export, _pct(saves, 0.5), _pct(saves, 0.95), len(saves),
                                 listed)  # fmt: skip
            _report(figures)
    finally:
        cluster.stop()


def _report(figures: dict[str, tuple[float, float, float, float, int, float]]) -> None:
    lite, pg = figures["sqlite"], figures["postgresql"]
    print(f"open + browser data: sqlite {lite[0]:.2f} s, server {pg[0]:.2f} s, "
          f"ratio {pg[0] / lite[0]:.2f}x (goal <= 2x)")  # fmt: skip
    print(f"open + patient list + completeness (the browser's path): sqlite {lite[5]:.2f} s, "
          f"server {pg[5]:.2f} s, ratio {pg[5] / lite[5]:.2f}x (goal <= 2x)")  # fmt: skip
    print(f"wide export + stats: sqlite {lite[1]:.2f} s, server {pg[1]:.2f} s, "
          f"ratio {pg[1] / lite[1]:.2f}x (goal <= 2x)")  # fmt: skip
    print(f"{pg[4]} saves, 2 clients at once: sqlite p50 {lite[2]:.1f} ms p95 {lite[3]:.1f} ms;"
          f" server p50 {pg[2]:.1f} ms p95 {pg[3]:.1f} ms (goal p95 <= 20 ms); "
          f"p95 ratio {pg[3] / lite[3]:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
