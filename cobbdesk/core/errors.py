"""One error hierarchy for everything CobbDesk reports to a user.

Every error names the file it concerns (when there is one) and says what is wrong:
which tag, what value, what was expected, which decoder is missing.  ``str(error)``
is a complete, single-line message suitable for a dialog or a CLI line.

>>> err = DicomHeaderError("/data/a.dcm", "Rows (0028,0010) is 0; expected 1..16384")
>>> str(err)
'a.dcm: Rows (0028,0010) is 0; expected 1..16384'
>>> isinstance(err, CobbdeskError)
True
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path


class CobbdeskError(Exception):
    """Base class: a problem the user can understand and act on.

    ``exit_status`` is the command line's exit status for this kind of error (documented in
    the README: 1 for most errors, 3 locked, 4 read-only, 5 disk full, 6 server unavailable).
    """

    exit_status = 1

    def __init__(self, path: str | PathLike[str] | None, problem: str) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        super().__init__(self.message)

    def __reduce__(self) -> tuple[type[CobbdeskError], tuple[Path | None, str]]:
        """Errors cross process boundaries (the isolated reader) intact."""
        return (type(self), (self.path, self.problem))

    @property
    def message(self) -> str:
        """The one-line text: ``"<file name>: <problem>"``, or the problem alone without a file."""
        return f"{self.path.name}: {self.problem}" if self.path is not None else self.problem


class FilmError(CobbdeskError):
    """A radiograph could not be opened or displayed."""


class NotDicomError(FilmError):
    """The file is not DICOM (or is so damaged that no DICOM structure can be read)."""


class MissingFileMetaError(FilmError):
    """A legacy file without preamble/File Meta: readable only with an explicit ``force``."""


class DicomHeaderError(FilmError):
    """A required attribute is missing or has an impossible value."""


class PixelDataError(FilmError):
    """Pixel data are absent, truncated, oversized or cannot be decoded."""


class UnsupportedTransferSyntaxError(PixelDataError):
    """No available decoder handles the file's transfer syntax."""


class GeometryError(CobbdeskError):
    """Points that do not define a measurement (e.g. a zero-length line)."""


class StoreError(CobbdeskError):
    """The study database refused an operation or is damaged."""


class ValidationError(CobbdeskError):
    """A value (lab value, CSV row, argument) is outside what is possible."""


class StudyLockedError(StoreError):
    """Another program holds the study's write lock for longer than CobbDesk waits."""

    exit_status = 3


class StudyReadOnlyError(StoreError):
    """The study file or its folder cannot be written (permissions, read-only medium)."""

    exit_status = 4


class DiskFullError(CobbdeskError):
    """The disk (or the user's quota) holding a study or an export is full."""

    exit_status = 5


class StudyMovedError(StoreError):
    """The open study's file was moved, renamed or replaced: its writes are refused
    (:mod:`cobbdesk.core.store.file_identity`)."""


class ServerUnavailableError(StoreError):
    """The study's database server cannot be reached, went away, or did not answer in time."""

    exit_status = 6


class ExportError(CobbdeskError):
    """An export could not be written."""
