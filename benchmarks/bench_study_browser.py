"""Study browser fill time for a large study: Study.open + overview() + filling the tree model.

Generates a study of N patients (default 100,000) with bulk inserts through the schema tables
(two visits per patient, a cervical and a lumbar film per visit, measurements on most films,
labs on most visits), then times, in a fresh process state, opening the study, building the
flat patient list (``patient_rows``, what the app fills the browser with) and filling the
browser (model + first layout and paint of the shown rows, which loads their visits and
films).  ``--eager`` times the former path (``Study.overview()`` of every patient).  Prints
the median of the repeats and its ratio to the goal (<= 1 s); asserts nothing.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_study_browser.py [--patients N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication
from sqlalchemy import insert

from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import films, labs, measurements, patients, visits

NOW = "2026-01-01T00:00:00Z"


def _measurement(film_id: int) -> dict[str, Any]:
    points = {
        f"{line}_{end}_{axis}": value
        for line, y in (("upper", 100.0), ("lower", 300.0))
        for end, x in (("anterior", 100.0), ("posterior", 160.0))
        for axis, value in (("x", x), ("y", y + (10.0 if end == "posterior" else 0.0)))
    }
    return {
        "id": f"m-{film_id}",
        "film_id": film_id,
        "rater": "r1",
        "template": "C2-C7",
        "spacing_source": "none",
        "angle_deg": 10.0,
        "algorithm_version": "1",
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
            insert(measurements), [_measurement(f["id"]) for f in film_rows if f["id"] % 7]
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


def fill_once(path: Path, eager: bool) -> tuple[float, float, float, int]:
    from cobbdesk.core.store.overview import patient_rows
    from cobbdesk.gui.study.browser import StudyBrowser
    from cobbdesk.gui.study.model import StudySource

    browser = StudyBrowser()
    browser.resize(900, 700)
    browser.show()
    start = time.perf_counter()
    study = Study.open(path)
    opened = time.perf_counter()
    patients = study.overview() if eager else patient_rows(study)
    built = time.perf_counter()
    if eager:
        browser.set_overview(patients)  # type: ignore[arg-type]
    else:
        browser.set_rows(patients, StudySource(study))  # type: ignore[arg-type]
    QApplication.processEvents()  # first layout and paint of the shown rows (loads them)
    done = time.perf_counter()
    rows = browser.model.rowCount()
    study.close()
    browser.close()
    browser.deleteLater()
    return opened - start, built - opened, done - built, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--eager", action="store_true", help="the old path: overview() of all")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.cobbdesk"
        t0 = time.perf_counter()
        generate(path, args.patients)
        print(f"generated {args.patients:,} patients in {time.perf_counter() - t0:.1f} s")
        runs = [fill_once(path, args.eager) for _ in range(args.repeat)]
    assert app is not None
    labels = ("Study.open", "overview()" if args.eager else "patient_rows()", "fill + paint")
    for label, values in zip(labels, list(zip(*runs, strict=True))[:3], strict=True):
        print(f"{label:>14}: median {statistics.median(values) * 1000:7.1f} ms")
    totals = [sum(r[:3]) for r in runs]
    print(
        f"{'total':>14}: median {statistics.median(totals) * 1000:7.1f} ms "
        f"(max {max(totals) * 1000:.1f} ms) for {runs[0][3]:,} patient rows; "
        f"ratio to the goal of <= 1 s: {statistics.median(totals):.2f}"
    )


if __name__ == "__main__":
    main()
