"""Store writes made safe to retry: a lost acknowledgement never applies an edit twice.

The write queue (:class:`~cobbdesk.core.store.outbox.Outbox`) retries a write after a
retriable fault; :func:`measurement_write` pins the write's conflict baseline so that a retry
after the server committed finds the row already as wanted and writes nothing (no second
row, no second audit entry).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from cobbdesk.core.store.study import Study

T = TypeVar("T")


def measurement_write(
    study: Study,
    measurement_id: str,
    call: Callable[[], T],
    *,
    seen: dict[str, dict[str, Any]] | None = None,
) -> Callable[[], T]:
    """``call`` (a save, delete or restore of one measurement) made safe to repeat.

    The store checks a write against the measurement as its caller last saw it (its
    conflict baseline: ``seen``, the window's table ``call`` writes through, by default this
    study object's own), and moves that baseline when it writes — before the commit.  When the
    commit's acknowledgement is lost the baseline has moved whether or not the server
    committed; a plain retry would then report the write's own effect as another rater's
    change.  The returned write records the baseline at its first attempt and puts it back
    before every retry, so a retry either writes (not committed before) or finds the stored
    row already as wanted and writes nothing (committed: "the very same change").
    """
    if seen is None:
        seen = study._seen_measurements  # the store's own baseline table (same package)
    pinned: list[dict[str, Any] | None] = []

    def write() -> T:
        if not pinned:
            before = seen.get(measurement_id)
            pinned.append(dict(before) if before is not None else None)
        elif pinned[0] is None:
            seen.pop(measurement_id, None)
        else:
            seen[measurement_id] = dict(pinned[0])
        return call()

    return write
