"""Compare-view benchmarks on 7.5 MP films (3000 × 2500, 12 bit, synthetic cervical spines).

1. Next-patient switch: a study of 3 patients (admission + month 3 each); the time from
   ``view.next_patient()`` until both films are shown *and painted*, with the next patient's
   films prefetched by the view.  Several rounds (show patient 1, then next, next); median.
   Goal: <= 0.5 s.
2. Memory: RSS (VmRSS from /proc/self/status) of an empty CompareView, then with a patient's
   two films open (and the next patient's two prefetched, as in use).  Goal: <= 150 MiB more.

3. Memory as the app runs (#17): the app decodes in its crash-isolated worker process
   (:mod:`cobbdesk.core.dicom.isolated`), so a thread loader's RSS misses the decoder's memory.
   A fresh process walks through five patients (show, next ×4, each painted with the next
   patient prefetched) with ``FilmLoader(isolated=True)``; the peak RSS (VmHWM from
   ``/proc/PID/status``) of the app process and of every worker process seen is printed.

Run: ``python benchmarks/bench_compare.py [--rounds N] [--isolated]`` (headless: offscreen).
``--isolated`` times the switch with the worker process too; figure 2 decodes in a thread, so
every array counts in the one process.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.store import Study
from cobbdesk.gui.compare.view import CompareView
from cobbdesk.gui.workers import FilmLoader
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

ROWS, COLUMNS = 3000, 2500
SWITCH_GOAL_S = 0.5
MEMORY_GOAL_MIB = 150.0


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no VmRSS in /proc/self/status (Linux only)")


def build_study(folder: Path, patients: int = 3) -> Path:
    """``patients`` patients, each with a 7.5 MP cervical film at admission and month 3."""
    spines = [make_lateral_spine("cervical", angle, rows=ROWS, columns=COLUMNS, seed=n)
              for n, angle in enumerate((12.0, 19.0))]  # fmt: skip
    path = folder / "bench.cobbdesk"
    study = Study.create(path, "bench")
    for p in range(1, patients + 1):
        pid = study.add_patient(f"B{p:03d}")
        for n, kind in enumerate(("admission", "month3")):
            visit = study.add_visit(pid, kind, visit_date=f"2026-0{1 + 3 * n}-0{p}")
            uid = f"1.2.826.0.1.3680043.10.{p}.{n}"
            file = write_dicom(spines[n], folder / f"b{p}_{kind}.dcm", sop_instance_uid=uid)
            film = read_film(file)
            study.add_film(visit, sop_instance_uid=uid, path=file, region="cervical",
                           pixel_sha256=film.pixel_sha256)  # fmt: skip
    study.close()
    return path


def wait(app: QApplication, condition: object, timeout: float = 60.0) -> None:
    end = time.perf_counter() + timeout
    while not condition():  # type: ignore[operator]
        if time.perf_counter() > end:
            raise SystemExit("timed out waiting for films")
        app.processEvents()
        time.sleep(0.001)


def prefetched(view: CompareView) -> bool:
    return not view.cache.pending


def paint(app: QApplication, view: CompareView) -> None:
    for side in view.sides:
        side.view.viewport().repaint()
    app.processEvents()


def switch_times(app: QApplication, view: CompareView, rounds: int) -> list[float]:
    first = view.overview[0].patient.id
    times = []
    for _ in range(rounds):
        view.show_patient(first, "cervical")
        wait(app, view.films_shown)
        for _step in range(len(view.overview) - 1):
            wait(app, lambda: prefetched(view))
            paint(app, view)
            start = time.perf_counter()
            view.next_patient()
            wait(app, view.films_shown)
            paint(app, view)
            times.append(time.perf_counter() - start)
    return times


def flush(app: QApplication) -> None:
    """Run deferred deletions (old scenes, controllers) and collect garbage."""
    for _ in range(3):
        app.processEvents()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def memory(study_path: Path) -> tuple[float, float]:
    """RSS of this (fresh) process: empty compare view, then one patient's films open."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with Study.open(study_path, "bench") as study:
        loader = FilmLoader(isolated=False)
        view = CompareView(study, "bench", loader)
        view.resize(1500, 900)
        view.show()
        import cobbdesk.core.dicom.reader  # (count code as part of the empty app)
        import cobbdesk.gui.viewer.film_item  # noqa: F401

        flush(app)
        empty = rss_mib()
        view.show_patient(view.overview[0].patient.id, "cervical")
        wait(app, view.films_shown)
        wait(app, lambda: prefetched(view))
        paint(app, view)
        flush(app)
        full = rss_mib()
        close(app, view, loader)
    return empty, full


