"""Peak memory of ``cobbdesk stats STUDY --json`` on a large study, as a fresh process.

Builds the study with :func:`bench_export.generate` (N patients × 2 visits × 2 films, rater B
on every 10th patient, labs), optionally with whole-degree angles (``--whole-degrees``: the
paired differences tie heavily, the worst case of a naive Hodges–Lehmann estimator), then
runs ``python -m cobbdesk stats STUDY --json`` in a child process several times and reads its
peak resident set size from ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (the largest of
the waited-for children, in KiB on Linux).  Each run is measured in a fresh grandchild so the
maximum belongs to that run alone.  Prints the median peak and its ratio to the goal
(≤ 500 MiB, issue #17); asserts nothing.

    python benchmarks/bench_stats_memory.py [--patients N] [--repeat N] [--whole-degrees]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_export

GOAL_MIB = 500.0

#: Runs the command as its only child and prints that child's peak RSS (KiB) and exit status.
_PROBE = """
import resource, subprocess, sys
status = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, status)
"""


def peak_rss_mib(args: list[str]) -> tuple[float, float]:
    """(peak RSS in MiB, wall seconds) of ``python -m cobbdesk ARGS`` in a fresh process."""
    start = time.perf_counter()
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE, sys.executable, "-m", "cobbdesk", *args],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    kib, status = (int(v) for v in probe.stdout.split())
    if status != 0:
        raise SystemExit(f"cobbdesk {' '.join(args)} exited with status {status}")
    return kib / 1024.0, elapsed


def _whole_degrees() -> None:
    """Make every generated angle a whole number of degrees (heavily tied differences)."""
    exact = bench_export._points
    bench_export._points = lambda angle: exact(float(round(angle)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--whole-degrees", action="store_true")
    args = parser.parse_args()
    if args.whole_degrees:
        _whole_degrees()
    with tempfile.TemporaryDirectory() as tmp:
        study = Path(tmp) / "bench.cobbdesk"
        start = time.perf_counter()
        bench_export.generate(study, args.patients)
        made = time.perf_counter() - start
        command = ["stats", str(study), "--json"]
        check = subprocess.run([sys.executable, "-m", "cobbdesk", *command], check=True,
                               capture_output=True, text=True)  # fmt: skip
        json.loads(check.stdout)  # the command's output is valid JSON
        runs = [peak_rss_mib(command) for _ in range(args.repeat)]
    peak = statistics.median(r[0] for r in runs)
    angles = "whole-degree" if args.whole_degrees else "continuous"
    verdict = "meets" if peak <= GOAL_MIB else "MISSES"
    print(f"study: {args.patients:,} patients ({angles} angles), generated in {made:.1f} s")
    print(f"'cobbdesk stats STUDY --json' as a fresh process: peak RSS median {peak:.0f} MiB "
          f"(runs {', '.join(f'{r[0]:.0f}' for r in runs)}), "
          f"{statistics.median(r[1] for r in runs):.2f} s; ratio to goal {peak / GOAL_MIB:.2f} "
          f"-> {verdict} the goal of <= {GOAL_MIB:g} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
