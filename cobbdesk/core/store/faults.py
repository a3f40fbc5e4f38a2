"""Database and file-system faults translated into errors a user can act on.

SQLite reports a fault as an exception whose *primary result code* (the low byte of
``sqlite_errorcode``, https://www.sqlite.org/rescode.html) says what happened; the operating
system reports ``errno``.  :func:`translate` maps both to one :class:`CobbdeskError` subclass:

==================================  =============================  ===========
fault                               error                          CLI status
==================================  =============================  ===========
SQLITE_BUSY, SQLITE_LOCKED          :class:`StudyLockedError`      3
SQLITE_READONLY, SQLITE_PERM,       :class:`StudyReadOnlyError`    4
EROFS, EACCES, EPERM, unopenable
file in an unwritable folder
SQLITE_FULL, ENOSPC, EDQUOT,        :class:`DiskFullError`         5
SQLITE_IOERR on a disk with no room
SQLITE_CORRUPT, SQLITE_NOTADB       :class:`StoreError` (damaged)  1
==================================  =============================  ===========

Messages name the file and say what to do; they never include SQL text or parameters (the
parameters of a failed write are patient data: names, MRNs, birth dates).
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from pathlib import Path

from cobbdesk.core.errors import (
    CobbdeskError,
    DiskFullError,
    ExportError,
    ServerUnavailableError,
    StoreError,
    StudyLockedError,
    StudyMovedError,
    StudyReadOnlyError,
)

# Primary result codes (https://www.sqlite.org/rescode.html).
SQLITE_PERM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 3, 5, 6, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 10, 11, 13, 14, 26
#: Below this many free bytes an I/O error is taken for a full disk.
LOW_SPACE_BYTES = 1 << 20

LOCKED = (
    "the study is locked: another program (another CobbDesk window or command) is writing "
    "to it; nothing was saved. Wait until it has finished, or close it, then try again"
)
READ_ONLY = "the {what} cannot be written: {why}; nothing was saved. {advice}"
ADVICE = {
    "study": "Copy the study to a folder you can write to, or ask for write permission, "
    "then try again",
}
OTHER_ADVICE = "Choose a folder you can write to, or ask for write permission, then try again"
DISK_FULL = "the disk is full; nothing was saved. Free some space on that disk, then try again"
NOTHING_SAVED = "; nothing was saved"
#: Faults of the study as a whole (its lock, server, rights, disk): every later write of a run
#: would meet the same one, so a run of row writes stops at the first (:func:`stopped`).
STUDY_FAULTS: tuple[type[CobbdeskError], ...] = (
    StudyLockedError, StudyReadOnlyError, DiskFullError, ServerUnavailableError, StudyMovedError,
)  # fmt: skip
STOPPED = (
    "{problem}. The import stopped there: {saved} row(s) had been saved before it; running "
    "the same command again is safe (rows already saved are reported as unchanged)"
)


def stopped(error: CobbdeskError, saved: int) -> CobbdeskError:
    """``error`` (one of :data:`STUDY_FAULTS`) restated for a run of row writes that it ended
    after ``saved`` rows were saved: same class (same exit status), same path, saying how
    many rows were saved and that re-running is safe; "nothing was saved" is dropped."""
    problem = error.problem.replace(NOTHING_SAVED, "").rstrip(". ")
    return type(error)(error.path, STOPPED.format(problem=problem, saved=saved))


def writable(path: Path) -> bool:
    """True when both the study file and its folder can be written (SQLite's WAL needs both)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def read_only_reason(path: Path) -> str:
    """Why ``path`` cannot be written, in words (its folder, the file, or either)."""
    if not os.access(path.parent, os.W_OK):
        return "its folder is read-only"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    return "the file or its folder is read-only"


def read_only(path: Path, what: str = "study") -> StudyReadOnlyError:
    """The read-only error for ``path`` (``what``: "study", "export", "report"...)."""
    advice = ADVICE.get(what, OTHER_ADVICE)
    return StudyReadOnlyError(
        path, READ_ONLY.format(what=what, why=read_only_reason(path), advice=advice)
    )


def _disk_nearly_full(path: Path) -> bool:
    try:
        return shutil.disk_usage(path.parent).free < LOW_SPACE_BYTES
    except OSError:
        return False


def os_error(error: OSError, path: Path, what: str = "study") -> CobbdeskError:
    """An ``OSError`` while reading or writing ``path`` (a ``what``) as a one-line error."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(path, DISK_FULL)
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return read_only(path, what)
    reason = error.strerror or type(error).__name__
    if what != "study":
        return ExportError(path, f"cannot write the {what} ({reason})")
    return StoreError(path, f"the study file could not be read or written ({reason})")


def damaged(path: Path, detail: str) -> StoreError:
    """The StoreError for a damaged study file, with ``detail`` saying what was found."""
    return StoreError(path, f"the study file is damaged ({detail}); it was not changed.")


def translate(error: BaseException, path: Path) -> CobbdeskError | None:
    """The user-facing error for a driver or OS fault on ``path``; None when not a fault
    (a constraint or SQL error is a bug, left as it is; the engine hides its parameters).

    ``error`` may be a SQLAlchemy wrapper (its ``orig`` is the driver's exception).
    """
    if isinstance(error, CobbdeskError):
        return error
    original = getattr(error, "orig", None) or error
    if isinstance(original, OSError):
        return os_error(original, path)
    if not isinstance(original, sqlite3.Error):
        return None
    code = int(getattr(original, "sqlite_errorcode", 0) or 0) & 0xFF
    name = str(getattr(original, "sqlite_errorname", "") or type(original).__name__)
    return _sqlite_fault(code, name, path)


def _sqlite_fault(code: int, name: str, path: Path) -> CobbdeskError | None:  # noqa: PLR0911
    """The error for SQLite primary result ``code`` (``name``: its extended name)."""
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return StudyLockedError(path, LOCKED)
    if code in (SQLITE_READONLY, SQLITE_PERM):
        return read_only(path)
    if code == SQLITE_FULL or (code == SQLITE_IOERR and _disk_nearly_full(path)):
        return DiskFullError(path, DISK_FULL)
    if code == SQLITE_CANTOPEN:
        if not writable(path):
            return read_only(path)
        return StoreError(path, f"the study file could not be opened ({name})")
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return damaged(path, name)
    if code == SQLITE_IOERR:
        return StoreError(path, f"the disk reported an input/output error ({name})")
    return None  # constraints, SQL errors: programming errors, reported as internal ones
