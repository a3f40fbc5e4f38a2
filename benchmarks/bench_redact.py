"""redact() per log line and remembering a study's identifiers, at 100,000 patients.

Builds N synthetic patients (default 100,000: a two-part name, an MRN, an ISO birth date and
a hospital patient ID each; seeded), remembers them as ``Study.open`` does
(:func:`cobbdesk.core.redact.remember_joined` of one value a line) and times :func:`redact`
on typical log and command-line lines.  With ``--baseline FILE`` (an older single-module
``redact.py``, e.g. ``git show a072b54:cobbdesk/core/redact.py > /tmp/old.py``) the two run
in interleaved rounds and the ratio new/old of the medians is printed.  Asserts nothing.

    python benchmarks/bench_redact.py [--patients N] [--rounds R] [--baseline FILE]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

LINES = (
    "Film #1234 opened with 2 saved measurement(s) for Name^4711 (P04711), study big",
    "Opened study big.cobbdesk",
    "Saved to study (film #77). Patient ID P00077, visit admission, lumbar L1-S1 +52.3°",
    "duplicate: /data/incoming/2026-11-30/scan_0042_lat.dcm (SOP Instance UID of film #12)",
    "cobbdesk: warning: film #5: pixel spacing 0.143\\0.143 mm from the detector, 12.5° tilt",
)
SYLLABLES = ("an", "ber", "cor", "dal", "el", "fin", "gar", "hol", "is", "jor", "kel", "lin",
             "mor", "nor", "ost", "par", "quin", "ros", "sten", "tor", "ul", "ven")  # fmt: skip


def identifiers(count: int, seed: int = 7) -> tuple[str, str]:
    """(names, other values) one a line, as ``patient_identifiers`` returns them."""
    rng = random.Random(seed)

    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()

    names, values = [], []
    for i in range(count):
        names.append(f"{word()}^{word()}")
        birth = f"{rng.randint(1930, 2010)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        values += [f"MRN{rng.randint(10**6, 10**7 - 1)}", birth, f"H{100000 + i}"]
    return "\n".join(names), "\n".join(values)


def load(path: Path) -> ModuleType:
    """A redaction module loaded from a file under its own name (the baseline), or a copy of
    the package in a folder whose modules import each other by that folder's name (e.g.
    ``git archive a4ca108 cobbdesk/core/redact`` moved to ``/tmp/rb/redact_baseline``, its
    ``cobbdesk.core.redact`` imports replaced by ``redact_baseline``)."""
    if path.is_dir():
        sys.path.insert(0, str(path.parent))
        return importlib.import_module(path.name)
    spec = importlib.util.spec_from_file_location("redact_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def one_round(module: ModuleType, names: str, values: str, n: int) -> tuple[float, ...]:
    """Seconds to remember every patient (wall, process CPU), and the median over the lines
    of one redact() call (wall, process CPU)."""
    module.forget_all()
    t0, c0 = time.perf_counter(), time.process_time()
    module.remember_joined(names, values)
    remembered = (time.perf_counter() - t0, time.process_time() - c0)
    wall, cpu = [], []
    for line in LINES:
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            module.redact(line)
        wall.append((time.perf_counter() - t0) / n)
        cpu.append((time.process_time() - c0) / n)
    return (*remembered, statistics.median(wall), statistics.median(cpu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lines", type=int, default=2000, help="calls per line per round")
    parser.add_argument("--baseline", type=Path, help="an older redact.py or package copy")
    parser.add_argument("--browser-names", action="store_true",
                        help="bench_study_browser's patients: Name^N, nothing else")  # fmt: skip
    args = parser.parse_args()
    from cobbdesk.core import redact

    modules = {"new": redact}
    if args.baseline:
        modules["old"] = load(args.baseline)
    names, values = identifiers(args.patients)
    if args.browser_names:
        names, values = "\n".join(f"Name^{p}" for p in range(1, args.patients + 1)), ""
    print(f"load average before: {os.getloadavg()}")
    results: dict[str, list[tuple[float, ...]]] = {k: [] for k in modules}
    for _ in range(args.rounds):
        for key, module in modules.items():  # interleaved: the same load for both
            results[key].append(one_round(module, names, values, args.lines))
    print(f"load average after: {os.getloadavg()}")
    medians = {}
    for key, runs in results.items():
        medians[key] = [statistics.median(r[i] for r in runs) for i in range(4)]
        rw, rc, lw, lc = medians[key]
        print(f"{key:>4}: remember {rw * 1000:7.1f} ms (CPU {rc * 1000:7.1f} ms); redact() "
              f"per line {lw * 1e6:6.1f} µs (CPU {lc * 1e6:6.1f} µs)")  # fmt: skip
    print(f"(medians of {args.rounds} rounds)")
    if "old" in medians:
        ratios = [n / o for n, o in zip(medians["new"], medians["old"], strict=True)]
        print("ratio new/old: remember {:.2f} (CPU {:.2f}), redact() {:.2f} (CPU {:.2f})"
              .format(*ratios))  # fmt: skip
    for line in LINES:
        print(f"  {redact.redact(line)}")


if __name__ == "__main__":
    main()
