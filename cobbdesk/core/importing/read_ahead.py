"""The scan's parallel part: threads read the files' first bytes ahead, one thread parses.

File I/O releases the GIL, so reads overlap (what matters on disks, network shares and CDs);
parsing in several threads was measured slower (the GIL serialises it and they contend).
Threads take :data:`READ_CHUNK` files per task: a task per file cost more in thread
hand-overs than the reads of files already in the page cache (``benchmarks/bench_import.py``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

#: Files whose first bytes one read-ahead task reads.
READ_CHUNK = 8


def in_order(
    files: list[Path],
    workers: int,
    read: Callable[[Path], Any],
    parse: Callable[[Path, Any], Any],
    outcomes: dict[int, Any],
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> bool:
    """Fill ``outcomes`` with ``index → parse(file, read(file))`` in the order of ``files``;
    True when cancelled.

    ``read`` runs in ``workers`` threads, at most ``2 * workers`` tasks ahead; ``parse``,
    ``progress(done, total)`` and ``cancel()`` run in the calling thread after each file.
    When ``cancel()`` returns True, reads not yet started are dropped.
    """
    chunks = [files[i : i + READ_CHUNK] for i in range(0, len(files), READ_CHUNK)]
    total, window, index = len(files), max(1, workers) * 2, 0
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="scan") as pool:
        ahead: deque[Future[list[Any]]] = deque()
        for number, chunk in enumerate(chunks):
            while len(ahead) < window and number + len(ahead) < len(chunks):
                batch = chunks[number + len(ahead)]
                ahead.append(pool.submit(lambda paths: [read(p) for p in paths], batch))
            for path, head in zip(chunk, ahead.popleft().result(), strict=True):
                outcomes[index] = parse(path, head)
                index += 1
                if progress is not None:
                    progress(index, total)
                if cancel is not None and cancel():
                    for future in ahead:
                        future.cancel()
                    return True
    return False
