"""Study browser fill time for a large study: Study.open + overview() + filling the tree model.

Generates a study of N patients (default 100,000) with bulk inserts through the schema tables
(two visits per patient, a cervical and a lumbar film per visit, measurements on most films,
labs on most visits), then times, in a fresh process state, opening the study, building the
flat patient list (``patient_list``, what the app fills the browser with) and filling the
browser (model + first layout and paint of the shown rows, which loads their visits and
films), then completeness and film flags (``--mode``: see :func:`fill_once`).  Prints the
medians of open, first paint and completeness-ready, the load average and the first paint's
ratio to the goal (<= 1 s); asserts nothing.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_study_browser.py [--patients N]
        [--study PATH]   # PATH is generated once when missing, then reused by later runs

Also times building the redaction index (:func:`cobbdesk.core.redact.remember_joined`; since
#17 no part of ``Study.open``: the GUI builds it on a worker after the first paint) and
:func:`~cobbdesk.core.redact.redact` of a typical log line with every patient remembered, and
(:func:`interactions`) what a user does in the filled browser: End, expanding a patient,
filtering and clearing the filter.  ``--paint-only`` skips completeness and film flags.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication
from sqlalchemy import insert

from cobbdesk.core.measure.geometry import cobb_angle
from cobbdesk.core.measure.measurement import ALGORITHM_VERSION
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import films, labs, measurements, patients, visits

NOW = "2026-01-01T00:00:00Z"


def _measurement(film_id: int, region: str) -> dict[str, Any]:
    """A measurement of the film's region whose stored angle is its points' angle, except a
    few: every 97th is implausible, every 101st has a stale stored angle, every 211th uses the
    other region's template (the flags the browser shows)."""
    slope = 5.0 + film_id % 23 if film_id % 97 else 60.0  # lordosis of a few degrees to 70°
    ends = (
        (("upper", "anterior"), (100.0, 100.0)), (("upper", "posterior"), (160.0, 100.0 + slope)),
        (("lower", "anterior"), (100.0, 300.0)), (("lower", "posterior"), (160.0, 300.0 - slope)),
    )  # fmt: skip
    points = {f"{line}_{end}_{axis}": xy[i] for (line, end), xy in ends for i, axis in
              enumerate("xy")}  # fmt: skip
    angle = cobb_angle(((100.0, 100.0), (160.0, 100.0 + slope)),
                       ((100.0, 300.0), (160.0, 300.0 - slope)))  # fmt: skip
    template = "C2-C7" if region == "cervical" else "L1-S1"
    if film_id % 211 == 0:
        template = "L1-S1" if template == "C2-C7" else "C2-C7"
    return {
        "id": f"m-{film_id}",
        "film_id": film_id,
        "rater": "r1",
        "template": template,
        "spacing_source": "none",
        "angle_deg": angle + (1.0 if film_id % 101 == 0 else 0.0),
        "algorithm_version": ALGORITHM_VERSION,
        "created_utc": NOW,
        "updated_utc": NOW,
        **points,
    }


def generate(path: Path, n: int) -> None:
    """N patients × (admission, month 3) × (cervical, lumbar), in one transaction."""
    with Study.create(path, actor="bench") as study, study.transaction() as conn:
        conn.execute(
            insert(patients),
            [
                {"id": p, "study_id": f"P{p:05d}", "name": f"Name^{p}", "created_utc": NOW}
                for p in range(1, n + 1)
            ],
        )
        visit_rows = [
            {
                "id": 2 * p - k,
                "patient_id": p,
                "kind": kind,
                "label": "",
                "visit_date": date,
                "created_utc": NOW,
            }
            for p in range(1, n + 1)
            for k, (kind, date) in enumerate(
                (("month3", "2026-04-01"), ("admission", "2026-01-01"))
            )
        ]
        conn.execute(insert(visits), visit_rows)
        film_rows = [
            {
                "id": 2 * v["id"] - r,
                "visit_id": v["id"],
                "sop_instance_uid": f"1.2.{v['id']}.{r}",
                "path": f"/films/{v['id']}-{r}.dcm",
                "region": region,
                "view": "LL",
                "created_utc": NOW,
                "pixel_sha256": f"{v['id'] * 2 - r:064x}",
            }
            for v in visit_rows
            for r, region in enumerate(("lumbar", "cervical"))
        ]
        conn.execute(insert(films), film_rows)
        conn.execute(
            insert(measurements),
            [_measurement(f["id"], f["region"]) for f in film_rows if f["id"] % 7],
        )
        conn.execute(
            insert(labs),
            [
                {
                    "visit_id": v["id"],
                    "name": "vas",
                    "value_num": 5.0,
                    "unit": "",
                    "updated_utc": NOW,
                }
                for v in visit_rows
                if v["id"] % 5
            ],
        )


