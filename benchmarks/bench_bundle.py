"""Issue 7 benchmark: demo generation time; frozen bundle start time and size.

    python benchmarks/bench_bundle.py [--bundle dist/cobbdesk]

The bundle figures need a built bundle (``bash packaging/build_bundle.sh``); without one they
are reported as not measured.  Start time: a fresh process to ``--version`` (interpreter and
imports), and to the GUI's event loop (``COBBDESK_QUIT_AFTER_MS=1`` on the offscreen platform),
each against the same steps from the unfrozen install in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _median_run(command: list[str], env: dict[str, str], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _size_mb(folder: Path) -> float:
    """Bytes on disk, each file once (Qt's library symlinks would count twice)."""
    files = (p for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    return sum(p.stat().st_size for p in files) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "cobbdesk")
    bundle = parser.parse_args().bundle
    from cobbdesk.synth.demo_study import write_demo_study

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        write_demo_study(Path(tmp) / "demo")
        print(f"demo study generation: {time.perf_counter() - start:.2f} s (goal <= 10 s)")
        env = dict(
            os.environ,
            QT_QPA_PLATFORM="offscreen",
            COBBDESK_QUIT_AFTER_MS="1",
            COBBDESK_CONFIG_DIR=tmp,
            COBBDESK_LOG_DIR=tmp,
        )
        source = [sys.executable, "-m", "cobbdesk"]
        exe = bundle / "cobbdesk"
        for label, args in (("--version", ["--version"]), ("GUI to event loop", [])):
            unfrozen = _median_run(source + args, env)
            line = f"start {label}: unfrozen {unfrozen:.2f} s"
            if exe.exists():
                frozen = _median_run([str(exe), *args], env)
                line += f", frozen {frozen:.2f} s (ratio {frozen / unfrozen:.2f})"
            print(line)
    if exe.exists():
        print(f"bundle size: {_size_mb(bundle):.0f} MB ({bundle})")
    else:
        print(f"bundle not built at {bundle}: run bash packaging/build_bundle.sh")


if __name__ == "__main__":
    main()
