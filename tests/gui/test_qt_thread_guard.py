"""The guards of the GUI tests fire (tests.gui.qt_thread_guard), and cobbdesk.gui.ui_gc keeps
Python's garbage collector — and the Qt objects it frees — on the UI thread."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

from cobbdesk.gui.ui_gc import UiGarbageCollector, collect_due
from tests.gui.qt_thread_guard import OffThreadFinalize, OffThreadQt


class Emitter(QObject):
    ping = Signal(object)


def _run(target: Callable[[], Any]) -> None:
    worker = threading.Thread(target=target, name="probe")
    worker.start()
    worker.join()


class _Cycle:
    """A Python-owned QObject kept only by a reference cycle (freed by the collector)."""

    def __init__(self) -> None:
        self.me, self.qt = self, QObject()


def test_the_call_guard_records_a_signal_emitted_on_a_worker(qapp: Any) -> None:
    emitter, guard = Emitter(), OffThreadQt()
    guard.install()
    try:
        _run(lambda: emitter.ping.emit(None))
        _run(lambda: sorted([3, 1, 2]))  # no Qt: not recorded
        emitter.setObjectName("main")  # the UI thread may call Qt
    finally:
        guard.remove()
    assert [c.split(" on thread")[0] for c in guard.calls] == ["SignalInstance.emit"]
    assert " on thread probe:" in guard.calls[0]


def test_the_call_guard_records_a_qobject_touched_by_a_done_callback(qapp: Any) -> None:
    """``Future.add_done_callback`` runs its callback on the worker that finished it."""
    emitter, guard = Emitter(), OffThreadQt()
    guard.install()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            release = threading.Event()
            future = pool.submit(release.wait, 5)
            future.add_done_callback(lambda f: emitter.setObjectName("worker"))
            release.set()
    finally:
        guard.remove()
    assert [c.split(" on thread")[0] for c in guard.calls] == ["Emitter.setObjectName"]


def test_the_free_guard_records_a_qobject_freed_on_a_worker(qapp: Any) -> None:
    held = [Emitter()]
    with OffThreadFinalize() as guard:
        _run(held.clear)  # the last reference dies on the worker
        main = Emitter()
        del main  # on the main thread: not recorded
    assert [f.split(" freed")[0] for f in guard.freed] == ["Emitter"]
    assert " on thread probe:" in guard.freed[0]


def test_a_collection_on_a_worker_frees_qt_objects_there_without_the_ui_collector(
    qapp: Any,
) -> None:
    """What went wrong: the collector runs on the thread that allocates (here forced)."""
    gc.collect()
    gc.enable()
    try:
        _Cycle()
        with OffThreadFinalize() as guard:
            _run(gc.collect)
    finally:
        gc.disable()  # the GUI tests' UI collector (conftest) keeps it off
    assert [f.split(" freed")[0] for f in guard.freed] == ["QObject"]


def test_with_the_ui_collector_workers_allocating_free_no_qt_object(qapp: Any) -> None:
    """A worker allocating past generation 0's threshold triggers no collection there (the
    garbage cycle and its QObject survive it); the UI thread's timer collects them."""
    collector = UiGarbageCollector(interval_ms=5)
    collector.start()
    kept: list[list[int]] = []
    try:
        gc.collect()
        _Cycle()
        threshold = gc.get_threshold()[0]
        with OffThreadFinalize() as guard:
            _run(lambda: kept.extend([i] for i in range(3 * threshold)))  # tracked, alive
            assert guard.freed == [] and gc.get_count()[0] > threshold  # no collection ran
            for _ in range(1000):  # the collector's timer runs here, on the UI thread
                if gc.get_count()[0] <= threshold:
                    break
                qapp.processEvents()
                time.sleep(0.005)
        assert guard.freed == [] and gc.get_count()[0] <= threshold
    finally:
        collector.stop()
        gc.disable()  # the GUI tests' UI collector (conftest) keeps it off until teardown


def test_collect_due_follows_the_thresholds(qapp: Any) -> None:
    gc.collect()
    assert collect_due() == 0  # nothing due right after a collection
    _Cycle()
    kept = [[i] for i in range(gc.get_threshold()[0] + 1)]  # tracked allocations, alive
    assert gc.get_count()[0] > gc.get_threshold()[0]
    assert collect_due() >= 2  # the cycle (itself and its QObject) was unreachable
    assert gc.get_count()[0] < len(kept)