def _browser() -> Any:
    from cobbdesk.gui.study.browser import StudyBrowser

    browser = StudyBrowser()
    browser.resize(900, 700)
    browser.show()
    return browser


def _close(study: Study, browser: Any) -> None:
    study.close()
    browser.close()
    browser.deleteLater()


def fill_once(path: Path, mode: str) -> tuple[float, float, float, float, int, float, float]:
    """(Study.open, first paint, completeness ready, flags ready — each from the start — rows,
    then the UI thread's CPU time to open and to first paint: ``time.thread_time``, what the
    wall time would be on an idle machine, the study file being in the page cache).

    ``new``: the app's path — :func:`patient_list`, paint, then completeness and film flags
    from a :class:`BackgroundJob` on a worker thread while the UI thread keeps running.
    ``lazy``: the former path — :func:`patient_rows` then paint, flags synchronously after.
    ``eager``: ``Study.overview()`` of every patient, then paint.  ``paint``: the app's path
    up to the first paint only.
    """
    from cobbdesk.core.store.overview import patient_completeness, patient_list, patient_rows
    from cobbdesk.gui.study.jobs import BackgroundJob
    from cobbdesk.gui.study.model import StudySource
    from cobbdesk.gui.study.session import film_flags_of

    browser = _browser()
    start, cpu_start = time.perf_counter(), time.thread_time()
    study = Study.open(path)
    opened, cpu_opened = time.perf_counter(), time.thread_time()
    if mode == "eager":
        browser.set_overview(study.overview())
    else:
        rows = patient_rows(study) if mode == "lazy" else patient_list(study)
        browser.set_rows(rows, StudySource(study))
    QApplication.processEvents()  # first layout and paint of the shown rows (loads them)
    painted, cpu_painted = time.perf_counter(), time.thread_time()
    if mode == "new":  # as StudySession.refresh: two jobs on one worker thread
        done: list[float] = []
        jobs = [
            BackgroundJob(lambda _p, _c: patient_completeness(study)),
            BackgroundJob(lambda _p, _c: film_flags_of(study)),
        ]
        for job, apply in zip(jobs, (browser.set_completeness, browser.model.set_flags),
                              strict=True):  # fmt: skip
            job.finished.connect(lambda r, a=apply: (a(r), done.append(time.perf_counter())))
            job.failed.connect(lambda e: done.append(time.perf_counter()))
        thread = threading.Thread(target=lambda: [job.run() for job in jobs])
        thread.start()
        while len(done) < 2:
            QApplication.processEvents()
            time.sleep(0.002)
        thread.join()
        complete_at = done[0]
    elif mode == "paint":
        complete_at = painted
    else:
        complete_at = painted
        browser.model.set_flags(film_flags_of(study))
    QApplication.processEvents()
    ready = time.perf_counter()
    count = browser.model.rowCount()
    _close(study, browser)
    cpu = (cpu_opened - cpu_start, cpu_painted - cpu_start)
    return opened - start, painted - start, complete_at - start, ready - start, count, *cpu


