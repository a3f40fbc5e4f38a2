"""An ordered write queue for one open study: edits are kept and retried when the server is away.

A desktop client must never lose an edit because the network blinked, and must never wait on
the network with its window frozen.  :class:`Outbox` runs every write of one open study on one
worker thread, in the order submitted:

* each write is one call of the store (one transaction, :meth:`Study.transaction`): it is
  either wholly applied or not at all;
* a **retriable** fault — :class:`ServerUnavailableError` (no connection, lost connection,
  server shut down or restarting, statement timeout; :mod:`pg_faults`) or
  :class:`StudyLockedError` (SQLite busy, a PostgreSQL lock or serialisation failure) or
  :class:`StudyMovedError` (the study file was moved while open: refused until it is back) — keeps
  the write at the head of the queue and retries it after 1, 2, 4, 8, 16, then every 30 s
  (:data:`BACKOFF_S`; :meth:`Outbox.retry_now` retries at once); later writes stay behind it,
  so the order of edits is kept;
* any other error (a conflict with another rater, a refused value) fails that write's
  :attr:`Ticket.done` and the queue goes on;
* a retry never applies an edit twice: every write the store makes is idempotent once its
  conflict baseline is pinned (:func:`~cobbdesk.core.store.retry_safe.measurement_write`):
  when the connection died after the server committed but before the acknowledgement came
  back, the retry finds the row already as wanted and writes nothing (no second row, no
  second audit entry).

The caller sees :class:`OutboxState` (idle / saving / waiting for the server, with the number
of edits kept and the seconds to the next attempt) through :attr:`Outbox.listener`, called on
the worker thread.  :meth:`Outbox.call` submits a write and waits for its *first attempt* at
most :attr:`Outbox.first_wait_s` through :attr:`Outbox.waiter` (a GUI passes one that keeps
its event loop running): conflicts and refusals of that attempt are raised to the caller
as if the store had been called directly; a write that is still waiting for the server is
reported :attr:`First.KEPT`, and a later failure of it goes to :attr:`Outbox.on_failure`.
The states and their status-bar words are in :mod:`~cobbdesk.core.store.outbox_state`.

>>> box = Outbox("demo")
>>> box.call(lambda: 41 + 1, "answer")
(<First.SAVED: 'saved'>, 42)
>>> box.state().text()
'All changes saved'
>>> box.close()
0
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from cobbdesk.core.errors import ServerUnavailableError, StudyLockedError, StudyMovedError
from cobbdesk.core.store.outbox_state import MOVED_HEADLINE, First, OutboxState, Phase, headline
from cobbdesk.core.store.retry_safe import measurement_write

if TYPE_CHECKING:
    from cobbdesk.core.store.study import Study

T = TypeVar("T")
BACKOFF_S: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
"""Seconds between attempts of a write waiting for the server (the last one repeats)."""
FIRST_WAIT_S = 2.0
"""How long :meth:`Outbox.call` waits for a write's first attempt before reporting it kept."""
RETRIABLE: tuple[type[BaseException], ...] = (
    ServerUnavailableError, StudyLockedError, StudyMovedError,
)  # fmt: skip


@dataclass(eq=False)
class Ticket(Generic[T]):
    """One queued write: ``what`` it does (for messages, no patient identifier), the
    ``write`` itself, :attr:`first` (its first attempt) and :attr:`done` (its final result)."""

    what: str
    write: Callable[[], T]
    first: Future[First] = field(default_factory=Future)
    done: Future[T] = field(default_factory=Future)
    deferred: bool = True
    """A failure after the caller stopped waiting goes to :attr:`Outbox.on_failure`."""
    subject: object = None
    """What the write is about, for the one who handles a late failure (e.g. a
    :class:`~cobbdesk.core.compare.saver.FilmWrite`)."""
    lock: threading.Lock = field(default_factory=threading.Lock)


def _wait(future: Future[Any], timeout: float) -> None:
    wait_futures([future], timeout=timeout)


