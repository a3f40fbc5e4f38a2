"""The study database: one SQLite file per study, or a PostgreSQL server (see :class:`Study`).

Names are loaded on first use (PEP 562): ``from cobbdesk.core.store import pg_url`` or a
command that never opens a study must not load SQLAlchemy and the whole store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
