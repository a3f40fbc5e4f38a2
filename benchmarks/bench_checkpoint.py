"""Cost of checkpointing after every write (``cobbdesk.core.store.checkpoint``), and readers.

Two study files of the same content, one with the checkpointer (every write transaction is
followed by ``PRAGMA wal_checkpoint(PASSIVE)``), one without (``checkpoint.forget``: SQLite's own
checkpoint at 1000 pages only — the anchor).  Saves of one measurement are timed interleaved
(A, B, A, B…), wall-clock and process CPU.  Then a reader thread runs short read transactions
(one film's measurements) while the writer saves into the same study, with and without the
checkpointer, interleaved by block: the reader's latency shows whether checkpoints block it.
Prints medians (and the 95th percentile of the reads) and the ratios; asserts nothing.

    python benchmarks/bench_checkpoint.py [--repeat N] [--folder DIR]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--folder", type=Path, default=None, help="where the studies go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.folder) as tmp:
        on, film_on = _study(Path(tmp) / "on.cobbdesk", checkpoints=True)
        off, film_off = _study(Path(tmp) / "off.cobbdesk", checkpoints=False)
        timed: dict[str, list[tuple[float, float]]] = {"on": [], "off": []}
        for i in range(args.repeat):
            timed["on"].append(_save(on, film_on, i))
            timed["off"].append(_save(off, film_off, i))
        wall = {k: [w for w, _ in v] for k, v in timed.items()}
        cpu = {k: [c for _, c in v] for k, v in timed.items()}
        ratio_wall = statistics.median(wall["on"]) / statistics.median(wall["off"])
        ratio_cpu = statistics.median(cpu["on"]) / statistics.median(cpu["off"])
        print(f"one save, {args.repeat} interleaved: with checkpoint {_ms(wall['on'])} "
              f"(CPU {_ms(cpu['on'])}), without {_ms(wall['off'])} (CPU {_ms(cpu['off'])}); "
              f"ratio {ratio_wall:.2f} (CPU {ratio_cpu:.2f})")  # fmt: skip
        reads: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(5):
            reads["on"] += _reads_during_writes(on, film_on, 40)
            reads["off"] += _reads_during_writes(off, film_off, 40)
        for key in ("on", "off"):
            p95, most = statistics.quantiles(reads[key], n=20)[-1], max(reads[key])
            print(
                f"reads during saves, checkpoint {key}: {len(reads[key])} reads, median "
                f"{_ms(reads[key])}, p95 {p95 * 1e3:.2f} ms, max {most * 1e3:.2f} ms"
            )
        ratio = statistics.median(reads["on"]) / statistics.median(reads["off"])
        print(f"read median ratio (with / without checkpoint): {ratio:.2f}")
        start = time.perf_counter()
        on.close()
        print(f"close with TRUNCATE: {(time.perf_counter() - start) * 1e3:.2f} ms")
        off.close()


if __name__ == "__main__":
    main()