class Outbox:
    """The ordered write queue of one open study (see the module docstring); ``label`` names
    its worker thread; ``backoff`` and ``clock`` are replaceable in tests."""

    def __init__(
        self,
        label: str = "",
        *,
        backoff: Sequence[float] = BACKOFF_S,
        clock: Callable[[], float] = time.monotonic,
        first_wait_s: float = FIRST_WAIT_S,
    ) -> None:
        self.backoff, self.clock, self.first_wait_s = tuple(backoff), clock, first_wait_s
        self.listener: Callable[[OutboxState], None] | None = None
        self.on_failure: Callable[[Ticket[Any], BaseException], None] | None = None
        self.waiter: Callable[[Future[Any], float], None] = _wait
        self._queue: deque[Ticket[Any]] = deque()
        self._cond = threading.Condition()
        self._state = OutboxState()
        self._attempts = 0  # consecutive retriable failures of the head
        self._wake = self._closing = False
        self._running: Ticket[Any] | None = None
        self._thread = threading.Thread(target=self._run, name=f"cobbdesk-outbox {label}".strip(),
                                        daemon=True)  # fmt: skip
        self._thread.start()

    # --- the caller's side ---------------------------------------------------------------------
    def submit(
        self, write: Callable[[], T], what: str, *, deferred: bool = True, subject: object = None
    ) -> Ticket[T]:
        """Queue ``write`` behind every earlier one; returns its ticket at once.
        RuntimeError after :meth:`close`."""
        ticket: Ticket[T] = Ticket(what, write, deferred=deferred, subject=subject)
        with self._cond:
            if self._closing:
                raise RuntimeError("the study's write queue is closed")
            self._queue.append(ticket)
            if self._state.phase is Phase.WAITING:  # behind a write waiting for the server
                ticket.first.set_result(First.KEPT)
                self._publish(self._with(pending=len(self._queue)))
            else:
                self._publish(OutboxState(Phase.SAVING, len(self._queue)))
            self._cond.notify_all()
        return ticket

    def call(
        self, write: Callable[[], T], what: str, *, subject: object = None
    ) -> tuple[First, T | None]:
        """Submit ``write`` and wait for its first attempt (at most :attr:`first_wait_s`).

        Returns ``(SAVED, result)``, or ``(KEPT, None)`` when the write waits for the server
        (or is still running); raises the first attempt's non-retriable error (e.g.
        ConflictError, ValidationError) as the store would.  A later failure of a kept write
        goes to :attr:`on_failure`.
        """
        ticket = self.submit(write, what, deferred=False, subject=subject)
        self.waiter(ticket.first, self.first_wait_s)
        with ticket.lock:
            failed = ticket.first.done() and ticket.first.exception() is not None
            if not failed:
                ticket.deferred = True
        if not ticket.first.done():
            return First.KEPT, None
        first = ticket.first.result()  # raises the first attempt's error
        return first, (ticket.done.result() if first is First.SAVED else None)

    def state(self) -> OutboxState:
        """The current snapshot."""
        with self._cond:
            return self._state

    def pending(self) -> int:
        """Writes not yet applied (the one being attempted included)."""
        with self._cond:
            return len(self._queue)

    def retry_now(self) -> None:
        """Attempt the waiting write at once (the user's "Retry now")."""
        with self._cond:
            self._wake = True
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every queued write is applied or failed; False on ``timeout``."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue, timeout)

    def discard(self) -> int:
        """Drop the writes not yet applied (the user chose so); returns how many.  A write
        being attempted right now finishes (it cannot be taken back half-way)."""
        with self._cond:
            running = self._running is not None and self._running in self._queue
            kept = [self._queue.popleft()] if running else []
            dropped = list(self._queue)
            self._queue = deque(kept)
            self._wake = True
            self._publish(OutboxState(Phase.SAVING, 1) if kept else OutboxState())
            self._cond.notify_all()
        for ticket in dropped:
            ticket.done.cancel()
            if not ticket.first.done():
                ticket.first.cancel()
        return len(dropped)

    def close(self, timeout: float | None = 30.0) -> int:
        """Stop: drop what is still queued (:meth:`discard`; returns the count), wait for
        the worker (at most ``timeout`` s) and refuse further writes."""
        with self._cond:
            self._closing = True
        dropped = self.discard()
        self._thread.join(timeout)
        return dropped

    # --- the worker -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closing)
                if not self._queue:
                    return
                ticket = self._running = self._queue[0]
                self._publish(self._with(phase=Phase.SAVING, pending=len(self._queue),
                                         retry_at=None))  # fmt: skip
            try:
                result = ticket.write()
            except RETRIABLE as exc:
                if not self._keep(ticket, exc):
                    self._finish(ticket, error=exc)
            except BaseException as exc:  # reported through the ticket
                self._finish(ticket, error=exc)
            else:
                self._finish(ticket, result=result)

    def _keep(self, ticket: Ticket[Any], error: BaseException) -> bool:
        """A retriable fault: the write stays first; wait for the backoff or :meth:`retry_now`.
        False when it cannot be kept (the outbox is closing, or it was discarded)."""
        with self._cond:
            self._running = None
            if ticket not in self._queue or self._closing:
                return False
            delay = self.backoff[min(self._attempts, len(self.backoff) - 1)]
            self._attempts += 1
            for waiting in self._queue:
                if not waiting.first.done():
                    waiting.first.set_result(First.KEPT)
            retry_at = self.clock() + delay
            self._publish(OutboxState(Phase.WAITING, len(self._queue), retry_at,
                                      _one_line(error), headline(error)))  # fmt: skip
            self._wake = False
            while not (self._wake or self._closing) and self.clock() < retry_at:
                self._cond.wait(min(0.5, max(0.0, retry_at - self.clock())))
            return True

    def _finish(self, ticket: Ticket[T], *, result: Any = None,
                error: BaseException | None = None) -> None:  # fmt: skip
        with self._cond:
            self._running = None
            if self._queue and self._queue[0] is ticket:
                self._queue.popleft()
            self._attempts = 0
            self._publish(OutboxState(Phase.SAVING, len(self._queue)) if self._queue
                          else OutboxState())  # fmt: skip
            self._cond.notify_all()
        with ticket.lock:
            deferred = ticket.deferred
            _settle(ticket, result, error)
        if error is not None and deferred and self.on_failure is not None:
            self.on_failure(ticket, error)

    def _with(self, **changes: Any) -> OutboxState:
        values = {**self._state.__dict__, **changes}
        return OutboxState(**values)

    def _publish(self, state: OutboxState) -> None:
        """Record ``state`` (the condition is held) and tell the listener."""
        self._state = state
        if self.listener is not None:
            self.listener(state)


def _settle(ticket: Ticket[Any], result: Any, error: BaseException | None) -> None:
    for future, value in ((ticket.first, First.SAVED), (ticket.done, result)):
        if future.done():
            continue
        if error is None:
            future.set_result(value)
        else:
            future.set_exception(error)


def _one_line(error: BaseException) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return str(text).splitlines()[0]


_ATTACHED: weakref.WeakKeyDictionary[Any, Outbox] = weakref.WeakKeyDictionary()


def attach(study: Study, outbox: Outbox | None) -> None:
    """Make ``outbox`` the write queue of ``study`` (None: detach); writers that find one
    (:func:`attached`) go through it."""
    if outbox is None:
        _ATTACHED.pop(study, None)
    else:
        _ATTACHED[study] = outbox


def attached(study: Study) -> Outbox | None:
    """The write queue attached to ``study`` (None: writes go straight to the store)."""
    return _ATTACHED.get(study)


__all__ = [
    "BACKOFF_S",
    "MOVED_HEADLINE",
    "RETRIABLE",
    "First",
    "Outbox",
    "OutboxState",
    "Phase",
    "Ticket",
    "attach",
    "attached",
    "headline",
    "measurement_write",
]
