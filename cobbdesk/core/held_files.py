"""Files this process holds open, which it must never open and close again.

POSIX advisory locks belong to a process and a file, not to a descriptor: closing *any*
descriptor of a file drops every lock the process holds on it (POSIX ``fcntl``, "all locks
associated with a file for a given process shall be removed when a file descriptor for that
file is closed by that process"; https://www.sqlite.org/howtocorrupt.html §2.2).  SQLite keeps
its locks on an open study, its ``-wal`` and its ``-shm`` that way, so reading such a file
with ``open()`` — to sniff whether a file in a folder is a film, or whether an output path is
a study — drops the locks of the study this process has open, and another program may then
checkpoint and delete the ``-wal`` under it.  These functions tell such files by the device
and inode of every descriptor in ``/dev/fd`` (``/proc/self/fd`` on Linux, ``/dev/fd`` on the
BSDs and macOS).  On Windows a lock belongs to its handle and reading a file drops none.

>>> import tempfile
>>> with tempfile.NamedTemporaryFile() as handle:
...     is_held(Path(handle.name))
True
>>> is_held(Path(tempfile.gettempdir()) / "no such file")
False
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SQLITE_NAMES", "held_identities", "is_held"]

Identity = tuple[int, int]
"""``(st_dev, st_ino)``: a file's identity on this machine."""


def held_identities() -> frozenset[Identity] | None:
    """The identities of every file this process has a descriptor of; None when they cannot
    be listed (then no file may be assumed free); empty on Windows (nothing to protect)."""
    if os.name == "nt":
        return frozenset()
    try:
        descriptors = os.listdir("/dev/fd")
    except OSError:
        return None
    found = set()
    for fd in descriptors:
        try:
            info = os.fstat(int(fd))
        except (OSError, ValueError):  # the listing's own descriptor, closed by now
            continue
        found.add((info.st_dev, info.st_ino))
    return frozenset(found)


SQLITE_NAMES = (".cobbdesk", ".cobbdesk-wal", ".cobbdesk-shm", ".cobbdesk-journal")
"""Endings of a study and its companions: when the descriptors cannot be listed, files named
so are taken as held (nothing else is: a folder walk must still find its films)."""
LIST = object()
"""``held`` default of :func:`is_held`: list the descriptors now."""


def is_held(path: Path, held: object = LIST) -> bool:
    """Whether this process has ``path`` open (``held``: :func:`held_identities` listed once
    for many paths, None when it could not list them).  False for a path naming no file;
    when the descriptors cannot be listed, True for a study's or companion's name only."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    found = held_identities() if held is LIST else held
    if found is None:  # cannot tell: do not risk the locks of what may be a study
        return Path(path).name.endswith(SQLITE_NAMES)
    return isinstance(found, frozenset) and (info.st_dev, info.st_ino) in found
