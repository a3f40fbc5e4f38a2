"""Cost of checkpointing after every write (``cobbdesk.core.store.checkpoint``), and readers.

Two study files of the same content, one with the checkpointer (a write transaction is
followed by ``PRAGMA wal_checkpoint(PASSIVE)``, at once or, in a burst, ``BURST_S`` later), one
without (``checkpoint.forget``: SQLite's own checkpoint at 1000 pages only — the anchor).
Saves of one measurement spaced as a rater's are timed interleaved (A, B, A, B…), wall-clock
and process CPU; then bursts of saves back to back (``measure`` of a CSV), interleaved by
block.  Then a reader thread runs short read transactions (one film's measurements) while the
writer saves into the same study, with and without the checkpointer, interleaved by block:
the reader's latency shows whether checkpoints block it.  Prints medians (and the 95th
percentile of the reads) and the ratios; asserts nothing.

    python benchmarks/bench_checkpoint.py [--repeat N] [--rows N] [--folder DIR]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study, checkpoint


def _measurement(i: int) -> CobbMeasurement:
    return CobbMeasurement(
        id=str(uuid.uuid4()), sop_instance_uid="1.2.3", pixel_sha256="ab" * 32,
        template=Template.C2_C7, upper=EndplateLine((100.0, 200.0), (160.0, 210.0 + i % 7)),
        lower=EndplateLine((100.0, 400.0), (160.0, 380.0)), spacing=(0.1, 0.1),
        spacing_source="PixelSpacing", rater="bench",
    )  # fmt: skip


def _study(path: Path, *, checkpoints: bool) -> tuple[Study, int]:
    study = Study.create(path, actor="bench")
    visit = study.add_visit(study.add_patient("P0001"), "admission")
    film = study.add_film(visit, sop_instance_uid="1.2.3", path="/f.dcm", region="cervical")
    for i in range(200):  # a film measured a few times over, as in a study under way
        study.save_measurement(film, _measurement(i))
    if not checkpoints:
        checkpoint.forget(study.engine)
    return study, film


def _save(study: Study, film: int, i: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    study.save_measurement(film, _measurement(i))
    return time.perf_counter() - wall, time.process_time() - cpu


def _reads_during_writes(study: Study, film: int, writes: int) -> list[float]:
    """Latencies of the reads a second thread ran while ``writes`` saves went on."""
    seen: list[float] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            start = time.perf_counter()
            study.measurements(film_id=film, seen={})
            seen.append(time.perf_counter() - start)

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(writes):
        study.save_measurement(film, _measurement(i))
    stop.set()
    reader.join()
    return seen


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.2f} ms"


def _isolated(on: tuple[Study, int], off: tuple[Study, int], repeat: int) -> None:
    """Saves spaced beyond ``BURST_S`` (a rater saving by hand): each checkpointed inline."""
    timed: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
    for i in range(repeat):
        timed["on"].append(_save(*on, i))
        timed["off"].append(_save(*off, i))
        time.sleep(checkpoint.BURST_S)
    wall = {k: [w for w, _ in v] for k, v in timed.items()}
    cpu = {k: [c for _, c in v] for k, v in timed.items()}
    ratio_wall = statistics.median(wall["on"]) / statistics.median(wall["off"])
    ratio_cpu = statistics.median(cpu["on"]) / statistics.median(cpu["off"])
    print(f"one save, {repeat} interleaved, spaced: with checkpoint {_ms(wall['on'])} "
          f"(CPU {_ms(cpu['on'])}), without {_ms(wall['off'])} (CPU {_ms(cpu['off'])}); "
          f"ratio {ratio_wall:.2f} (CPU {ratio_cpu:.2f})")  # fmt: skip


def _burst(on: tuple[Study, int], off: tuple[Study, int], rows: int) -> None:
    """Saves back to back (``measure`` of a CSV), in interleaved blocks of 50: wall per save,
    and until the last checkpoint landed."""
    per: dict[str, list[float]] = {"on": [], "off": []}
    settle: list[float] = []
    for block in range(rows // 50):
        for key, (study, film) in (("on", on), ("off", off)):
            start = time.perf_counter()
            for i in range(50):
                study.save_measurement(film, _measurement(block * 50 + i))
            per[key].append((time.perf_counter() - start) / 50)
            found = checkpoint.of(study.engine)
            while found is not None and found.pending:
                time.sleep(0.005)
            if found is not None:
                settle.append(time.perf_counter() - start)
    ratio = statistics.median(per["on"]) / statistics.median(per["off"])
    print(f"burst of {rows} saves in blocks of 50: per save with checkpoint {_ms(per['on'])}, "
          f"without {_ms(per['off'])}; ratio {ratio:.2f}; block of 50 in the file after "
          f"{statistics.median(settle) * 1e3:.0f} ms (median)")  # fmt: skip


def _readers(on: tuple[Study, int], off: tuple[Study, int]) -> None:
    reads: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(5):
        reads["on"] += _reads_during_writes(*on, 40)
        reads["off"] += _reads_during_writes(*off, 40)
    for key in ("on", "off"):
        p95, most = statistics.quantiles(reads[key], n=20)[-1], max(reads[key])
        print(
            f"reads during saves, checkpoint {key}: {len(reads[key])} reads, median "
            f"{_ms(reads[key])}, p95 {p95 * 1e3:.2f} ms, max {most * 1e3:.2f} ms"
        )
    ratio = statistics.median(reads["on"]) / statistics.median(reads["off"])
    print(f"read median ratio (with / without checkpoint): {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--folder", type=Path, default=None, help="where the studies go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        on = _study(Path(tmp) / "on.cobbdesk", checkpoints=True)
        off = _study(Path(tmp) / "off.cobbdesk", checkpoints=False)
        _isolated(on, off, args.repeat)
        _burst(on, off, args.rows)
        _readers(on, off)
        start = time.perf_counter()
        on[0].close()
        print(f"close with TRUNCATE: {(time.perf_counter() - start) * 1e3:.2f} ms")
        off[0].close()


if __name__ == "__main__":
    main()
