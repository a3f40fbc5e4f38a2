"""The study file's identity: writes are refused once its path names another file, or none.

An open SQLite study keeps working through its pooled connections after the file is moved,
renamed or replaced: each connection holds the file open (a POSIX descriptor names the inode,
not the path), while SQLite finds the ``-wal`` and ``-shm`` companions *by name* beside the
path it was given (https://www.sqlite.org/walformat.html §1).  Saves would then land in the moved
inode, or only in a ``-wal`` left at the old name, or be applied to the file now at that name —
with the window saying "All changes saved".  So the study records the identity of its file when
it opens — ``(st_dev, st_ino)`` of :func:`os.stat`, POSIX's identity of a file — and
:class:`FileGuard` compares it with what the path names now before every write transaction and
again at every commit (:mod:`~cobbdesk.core.store.dialect`'s ``begin`` and ``commit``
listeners): a mismatch refuses the write with :class:`~cobbdesk.core.errors.StudyMovedError`
before anything reaches the file or its ``-wal``.  The ``-wal`` of a connection in WAL mode
must also still be at its name: deleted while open, later connections would not see the
commits made into it.  The pool opens no new connection once the path names another file
(:func:`~cobbdesk.core.store.dialect.engine_for`): it would read another study into this one,
and SQLite would pair that file with the ``-wal`` this study left at the name.

Why "put it back" and not "open it from its new place": SQLite keeps the newest commits in the
``-wal`` until a checkpoint, and closing a connection to a renamed file does not checkpoint —
the ``-wal`` stays at the old name (tested).  The file moved alone shows, opened elsewhere, the
study as of its last checkpoint; moved back, every commit is there again.

Cost: one ``stat`` per write transaction, per commit and per new pooled connection, never per
read (:meth:`FileGuard.check` with the ``-wal``: 15 µs in Python against about 5 ms for one
small write transaction with ``synchronous=FULL``).  Moving the file back (the same inode at
the path again) lets writes resume.  Not caught: a file *rewritten in place* (``cp other
study.cobbdesk`` keeps the inode and truncates it) — damage to the open file, not a move.  A
file system whose inode numbers are not stable (CIFS mounted ``noserverino``, some FUSE file
systems) may report a move that did not happen: saves pause, edits are kept.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cobbdesk.core.errors import StudyMovedError

MOVED = (
    "the study file was moved, renamed or replaced while open; nothing was saved. Put it back "
    "where it was to go on saving (its newest changes may still be in the -wal file left "
    "there), and close the study before moving it"
)

WAL_GONE = (
    "the study's -wal file was moved or deleted while the study was open; nothing was saved. "
    "Close the study and open it again"
)


@dataclass(frozen=True)
class FileIdentity:
    """A file's identity on this machine: ``device`` (``st_dev``) and ``inode`` (``st_ino``)."""

    device: int
    inode: int


def identity(path: Path | str) -> FileIdentity | None:
    """The identity of the file ``path`` names now (symbolic links followed); None when the
    path names no file (missing, a folder, or not reachable)."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return FileIdentity(found.st_dev, found.st_ino)


def wal_path(path: Path) -> Path:
    """The ``-wal`` companion SQLite uses beside ``path`` (same folder, name + ``-wal``)."""
    return path.with_name(path.name + "-wal")


class FileGuard:
    """The identity of the study file ``path`` recorded when the study opened.

    :meth:`check` raises :class:`StudyMovedError` when ``path`` no longer names that file;
    :meth:`moved` says the same without raising (the GUI's watcher asks it on its poll).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.real = path.resolve()  # what SQLite opened (the engine's URI resolves it too)
        self.opened = identity(self.real)

    def moved(self) -> bool:
        """True when the path names another file or none (a stat; safe on any thread)."""
        return self.opened is None or identity(self.real) != self.opened

    def error(self) -> StudyMovedError:
        """The refusal, naming the path the study was opened from."""
        return StudyMovedError(self.path, MOVED)

    def check(self, *, wal: bool = False) -> None:
        """Raise :meth:`error` when the file moved; with ``wal`` (a connection in WAL mode)
        also when its ``-wal`` companion is no longer at its name."""
        if self.moved():
            raise self.error()
        if wal and not os.path.isfile(wal_path(self.real)):
            raise StudyMovedError(self.path, WAL_GONE)


__all__ = ["MOVED", "WAL_GONE", "FileGuard", "FileIdentity", "identity", "wal_path"]
