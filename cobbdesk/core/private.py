"""Files only their owner can read: exports, reports, logs and settings (0600, folders 0700).

A study holds patient data and is created 0600 (:func:`cobbdesk.core.store.dialect.create_file`);
what is derived from it must not be more readable.  Files are written to a temporary file
in the target folder, created 0600 by :func:`tempfile.mkstemp`, flushed to disk and then
renamed over the target (POSIX ``rename`` is atomic within a file system), so a reader never
sees a half-written file and a failure (full disk) leaves nothing behind.

>>> import tempfile, pathlib, stat
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> target = write_private(folder / "report.html", "<p>hello</p>")
>>> oct(stat.S_IMODE(target.stat().st_mode)), target.read_text()
('0o600', '<p>hello</p>')
>>> sorted(p.name for p in folder.iterdir())
['report.html']
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from cobbdesk.core.errors import ExportError
from cobbdesk.core.held_files import is_held

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(path: Path) -> Path:
    """Create ``path`` (and parents) as 0700 when missing; an existing folder is left alone."""
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    return path


def check_target(target: Path) -> None:
    """ExportError (one line naming it) when ``target`` cannot be replaced by a new file
    safely: its folder does not exist, or it exists and is not a regular file — a symbolic
    link (the rename would replace the link, not what it points to), a named pipe, a device
    (``/dev/stdout``), a folder or a socket.  Nothing is touched."""
    _refuse_companion(target)
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        if not target.parent.is_dir():
            raise ExportError(None, f"cannot write {target.name}: the folder {target.parent} "
                              "does not exist; create it or choose another") from None  # fmt: skip
        return
    except OSError:  # unreadable folder: the write itself reports it
        return
    if stat.S_ISREG(mode):
        _refuse_precious(target)
        return
    kind = next((k for test, k in _KINDS if test(mode)), "not a regular file")
    raise ExportError(None, f"{target}: is {kind}, not a regular file; it was left untouched. "
                      "Choose the name of a new or regular file")  # fmt: skip


_COMPANIONS = ("-wal", "-shm", "-journal")


def _refuse_companion(target: Path) -> None:
    """ExportError when ``target`` is named like a SQLite companion file (``-wal``, ``-shm``,
    ``-journal``) of an existing file beside it, whether or not the companion exists: SQLite
    takes such a file for the study's own (a ``-journal`` is rolled back and deleted at the
    next open — an export written there would vanish)."""
    name = target.name
    if any(name.endswith(end) and target.with_name(name[: -len(end)]).is_file()
           for end in _COMPANIONS):  # fmt: skip
        raise ExportError(None, f"{target}: is the name of a study's SQLite companion file; "
                          "it was left untouched. Choose the name of a new file")  # fmt: skip


def _refuse_precious(target: Path) -> None:
    """ExportError when the regular file ``target`` is a study (any SQLite database: its
    header "SQLite format 3\\0", SQLite file format §1.3) or a DICOM film ("DICM" at byte
    128, PS3.10 §7.1): an export, report or JSON named like the study by a slip of ``-o``
    replaced the whole study (tester's find).  A file this process has open (its own study,
    whose locks a read would drop: :mod:`~cobbdesk.core.held_files`) is refused unread."""
    if is_held(target):
        raise ExportError(None, f"{target}: is a study (SQLite database); it was left "
                          "untouched (open in CobbDesk: not read). Choose the name of a new "
                          "file")  # fmt: skip
    try:
        with target.open("rb") as f:
            head = f.read(132)
    except OSError:  # unreadable: the write itself reports it
        return
    what = ""
    if head.startswith(b"SQLite format 3\x00"):
        what = "a study (SQLite database)"
    elif head[128:132] == b"DICM":
        what = "a DICOM film"
    if what:
        raise ExportError(None, f"{target}: is {what}; it was left untouched. Choose the "
                          "name of a new file or of an earlier export")  # fmt: skip


_KINDS = (
    (stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISDIR, "a folder"),
    (stat.S_ISSOCK, "a socket"),
)  # fmt: skip


def temp_beside(target: Path) -> Path:
    """An empty 0600 temporary file in ``target``'s folder, keeping its suffix (writers that
    choose the format by suffix still work).  Raises OSError, or ExportError when ``target``
    is not a regular file or its folder is missing (:func:`check_target`)."""
    check_target(target)
    try:
        fd, name = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=f".partial{target.suffix}", dir=target.parent
        )
    except OSError as exc:  # name the file asked for, not the temporary one
        raise type(exc)(exc.errno, exc.strerror, str(target)) from None
    os.close(fd)
    return Path(name)


def sync_file(path: Path) -> None:
    """Flush ``path``'s data to the disk (``fsync``)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (``fsync`` on the directory; POSIX only)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(temp: Path, target: Path) -> Path:
    """Rename a finished temporary file over ``target`` durably; returns ``target``."""
    sync_file(temp)
    os.replace(temp, target)
    sync_folder(target.parent)
    return target


def write_private(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` as a 0600 file, atomically.

    Raises OSError (nothing is left behind: the temporary file is removed).
    """
    target = Path(path)
    temp = temp_beside(target)
    try:
        with temp.open("wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        return publish(temp, target)
    finally:
        temp.unlink(missing_ok=True)
