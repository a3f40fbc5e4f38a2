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
the ``-wal`` stays at the old name (tested).  Each write is checkpointed soon after it
(:mod:`~cobbdesk.core.store.checkpoint`), so the moved file usually holds every commit; the
ones a reader held back, or the last burst's, stay in that ``-wal``.  Moved back, every commit
is there again.

A file *rewritten in place* keeps its inode (``cp other.cobbdesk study.cobbdesk`` truncates and
writes into it; so do some sync tools).  So each study also carries its own identity *in* the
file: a random 31-bit tag in the header's "user version" field (:data:`TAG_OFFSET`; SQLite
never uses it, https://www.sqlite.org/fileformat.html §1.3.14), written by the study's first
write transaction and read straight from the file — page 1 read through SQLite's
``immutable`` URI (never ``open()``: :func:`file_tag`) — before every write transaction and
at every commit.  Read straight from the file because
SQL cannot see the rewrite: a pooled connection keeps the pages it read in its cache (WAL mode
revalidates them against the ``-shm`` index, which a rewrite does not touch) and reads pages
still in the ``-wal`` from there, so a ``meta`` row read in the transaction gives this study's
value over another study's file (tried).  Another study's file has another tag (or none: a
study from before the tag, or no SQLite header at all): writes are refused with
:data:`REPLACED`, the edit kept; the study's own file put back lets them resume.  A study's
tag reaches the file with the first checkpoint after it is written (:mod:`checkpoint`, at
once unless a reader holds it back); until then an older study's file (no tag) is accepted.
Not caught: a rewrite with a *copy of the same study* (same tag: an older copy, a backup, a
sync of the same study from another machine).

Cost: one ``stat`` (about 10 µs) and one read of the file's header through a short-lived
SQLite connection (about 80 µs) before and after taking the write lock, at every commit and
per new pooled connection, never per read: about 0.3–0.4 ms per write transaction (measured
in review: ``file_tag`` median 79 µs, :meth:`FileGuard.check` with the ``-wal`` 96 µs)
against 13–20 ms for saving one measurement with ``synchronous=FULL`` and the
checkpoint after it.  Moving the file back (the same inode at the path again) lets writes
resume.  A file system whose inode numbers are not stable (CIFS mounted ``noserverino``, some
FUSE file systems) may report a move that did not happen: saves pause, edits are kept.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cobbdesk.core.errors import StudyMovedError

MOVED = (
    "the study file was moved, renamed or replaced while open; nothing was saved. Put it back "
    "where it was to go on saving (its newest changes may still be in the -wal file left "
    "there), and close the study before moving it"
)

