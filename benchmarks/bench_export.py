"""Export + statistics benchmark: a 10,000-patient study (2 visits × 2 films, angles, labs).

Times ``cobbdesk export STUDY --format wide`` followed by ``cobbdesk stats STUDY --json``,
called in one process through ``cobbdesk.cli.main`` (the import of the modules is done once
before timing, as in a running app; a whole-process figure is printed as well).  Goal ≤ 2 s.

    python benchmarks/bench_export.py [--patients N] [--repeat N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cobbdesk.cli import main as cli_main
from cobbdesk.core.labs import LAB_SPECS
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import films, labs, measurements, patients, visits

NOW = "2026-01-01T00:00:00.000000Z"
POINTS = [f"{line}_{end}_{axis}" for line in ("upper", "lower")
          for end in ("anterior", "posterior") for axis in ("x", "y")]  # fmt: skip
LAB_MEANS = {"vas": 5, "neutrophil": 5, "lymphocyte": 2, "cpk": 120, "creatinine": 0.9,
             "crp": 10, "esr": 20, "alt": 25, "ast": 25}  # fmt: skip


def generate(path: Path, n: int, seed: int = 0) -> None:
    """Bulk-insert the synthetic study; rater B re-measures every 10th patient."""
    rng = np.random.default_rng(seed)
    study = Study.create(path, actor="bench")
    with study.transaction() as conn:
        conn.execute(patients.insert(), [
            {"id": i + 1, "study_id": f"S{i:05d}", "sex": "FM"[i % 2], "created_utc": NOW,
             "birth_date": f"{1940 + i % 50}-0{1 + i % 9}-15", "dose_mg_kg_day": 0.5,
             "duration_months": 12.0}
            for i in range(n)
        ])  # fmt: skip
        conn.execute(visits.insert(), [
            {"id": 2 * i + k + 1, "patient_id": i + 1, "kind": kind, "label": "",
             "visit_date": date, "created_utc": NOW}
            for i in range(n) for k, (kind, date) in enumerate(
                (("admission", "2026-01-10"), ("month3", "2026-04-10")))
        ])  # fmt: skip
        conn.execute(films.insert(), [
            {"id": 2 * v + r + 1, "visit_id": v + 1, "sop_instance_uid": f"1.2.{v}.{r}",
             "path": f"/f/{v}.{r}.dcm", "region": region, "view": "", "created_utc": NOW}
            for v in range(2 * n) for r, region in enumerate(("cervical", "lumbar"))
        ])  # fmt: skip
        conn.execute(measurements.insert(), _measurements(rng, n))
        conn.execute(labs.insert(), _labs(rng, n))
    study.close()


def _points(angle: float) -> dict[str, float]:
    """Endplate points whose signed Cobb angle is ``angle`` (the export recomputes it)."""
    rad = np.radians(angle)
    coords = (100.0, 100.0, 300.0, 100.0,
              100.0, 400.0, 100.0 + 200 * np.cos(rad), 400.0 - 200 * np.sin(rad))  # fmt: skip
    return dict(zip(POINTS, (float(c) for c in coords), strict=True))


def _measurements(rng: np.random.Generator, n: int) -> list[dict[str, object]]:
    rows = []
    angles = rng.normal(25.0, 12.0, 4 * n)
    for f in range(4 * n):
        raters = ("A", "B") if (f // 4) % 10 == 0 else ("A",)
        for rater in raters:
            angle = angles[f] + (rng.normal(0, 1.5) if rater == "B" else 0.0)
            rows.append({"id": f"{rater}-{f:08d}", "film_id": f + 1, "rater": rater,
                         "template": ("C2-C7", "L1-S1")[f % 2], **_points(float(angle)),
                         "spacing_source": "PixelSpacing", "spacing_row_mm": 0.15,
                         "spacing_col_mm": 0.15, "angle_deg": float(angle),
                         "algorithm_version": "cobbdesk-cobb-1", "created_utc": NOW,
                         "updated_utc": NOW})  # fmt: skip
    return rows


def _labs(rng: np.random.Generator, n: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for v in range(2 * n):
        for name, mean in LAB_MEANS.items():
            value = round(float(abs(rng.normal(mean, mean / 3))), 2)
            value = min(value, 10.0) if name == "vas" else value
            rows.append({"visit_id": v + 1, "name": name, "value_num": value,
                         "value_text": None, "unit": LAB_SPECS[name].unit,
                         "updated_utc": NOW})  # fmt: skip
        rows.append({"visit_id": v + 1, "name": "ana", "value_num": None,
                     "value_text": "negative", "unit": "", "updated_utc": NOW})  # fmt: skip
    return rows


def one_command(study: Path, out: Path) -> list[str]:
    return ["export", str(study), "--format", "wide", "-o", str(out),
            "--stats-json", str(out.with_suffix(".json"))]  # fmt: skip


def run_in_process(args: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one ``cobbdesk`` command run in this process."""
    start, cpu = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(args) == 0
    return time.perf_counter() - start, time.process_time() - cpu


def run_process(args: list[str]) -> float:
    """Wall-clock seconds of a fresh ``python -m cobbdesk`` process (imports included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "cobbdesk", *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        study, out = Path(tmp) / "bench.cobbdesk", Path(tmp) / "wide.csv"
        start = time.perf_counter()
        generate(study, args.patients)
        made = time.perf_counter() - start
        command = one_command(study, out)
        run_in_process(command)  # warm-up: imports, caches
        inside = [run_in_process(command) for _ in range(args.repeat)]
        fresh = [run_process(command) for _ in range(args.repeat)]
        stats = ["stats", str(study), "--json"]
        separate = [run_in_process(command[:6])[0] + run_in_process(stats)[0]
                    for _ in range(args.repeat)]  # fmt: skip
    print(f"study: {args.patients} patients, 2 visits x 2 films, generated in {made:.1f} s")
    print(f"one command 'cobbdesk {' '.join(command[:1])} ... --format wide --stats-json': "
          f"{statistics.median(fresh):.2f} s as a fresh process (imports included), "
          f"{statistics.median(t[0] for t in inside):.2f} s in a running process "
          f"(median of {args.repeat}; goal <= 2 s)")  # fmt: skip
    print(f"for comparison, export then stats as two commands in process: "
          f"{statistics.median(separate):.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
