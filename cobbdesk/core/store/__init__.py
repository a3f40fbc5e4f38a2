"""The study database: one SQLite file per study (see :class:`Study`)."""

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