REPLACED = (
    "the study file was overwritten with another study while open; nothing was saved, your "
    "edits are kept. Put this study's file back at this name to go on saving, and close the "
    "study before replacing its file"
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


TAG_OFFSET = 60
"""The header's "user version" (4 bytes, big-endian, signed; fileformat.html §1.3.14)."""


UNREADABLE = -(2**40)
"""What :func:`file_tag` returns when the file is SQLite but its header could not be read
alone: its main file is mid-checkpoint (a checkpoint stopped by a full disk leaves it
inconsistent without its ``-wal``, which SQLite replays: "database disk image is malformed"
for an immutable read, seen by a tester).  No evidence either way: never a refusal."""


def file_tag(path: Path | str) -> int | None:
    """The study tag in the header of the file at ``path`` as it is on disk (0: none written;
    None: no SQLite header there — missing, empty, being rewritten, or not SQLite;
    :data:`UNREADABLE`: SQLite, but page 1 cannot be read without the ``-wal``).

    Read through SQLite itself, never with ``open()``: this process holds SQLite's POSIX
    locks on the study file, and closing *any* descriptor of a file drops every lock the
    process holds on it (https://www.sqlite.org/howtocorrupt.html §2.2) — another program
    then deleted the ``-wal`` under our waiting write.  SQLite's own unix VFS keeps such a
    descriptor open until its locks are gone.  ``immutable=1`` reads page 1 from the file
    itself (no ``-wal``, no ``-shm``, no lock): what is on disk, as this check needs.
    """
    for attempt in range(_TAG_ATTEMPTS):
        try:
            if os.stat(path).st_size < TAG_OFFSET + 4:
                return None
            return _user_version(f"file:{quote(str(Path(path).resolve()))}?mode=ro&immutable=1")
        except (OSError, ValueError):
            return None
        except sqlite3.DatabaseError as exc:  # not SQLite: "file is not a database"
            if "malformed" not in str(exc):
                return None
            time.sleep(0.002 * (attempt + 1))  # read while a checkpoint was writing: again
    return UNREADABLE


_TAG_ATTEMPTS = 8
"""Reads of the header while a checkpoint is writing the file (seen: 6 in 8,000 reads report
"database disk image is malformed" without locks) are tried again, up to ~70 ms in all."""


def _user_version(uri: str) -> int:
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def new_tag() -> int:
    """A fresh study tag: random in 1 … 2**31 - 1 (never 0, "none")."""
    return secrets.randbelow(2**31 - 1) + 1


def wal_path(path: Path) -> Path:
    """The ``-wal`` companion SQLite uses beside ``path`` (same folder, name + ``-wal``)."""
    return path.with_name(path.name + "-wal")


class FileGuard:
    """The identity of the study file ``path`` recorded when the study opened.

    :meth:`check` raises :class:`StudyMovedError` when ``path`` no longer names that file, or
    the file now holds another study (its tag, :func:`file_tag`); :meth:`moved` says the same
    without raising (the GUI's watcher asks it on its poll).  :attr:`tag` is the tag found in
    the file at open; :attr:`assigned` the one the study's writes put in a file that had none
    (set by :mod:`~cobbdesk.core.store.dialect`'s write path, accepted once it is on disk).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.real = path.resolve()  # what SQLite opened (the engine's URI resolves it too)
        self.opened = identity(self.real)
        found = file_tag(self.real)
        self.tag = None if found == UNREADABLE else found
        self.assigned: int | None = None

    @property
    def tagged(self) -> bool:
        """True once this study's tag is known to be in the file on disk."""
        return bool(self.tag)

    def problem(self) -> str | None:
        """:data:`MOVED` when the path names another file or none, :data:`REPLACED` when the
        file holds another study, else None (a stat and a 64-byte read; any thread)."""
        if self.opened is None or identity(self.real) != self.opened:
            return MOVED
        found = file_tag(self.real)
        if found in (UNREADABLE, self.tag) or not (found or self.tag):  # no evidence,
            return None  # the same tag, or none either side
        if self.assigned is not None and found == self.assigned:
            self.tag = found  # this study's own tag has reached the file
            return None
        # no tag known yet: one found on disk may be another program's write of this study
        # (SQL decides, under the write lock: :meth:`claim`)
        return REPLACED if self.tag else None

    def claim(self, stored: int) -> int:
        """The tag a write transaction must carry while none is known on disk.

        Called under the write lock with ``stored``, the tag the study's data carries (the
        header's user version read in the transaction; 0: none).  Returns ``stored``, or when
        0 a new tag for the transaction to write.  StudyMovedError (:data:`REPLACED`) when
        the file on disk carries a tag that this study's data does not.
        """
        found = file_tag(self.real)
        if found and found not in (stored, UNREADABLE):
            raise StudyMovedError(self.path, REPLACED)
        self.assigned = stored or self.assigned or new_tag()
        return self.assigned

    def moved(self) -> bool:
        """True when :meth:`problem` finds one: writes are refused."""
        return self.problem() is not None

    def error(self) -> StudyMovedError:
        """The refusal, naming the path the study was opened from."""
        return StudyMovedError(self.path, self.problem() or MOVED)

    def check(self, *, wal: bool = False) -> None:
        """Raise :meth:`error` when the file moved or was overwritten; with ``wal`` (a
        connection in WAL mode) also when its ``-wal`` is no longer at its name."""
        problem = self.problem()
        if problem is not None:
            raise StudyMovedError(self.path, problem)
        if wal and not os.path.isfile(wal_path(self.real)):
            raise StudyMovedError(self.path, WAL_GONE)


__all__ = [
    "MOVED",
    "REPLACED",
    "TAG_OFFSET",
    "UNREADABLE",
    "WAL_GONE",
    "FileGuard",
    "FileIdentity",
    "file_tag",
    "identity",
    "new_tag",
    "wal_path",
]
