"""What an import did: the films imported, the duplicates, errors and skipped files.

Shared by the DICOM import (:mod:`.importer`) and the photo import (:mod:`.photos`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cobbdesk.core.importing.scan import ScanIssue

__all__ = ["DuplicateFilm", "ImportReport", "ImportedFilm"]


@dataclass(frozen=True)
class ImportedFilm:
    """One film added: its file, SOP Instance UID, film id, the patient's study ID, the visit
    (``"admission"``, ``"month3"`` or ``"other <label>"``) and the region.
    """

    path: str
    sop_instance_uid: str
    film_id: int
    study_id: str
    visit: str  # "admission", "month3" or "other <label>"
    region: str


@dataclass(frozen=True)
class DuplicateFilm:
    """A file not added because the film is already there (``duplicate_of`` says where)."""

    path: str
    sop_instance_uid: str
    duplicate_of: str  # "film 12 (path)" or "path (earlier in this import)"


@dataclass
class ImportReport:
    """What an import did: films added, duplicates, errors and skipped files, new patients
    (study IDs) and visits, warnings, the number of files looked at, and whether it was cancelled.
    """

    imported: list[ImportedFilm] = field(default_factory=list)
    duplicates: list[DuplicateFilm] = field(default_factory=list)
    errors: list[ScanIssue] = field(default_factory=list)
    skipped: list[ScanIssue] = field(default_factory=list)
    new_patients: list[str] = field(default_factory=list)  # study IDs
    new_visits: list[str] = field(default_factory=list)  # "P0001 admission 2026-01-05"
    warnings: list[str] = field(default_factory=list)
    files: int = 0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing was rejected (skipped non-DICOM files are not rejections)."""
        return not self.errors and not self.cancelled

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field (issues as ``{"path", "message"}``) plus ``ok``."""
        data = asdict(self)
        data["errors"] = [{"path": str(e.path), "message": e.message} for e in self.errors]
        data["skipped"] = [{"path": str(e.path), "message": e.message} for e in self.skipped]
        data["ok"] = self.ok
        return data
