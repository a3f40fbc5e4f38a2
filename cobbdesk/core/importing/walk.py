"""Walking a folder for the import: files in :func:`os.walk`'s order, each with its real path.

The scan keeps each file once by its resolved path (a file reached through a folder and a
DICOMDIR, or through two paths, is scanned once); resolving every file with
:meth:`pathlib.Path.resolve` checks each part of its path and took a tenth of a 10,000-file
scan, so a folder is resolved once and its plain files joined to it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path


def walk_files(
    folder: Path, cancel: Callable[[], bool] | None = None
) -> Iterator[tuple[Path, Path]]:
    """``(file, file resolved)`` in :func:`os.walk`'s order (top-down, sorted, symbolic links
    to folders listed but not followed, unreadable folders passed over).

    A file that is not a symbolic link resolves to its folder's real path joined with its
    name (the same path :meth:`~pathlib.Path.resolve` gives); a symbolic link is resolved,
    unless its target is missing (then the link's own path: the path the user gave is named).
    ``cancel()`` is asked before each folder; when True the walk ends.
    """
    pending = [str(folder)]
    while pending:
        top = pending.pop()
        if cancel is not None and cancel():
            return
        try:
            with os.scandir(top) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            continue
        real: str | None = None
        folders: list[str] = []
        for entry in entries:
            if _is_dir(entry):
                if not entry.is_symlink():
                    folders.append(entry.path)
                continue
            if entry.is_symlink():  # a dangling link stays itself: reported by its own name
                target = Path(entry.path).resolve()
                yield Path(entry.path), target if target.exists() else Path(entry.path)
                continue
            real = real or os.path.realpath(top)
            yield Path(entry.path), Path(real, entry.name)
        pending += reversed(folders)


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False
