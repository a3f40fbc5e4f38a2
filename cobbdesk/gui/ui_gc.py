"""Python's cyclic garbage collector, run on the UI thread only.

CPython runs an automatic collection on whichever thread happens to allocate when generation
0 passes its threshold: in this app, often a worker thread (a study read, a film decode, a
database connect).  A collected cycle that holds a PySide6 wrapper then finalizes the wrapper
on that worker — and a wrapper that owns its C++ object (a QObject made without a parent, a
QEventLoop, a QTimer) deletes that object there.  Qt objects belong to the UI thread: deleted
off it, their timers stay registered with the UI thread's event dispatcher ("QObject::
killTimer: Timers cannot be stopped from another thread") and the next event loop of the UI
thread — any nested one, e.g. "Connecting…" — crashes on the dangling timer (a segmentation
fault, not an exception).  Measured in the GUI tests before this module: QObject wrappers
finalized on the "cobbdesk-reads", "cobbdesk-load", "cobbdesk-compare" and QThreadPool threads.

:class:`UiGarbageCollector` turns the automatic collector off and runs the same collections
from a QTimer of the UI thread (generation ``g`` when its count passed its threshold, as
CPython's own rule, ``gc`` module documentation "get_threshold"), so every cycle — and every
Qt object in one — is freed on the UI thread.  Reference-counted frees are unaffected.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 100
"""How often the UI thread checks the collector's counts (allocations between two checks
only wait for their collection)."""


def collect_due() -> int:
    """Collect the oldest generation whose allocation count passed its threshold (collecting
    generation ``g`` collects the younger ones too; an older generation's count only grows
    when the younger one is collected, so it is looked at only when that one is due);
    returns ``gc.collect``'s count of unreachable objects, 0 when nothing was due."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    due = -1
    for generation in range(3):
        if not counts[generation] > thresholds[generation] > 0:
            break
        due = generation
    return gc.collect(due) if due >= 0 else 0


class UiGarbageCollector(QObject):
    """Runs Python's cyclic garbage collection on the UI thread only, from :meth:`start` to
    :meth:`stop` (module docstring).  Create and start it on the UI thread."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)

    def start(self) -> None:
        """Turn the automatic (any-thread) collector off; collect from the UI thread's timer."""
        gc.disable()
        self.timer.start()

    def tick(self) -> int:
        """UI thread: keep the automatic collector off (a worker's
        :func:`~cobbdesk.core.store.overview.collector_paused` restores the state it found,
        which may be "on" when it began before :meth:`start`), then :func:`collect_due`."""
        if gc.isenabled():
            gc.disable()
        return collect_due()

    def stop(self) -> None:
        """Stop the timer, collect everything now (on this thread) and turn the automatic
        collector back on."""
        self.timer.stop()
        gc.collect()
        gc.enable()


def install(parent: QObject) -> UiGarbageCollector:
    """Start a :class:`UiGarbageCollector` owned by ``parent`` (the QApplication) for the
    rest of the process."""
    collector = UiGarbageCollector(parent)
    collector.start()
    return collector
