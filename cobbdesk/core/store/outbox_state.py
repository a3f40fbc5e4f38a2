"""What the write queue (:class:`~cobbdesk.core.store.outbox.Outbox`) is doing, as a status bar
says it: idle, saving, or waiting for the server with the number of edits kept.

>>> OutboxState(Phase.WAITING, 3, retry_at=100.0, headline="Server unreachable").text(now=92.5)
'Server unreachable — 3 edits kept, retrying in 8 s'
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from cobbdesk.core.errors import StudyLockedError, StudyMovedError

MOVED_HEADLINE = "Study file moved, saves paused"
"""The status bar's words while the study's file is not where it was opened."""


class Phase(StrEnum):
    """What the outbox is doing: nothing to write, writing, or waiting to retry."""

    IDLE = "idle"
    SAVING = "saving"
    WAITING = "waiting"


class First(StrEnum):
    """The outcome of a write's first attempt as :meth:`Outbox.call` reports it."""

    SAVED = "saved"
    KEPT = "kept"
    """Not written yet (the server is away, or slow): kept in the queue and retried."""


@dataclass(frozen=True)
class OutboxState:
    """A snapshot: ``phase``, ``pending`` writes (the one being attempted included),
    ``retry_at`` (the clock's time of the next attempt while waiting), ``problem`` (the last
    fault, one line) and ``headline`` (its short form for a status bar)."""

    phase: Phase = Phase.IDLE
    pending: int = 0
    retry_at: float | None = None
    problem: str = ""
    headline: str = ""

    def seconds_to_retry(self, now: float | None = None) -> int:
        """Whole seconds (rounded up, ≥ 0) until the next attempt; 0 when not waiting."""
        if self.retry_at is None:
            return 0
        left = self.retry_at - (time.monotonic() if now is None else now)
        return max(0, int(-(-left // 1)))

    def text(self, now: float | None = None) -> str:
        """``"All changes saved"``, ``"Saving…"`` or ``"Server unreachable — 3 edits kept,
        retrying in 8 s"`` (``now``: the clock's time, default :func:`time.monotonic`)."""
        if self.phase is Phase.IDLE:
            return "All changes saved"
        if self.phase is Phase.SAVING:
            return "Saving…" if self.pending <= 1 else f"Saving… ({self.pending} edits)"
        edits = "1 edit" if self.pending == 1 else f"{self.pending} edits"
        return f"{self.headline} — {edits} kept, retrying in {self.seconds_to_retry(now)} s"


def headline(error: BaseException) -> str:
    """The status bar's short name of a retriable fault."""
    if isinstance(error, StudyLockedError):
        return "Study busy"
    if isinstance(error, StudyMovedError):
        return MOVED_HEADLINE
    if "statement timeout" in str(error):
        return "Server did not answer in time"
    return "Server unreachable"
