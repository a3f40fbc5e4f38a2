"""Who wrote the stored version of a measurement a write conflicted with (#15).

The conflict question must say whose version it is: another rater ("dr_b"), the same rater in
another program, or another window of this very app ("your other window (Compare view)").
The stored row and its last audit entry tell the rater and OS user; the writes that landed in
this process (:func:`cobbdesk.core.store.film_events.landed`) tell whether the stored row is
one of ours — it is when it holds exactly what our other window wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from cobbdesk.core.measure.measurement import CobbMeasurement
from cobbdesk.core.store import film_events
from cobbdesk.core.store.conflicts import Writer
from cobbdesk.core.store.measurement_rows import row_state, shown_state
from cobbdesk.core.store.schema import audit, measurements


def measurement_writer(study: Any, measurement_id: str) -> Writer | None:
    """The :class:`Writer` of the stored version of ``measurement_id`` (None: no such row).

    ``study`` is a :class:`~cobbdesk.core.store.study.Study` (its ``engine``); two reads, run
    where the write ran (the write queue's worker).  The audit's newest entry of the row gives
    the rater and user (its ``seq`` order; the row's own ``rater`` when none is found).
    Raises SQLAlchemy's errors.
    """
    mid = str(measurement_id)
    with study.engine.connect() as conn:
        row = conn.execute(select(measurements).where(measurements.c.id == mid)).mappings().first()
        entry = conn.execute(
            select(audit.c.rater, audit.c.actor, audit.c.utc)
            .where(audit.c.entity == "measurement", audit.c.entity_id == mid)
            .order_by(audit.c.seq.desc()).limit(1)
        ).first()  # fmt: skip
    if row is None:
        return None
    writer = Writer(str(entry[0] or ""), str(entry[1] or ""), str(entry[2] or "")) if entry \
        else Writer(str(row["rater"] or ""), "")  # fmt: skip
    ours = film_events.landed(study, mid)
    if ours is not None and same_version(row, ours[1]):
        return replace(writer, here=True, window=film_events.window_name(ours[0]))
    return writer


def same_version(row: Mapping[str, Any], written: CobbMeasurement | None) -> bool:
    """True when the stored ``row`` is the version ``written`` (None: a deletion) — every
    compared column equal (the cached angle aside, as in the conflict check)."""
    if written is None:
        return row["deleted_utc"] is not None
    if row["deleted_utc"] is not None:
        return False
    stored = row_state(row)
    return all(stored[k] == v for k, v in shown_state(written).items())


__all__ = ["measurement_writer", "same_version"]