def interactions(path: Path) -> None:
    """UI-thread wall time of End (to the last patient: every row is in the model), expanding
    the last patient (its visits read synchronously here: the app reads them on a worker),
    refiltering by "P5" and "P55555" and clearing the filter (each lays out the matching rows),
    in the filled browser; the natural order's last row is printed (P100000 at 100,000)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from cobbdesk.core.store.overview import patient_list
    from cobbdesk.gui.study.model import StudySource

    browser = _browser()
    study = Study.open(path)
    browser.set_rows(patient_list(study), StudySource(study))
    QApplication.processEvents()
    tree, model = browser.tree, browser.model
    tree.setFocus()
    tree.setCurrentIndex(model.index(0, 0))
    steps = (
        ("End", lambda: QTest.keyClick(tree, Qt.Key.Key_End)),
        ("expand the last patient", lambda: tree.expand(tree.currentIndex())),
        ("filter 'P5'", lambda: model.set_filter("P5", False)),
        ("filter 'P55555'", lambda: model.set_filter("P55555", False)),
        ("clear the filter", lambda: model.set_filter("", False)),
    )
    for label, step in steps:
        t0 = time.perf_counter()
        step()
        QApplication.processEvents()
        print(f"{label:>27}: {(time.perf_counter() - t0) * 1000:7.1f} ms "
              f"({model.rowCount():,} rows)")  # fmt: skip
    print(f"{'last patient':>27}: {model.index(model.rowCount() - 1, 0).data()}")
    _close(study, browser)


def time_redaction(path: Path, repeat: int) -> None:
    """Median time of remembering every patient's identifiers as ``Study.open`` does (one
    aggregate query + :func:`~cobbdesk.core.redact.remember_joined`), and of redacting one line.
    """
    from cobbdesk.core import redact
    from cobbdesk.core.store.overview import patient_identifiers

    with Study.open(path, read_only=True) as study:
        remembers = []
        for _ in range(repeat):
            redact.forget_all()
            t0 = time.perf_counter()
            redact.remember_joined(*patient_identifiers(study))
            remembers.append(time.perf_counter() - t0)
    lines = [
        "Film #1234 opened with 2 saved measurement(s) for Name^4711 (P04711), study big",
        "Opened study big.cobbdesk",
        "Saved to study (film #77). Patient ID P00077, visit admission, lumbar L1-S1 +52.3°",
    ]
    n = 2000
    per_line = []
    for line in lines:
        t0 = time.perf_counter()
        for _ in range(n):
            redact.redact(line)
        per_line.append((time.perf_counter() - t0) / n)
    shown = redact.redact(lines[0])
    redact.forget_all()
    print(
        f"{'remember (Study.open)':>27}: median {statistics.median(remembers) * 1000:7.1f} ms; "
        f"redact() of a log line {statistics.median(per_line) * 1e6:.1f} µs "
        f"(max {max(per_line) * 1e6:.1f} µs; {shown!r})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--mode", choices=("new", "lazy", "eager"), default="new")
    parser.add_argument("--study", type=Path, help="study to reuse (generated when missing)")
    parser.add_argument("--paint-only", action="store_true",
                        help="time open and first paint only (no completeness, flags, redaction)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        path = args.study or Path(folder) / "big.cobbdesk"
        if not path.exists():
            t0 = time.perf_counter()
            generate(path, args.patients)
            print(f"generated {args.patients:,} patients in {time.perf_counter() - t0:.1f} s")
        print(f"load average before: {os.getloadavg()}")
        mode = "paint" if args.paint_only else args.mode
        runs = [fill_once(path, mode) for _ in range(args.repeat)]
        print(f"load average after: {os.getloadavg()}")
        if not args.paint_only:
            time_redaction(path, args.repeat)
        interactions(path)
    assert app is not None
    labels = ("Study.open", "first paint", "completeness ready", "flags ready")
    for label, values in zip(labels, list(zip(*runs, strict=True))[:4], strict=True):
        print(f"{label:>27} (from open): median {statistics.median(values) * 1000:7.1f} ms "
              f"(max {max(values) * 1000:.1f} ms)")  # fmt: skip
    for label, index in (("open, UI thread CPU", 5), ("first paint, UI thread CPU", 6)):
        cpu = statistics.median(r[index] for r in runs)
        print(f"{label:>27}: median {cpu * 1000:7.1f} ms")
    paint = statistics.median(r[1] for r in runs)
    paint_cpu = statistics.median(r[6] for r in runs)
    print(f"mode {mode}, {runs[0][4]:,} rows handed to the view; first paint / goal (<= 1 s): "
          f"{paint:.2f} wall, {paint_cpu:.2f} UI-thread CPU")  # fmt: skip


if __name__ == "__main__":
    main()
