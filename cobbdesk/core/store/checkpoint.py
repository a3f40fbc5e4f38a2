"""The study file holds every commit soon after it is made: a copy taken while open is whole.

SQLite in WAL mode appends each commit to the ``-wal`` beside the study and copies it into the
study file only at a *checkpoint* — by default once the ``-wal`` reaches 1000 pages, or when the
last connection closes (https://www.sqlite.org/wal.html §"Checkpointing").  A user who copies
``study.cobbdesk`` to a USB stick, or mails it, while the app has it open would get the study as
of the last checkpoint: the newest measurements silently missing.  So every write transaction is
followed, on the writer's own connection and thread (the write queue's worker in the GUI, never
the UI thread), by a ``PASSIVE`` checkpoint (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint):

* it never waits: it takes no lock that a reader or writer holds, and copies as many frames as
  no reader still needs (a reader's snapshot keeps the older page in the study file);
* a write less than :data:`BURST_S` after the last checkpoint (an import, ``measure`` of a
  CSV: rows back to back) is checkpointed on a timer :data:`BURST_S` later, once for the
  whole burst;
* when a reader held some back, :class:`Checkpointer` tries again off every thread that asked,
  on a timer (:data:`RETRY_S`), until the file holds every frame, the study closes or its file
  is moved (nothing is written after a move: :mod:`~cobbdesk.core.store.file_identity`);
* closing the study tries ``TRUNCATE`` without waiting (``busy_timeout`` 0): the ``-wal``
  emptied unless another program is reading; a study whose file was overwritten in place by
  another study empties its ``-wal`` instead, so that SQLite's own checkpoint at the last
  close copies none of its pages into the other study's file (:meth:`Checkpointer.close`).

Once every frame is in the file, new read transactions read the file alone (SQLite's read-mark
0): the study file's identity check sees what is really in the file
(:mod:`~cobbdesk.core.store.file_identity`).  A checkpoint never fails a write: the write has
committed; a fault here is retried later.  PostgreSQL studies have no checkpointer (no-op).

Cost (``benchmarks/bench_checkpoint.py``, medians of two runs on 2 shared cores at load 4–6):
one more ``fsync`` of the study file and the copy of the pages written.  A save spaced as a
rater's takes 6.4–16.0 ms against 3.1–9.4 ms without (ratio 1.71–2.07; CPU 1.3–1.5×) — on
the write queue's worker, not the UI thread; saves back to back 2.6–7.4 against 4.8–6.3 ms
each (ratio 0.55–1.17: the ``-wal`` stays short); reads running meanwhile are not slowed
(median ratio 1.02–1.03); closing, 7–10 ms.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
import weakref
from typing import Any

from sqlalchemy import Engine

from cobbdesk.core.store.file_identity import (
    REPLACED,
    UNREADABLE,
    FileGuard,
    file_tag,
    wal_path,
)

logger = logging.getLogger("cobbdesk.store")

RETRY_S: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 5.0)
"""Seconds between checkpoints of frames a reader held back (the last one repeats)."""
BURST_S = 0.2
"""A write less than this after the last checkpoint is checkpointed this long after it."""


def checkpoint(dbapi_connection: Any, mode: str = "PASSIVE") -> bool:
    """Run ``PRAGMA wal_checkpoint(mode)`` on a driver connection outside any transaction.

    Returns True when the study file now holds every frame of the ``-wal`` (SQLite returns
    ``(busy, frames in the log, frames checkpointed)``; -1 frames: not in WAL mode).  A busy
    checkpoint (another checkpoint held SQLite's checkpoint lock: ``(1, -1, -1)``) copied
    nothing and is not whole (https://www.sqlite.org/pragma.html#pragma_wal_checkpoint).
    """
    row = dbapi_connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return row is None or (int(row[0]) == 0 and int(row[1]) == int(row[2]))


class Checkpointer:
    """Checkpoints of one study file's engine: after each write, retried until whole, on close.

    ``guard``: the file's identity; nothing is checkpointed once it says the file moved.
    """

    def __init__(self, engine: Engine, guard: FileGuard) -> None:
        self._engine = weakref.ref(engine)
        self.guard = guard
        self._lock = threading.Lock()  # the timer and the flags
        self._running = threading.Lock()  # a retry's checkpoint; close waits for it
        self._timer: threading.Timer | None = None
        self._attempt = 0
        self._last = -BURST_S  # when the last checkpoint began (time.monotonic)
        self.closed = False
        self.pending = False  # commits not yet known to be in the study file

    def after_write(self, dbapi_connection: Any) -> None:
        """A write transaction just committed on ``dbapi_connection``: checkpoint it now, or
        within :data:`BURST_S` when another write was checkpointed less than that ago (a
        burst of writes — an import, ``measure`` of a CSV — pays one checkpoint per
        :data:`BURST_S`, not one per row).  Never raises; a fault or a reader holding frames
        back schedules a retry."""
        if self.closed or self.guard.moved():
            return
        with self._lock:
            wait = self._last + BURST_S - time.monotonic()
            if wait > 0:
                self._schedule(wait)
                return
            self._last = time.monotonic()
        try:
            whole = checkpoint(dbapi_connection)
        except Exception as exc:  # the write committed: never fail it here
            logger.debug("Checkpoint after a write failed (%s); retrying", type(exc).__name__)
            whole = False
        self._settle(whole)

    def _schedule(self, delay: float) -> None:
        """A checkpoint on the timer thread in ``delay`` s (held: ``self._lock``)."""
        self.pending = True
        if self._timer is not None or self.closed:
            return  # one is already waiting
        self._timer = threading.Timer(delay, self._retry)
        self._timer.daemon = True
        self._timer.name = "cobbdesk-checkpoint"
        self._timer.start()

    def _settle(self, whole: bool) -> None:
        with self._lock:
            if whole:
                self._attempt = 0
            else:
                self._schedule(RETRY_S[min(self._attempt, len(RETRY_S) - 1)])
                self._attempt += 1
            self.pending = not whole or self._timer is not None

    def _retry(self) -> None:
        with self._lock:
            self._timer = None
            self._last = time.monotonic()
        with self._running:
            engine = self._engine()
            if engine is None or self.closed or self.guard.moved():
                return
            try:
                raw = engine.raw_connection()
                try:
                    whole = checkpoint(raw.driver_connection)
                finally:
                    raw.close()
            except Exception as exc:
                logger.debug("Checkpoint retry failed (%s)", type(exc).__name__)
                whole = False
        self._settle(whole)

    def close(self) -> None:
        """The study is closing: stop retrying, then ``TRUNCATE`` without waiting (when the
        file was not moved; never raises)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        with self._running:  # a retry under way ends first (PASSIVE never waits)
            if self._replaced_for_sure():
                self._disarm()
            else:
                self._truncate()

    def _replaced_for_sure(self) -> bool:
        """The file at the path holds another study: its tag, read twice, is another
        study's (never on a failed read — ``file_tag`` None — which an I/O hiccup gives)."""
        guard = self.guard
        ours = {guard.tag, guard.assigned} - {None, 0}
        if guard.problem() != REPLACED or not ours:
            return False
        found = [file_tag(guard.real) for _ in range(2)]
        return all(tag not in (None, 0, UNREADABLE) and tag not in ours for tag in found)

    def _disarm(self) -> None:
        """The file at the path now holds another study, rewritten in place (the same inode):
        SQLite, seeing the file unmoved, would copy this study's frames still in the ``-wal``
        into it when the last connection closes (tried: the other study's file then showed
        this study's patients).  The ``-wal`` is emptied first: a ``-wal`` without a valid
        header holds no frames (https://www.sqlite.org/walformat.html §2), nothing is copied.
        What it held — this study's newest commits — is first copied beside it
        (``NAME-wal.replaced-UTCSTAMP``): with this study's file put back at its name and
        that copy renamed ``NAME-wal``, SQLite replays them at the next open."""
        wal = wal_path(self.guard.real)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        kept = wal.with_name(f"{wal.name}.replaced-{stamp}")
        try:
            shutil.copy2(wal, kept)
        except OSError as exc:  # frames not kept: never destroy them
            logger.warning("Study file overwritten: its -wal could not be kept (%s)", exc)
            return
        logger.warning("Study file overwritten while open: its newest commits kept in %s", kept)
        with contextlib.suppress(OSError):
            os.truncate(wal, 0)

    def _truncate(self) -> None:
        engine = self._engine()
        if engine is None or self.guard.moved():
            return
        with contextlib.suppress(Exception):
            raw = engine.raw_connection()
            try:
                driver: Any = raw.driver_connection
                waits = int(driver.execute("PRAGMA busy_timeout").fetchone()[0])
                driver.execute("PRAGMA busy_timeout=0")
                try:
                    self.pending = not checkpoint(driver, "TRUNCATE")
                finally:
                    driver.execute(f"PRAGMA busy_timeout={waits}")
            finally:
                raw.close()


_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, Checkpointer] = weakref.WeakKeyDictionary()


def attach(engine: Engine, guard: FileGuard) -> Checkpointer:
    """Give a writable study-file engine its :class:`Checkpointer`."""
    found = _CHECKPOINTERS[engine] = Checkpointer(engine, guard)
    return found


def of(engine: Engine) -> Checkpointer | None:
    """The engine's checkpointer; None for a read-only or PostgreSQL engine."""
    return _CHECKPOINTERS.get(engine)


def forget(engine: Engine) -> None:
    """Stop checkpointing after writes on ``engine`` (the benchmark's baseline)."""
    found = _CHECKPOINTERS.pop(engine, None)
    if found is not None:
        with found._lock:
            found.closed = True


__all__ = ["RETRY_S", "Checkpointer", "attach", "checkpoint", "forget", "of"]
