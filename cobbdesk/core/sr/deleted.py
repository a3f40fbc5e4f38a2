"""Whether the study holds a measurement soft-deleted: an SR import never brings it back."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cobbdesk.core.store.schema import measurements
from cobbdesk.core.store.study import Study


def deleted_on(study: Study, measurement_id: str) -> str | None:
    """The ``deleted_utc`` (ISO 8601, as :func:`cobbdesk.core.store.audit.utc_now` wrote it)
    of the measurement ``measurement_id`` when the study holds it soft-deleted; None when it
    is live or unknown."""
    query = select(measurements.c.deleted_utc).where(measurements.c.id == measurement_id)
    with study.engine.connect() as conn:
        value = conn.execute(query).scalar()
    return None if value is None else str(value)


def measurement_ids(study: Study) -> frozenset[str]:
    """The ids of every measurement the study holds, live or soft-deleted."""
    with study.engine.connect() as conn:
        return frozenset(str(v) for v in conn.execute(select(measurements.c.id)).scalars())


def day_text_utc(stamp: str) -> str:
    """``2026-11-30T10:05:07.123456Z`` as ``30 Nov 2026 10:05 UTC``: a moment in words, not the
    ISO date the redaction rules mask as date-looking text (``YYYY-MM-DD``); the stamp as it
    is when it is no ISO 8601 time.

    >>> day_text_utc("2026-11-30T10:05:07.123456Z")
    '30 Nov 2026 10:05 UTC'
    """
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    return f"{moment.day} {moment:%b %Y %H:%M} UTC"


__all__ = ["day_text_utc", "deleted_on", "measurement_ids"]