def close(app: QApplication, view: CompareView, loader: FilmLoader) -> None:
    view.close_films()
    loader.close()
    view.close()
    flush(app)


def status_mib(pid: int | str, key: str) -> float:
    """A ``/proc/PID/status`` memory line (``VmRSS``, ``VmHWM``) in MiB (Linux only)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) / 1024
    raise SystemExit(f"no {key} in /proc/{pid}/status (Linux only)")


def worker_pids(loader: FilmLoader) -> list[int]:
    """The decoding worker processes of ``loader`` (pool internals: a benchmark only)."""
    pool = getattr(getattr(loader, "_isolated", None), "_pool", None)
    return list(getattr(pool, "_processes", None) or {})


def worker_walk(study_path: Path) -> tuple[float, float, float]:
    """(app RSS before, app peak, worker peak) in MiB over a walk through every patient."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    peaks: dict[int, float] = {}

    def sample() -> None:
        for pid in worker_pids(loader):
            peaks[pid] = max(peaks.get(pid, 0.0), status_mib(pid, "VmHWM"))

    with Study.open(study_path, "bench") as study:
        loader = FilmLoader(isolated=True)
        view = CompareView(study, "bench", loader)
        view.resize(1500, 900)
        view.show()
        flush(app)
        before = rss_mib()
        view.show_patient(view.overview[0].patient.id, "cervical")
        for step in range(len(view.overview)):
            if step:
                view.next_patient()
            wait(app, view.films_shown)
            wait(app, lambda: prefetched(view))
            paint(app, view)
            sample()
        app_peak = status_mib("self", "VmHWM")
        close(app, view, loader)
    return before, app_peak, max(peaks.values(), default=float("nan"))


def report_worker(study_path: Path) -> None:
    child = subprocess.run([sys.executable, __file__, "--worker-memory", str(study_path)],
                           capture_output=True, text=True, check=True)  # fmt: skip
    before, app_peak, worker = (float(v) for v in child.stdout.split())
    print(f"as the app runs (isolated worker process), five patients walked: app process "
          f"{before:.0f} MiB before, peak {app_peak:.0f} MiB (+{app_peak - before:.0f}); "
          f"worker process peak {worker:.0f} MiB; together at most "
          f"{app_peak + worker:.0f} MiB")  # fmt: skip


def report_switch(times: list[float]) -> None:
    median = statistics.median(times)
    verdict = "OK" if median <= SWITCH_GOAL_S else "MISSED"
    print(f"next-patient switch (prefetched; shown + painted): median {median * 1000:.0f} ms "
          f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}, n={len(times)}); "
          f"goal <= {SWITCH_GOAL_S * 1000:.0f} ms: {verdict}")  # fmt: skip


def report_memory(study_path: Path) -> None:
    child = subprocess.run([sys.executable, __file__, "--memory", str(study_path)],
                           capture_output=True, text=True, check=True)  # fmt: skip
    empty, full = (float(v) for v in child.stdout.split())
    growth = full - empty
    verdict = "OK" if growth <= MEMORY_GOAL_MIB else "MISSED"
    print(f"RSS (fresh process): empty compare view {empty:.0f} MiB; a patient's two 7.5 MP films "
          f"open (+ the next patient's two prefetched) {full:.0f} MiB: +{growth:.0f} MiB; "
          f"goal <= {MEMORY_GOAL_MIB:.0f} MiB: {verdict}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--isolated", action="store_true", help="decode in a worker process")
    parser.add_argument("--memory", type=Path, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--worker-memory", type=Path, help=argparse.SUPPRESS)  # the child
    args = parser.parse_args(argv)
    if args.memory:
        print(*memory(args.memory))
        return 0
    if args.worker_memory:
        print(*worker_walk(args.worker_memory))
        return 0
    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        path = build_study(Path(tmp))
        print(f"built 3 patients × 2 films of {ROWS}×{COLUMNS} in "
              f"{time.perf_counter() - started:.1f} s")  # fmt: skip
        with Study.open(path, "bench") as study:
            loader = FilmLoader(isolated=args.isolated)
            view = CompareView(study, "bench", loader)
            view.resize(1500, 900)
            view.show()
            report_switch(switch_times(app, view, args.rounds))
            close(app, view, loader)
        report_memory(path)
        walk = build_study(Path(tmp) / "walk", patients=5)
        report_worker(walk)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # PySide6 sometimes crashes while finalizing after Qt objects with threaded signal traffic
    # were deleted ("bool_dealloc" during interpreter shutdown); the figures are printed.
    os._exit(code)
