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

__all__ = ["held_identities", "is_held"]

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


def is_held(path: Path, held: frozenset[Identity] | None = None) -> bool:
    """Whether this process has ``path`` open (``held``: :func:`held_identities` listed once
    for many paths).  False for a path naming no file; True when the descriptors cannot be
    listed (do not risk the locks)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return False
    held = held_identities() if held is None else held
    return held is None or (info.st_dev, info.st_ino) in held
