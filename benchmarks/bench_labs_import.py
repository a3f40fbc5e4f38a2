"""Issue 12 benchmark: a 100,000-row labs CSV imported into a study (goal ≤ 10 s).

The study holds 50,000 patients with an admission and a month-3 visit each (written in one
audited transaction, as a film import leaves them); the file has one row per visit with seven
lab values (decimal points, a quoted thousands-grouped CPK such as ``"1,250"`` in some rows).
Measured in the same run:

* the anchor: a plain ``csv.reader`` pass over the same file (read, decode, split);
* :func:`cobbdesk.core.importing.csv_import.import_labs` into the study (validation of every
  row, chunked transactions, audit chained in memory), then ``verify_integrity`` once.

Prints figures and the ratio to the anchor; asserts nothing.

    python benchmarks/bench_labs_import.py [--rows 100000]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from cobbdesk.core.importing.csv_import import import_labs
from cobbdesk.core.store import Study
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.schema import patients, visits


def make_study(path: Path, n_patients: int) -> Study:
    study = Study.create(path, actor="bench")
    now = audit_log.utc_now()
    entries: list[audit_log.Change] = []
    with study.transaction() as conn:
        people = [{"id": i, "study_id": f"P{i:06d}", "created_utc": now}
                  for i in range(1, n_patients + 1)]  # fmt: skip
        conn.execute(patients.insert(), people)
        rows = []
        for i in range(1, n_patients + 1):
            for j, kind in enumerate(("admission", "month3")):
                rows.append({"id": 2 * i - 1 + j, "patient_id": i, "kind": kind, "label": "",
                             "visit_date": None, "created_utc": now})  # fmt: skip
        conn.execute(visits.insert(), rows)
        entries += [("patient", p["id"], inserted("patient", p), "bench") for p in people]
        entries += [("visit", v["id"], inserted("visit", v), "bench") for v in rows]
        audit_log.record_many(conn, study.actor, entries)
    return study


def make_csv(path: Path, n_rows: int) -> None:
    lines = ["study_id,visit,vas,neutrophil,lymphocyte,cpk,crp,esr,creatinine"]
    for n in range(n_rows):
        patient, kind = n // 2 + 1, ("admission", "month3")[n % 2]
        cpk = f'"1,{n % 900 + 100}"' if n % 7 == 0 else str(n % 900 + 40)
        lines.append(
            f"P{patient:06d},{kind},{n % 11},{(n % 80) / 10 + 1},{(n % 30) / 10 + 0.5},{cpk},"
            f"{(n % 500) / 10},{n % 120},{(n % 20) / 10 + 0.4}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def anchor(path: Path) -> float:
    start = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        count = sum(1 for _ in csv.reader(handle))
    assert count > 0
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        study = make_study(folder / "bench.cobbdesk", (args.rows + 1) // 2)
        csv_path = folder / "labs.csv"
        make_csv(csv_path, args.rows)
        base = min(anchor(csv_path) for _ in range(3))
        start = time.perf_counter()
        report = import_labs(study, csv_path)
        took = time.perf_counter() - start
        start = time.perf_counter()
        integrity = study.verify_integrity()
        checked = time.perf_counter() - start
        study.close()
    print(f"rows: {args.rows:,}; imported {report.imported:,} rows, {report.values:,} values, "
          f"{len(report.errors)} errors, {len(report.notes)} notes")  # fmt: skip
    print(f"anchor csv.reader pass: {base * 1000:.1f} ms")
    print(f"import_labs: {took:.2f} s  ({took / base:.0f}x the anchor; goal <= 10 s)")
    print(f"verify_integrity afterwards: {checked:.2f} s (ok: {integrity.ok})")


if __name__ == "__main__":
    main()
