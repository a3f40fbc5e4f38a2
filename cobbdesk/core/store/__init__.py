"""The study database: one SQLite file per study, or a PostgreSQL server (see :class:`Study`).

Names are loaded on first use (PEP 562): ``from cobbdesk.core.store import pg_url`` or a
command that never opens a study must not load SQLAlchemy and the whole store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cobbdesk.core.lazy import lazy_getattr

if TYPE_CHECKING:
    from cobbdesk.core.store.audit import Actor, Verification
    from cobbdesk.core.store.records import (
        FilmRecord,
        Patient,
        PatientOverview,
        Region,
        Visit,
        VisitKind,
        VisitOverview,
    )
    from cobbdesk.core.store.study import Study

_HOMES = {
    "audit": ("Actor", "Verification"),
    "records": ("FilmRecord", "Patient", "PatientOverview", "Region", "Visit", "VisitKind",
                "VisitOverview"),
    "study": ("Study",),
}  # fmt: skip
__getattr__ = lazy_getattr(__name__, _HOMES)


__all__ = [
    "Actor",
    "FilmRecord",
    "Patient",
    "PatientOverview",
    "Region",
    "Study",
    "Verification",
    "Visit",
    "VisitKind",
    "VisitOverview",
]
