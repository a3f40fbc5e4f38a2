"""Finding film files: one walker for opening, dropping, importing and relinking.

:func:`film_files` walks what the user gave exactly as the import does
(:func:`~cobbdesk.core.importing.scan.collect_files`: folders recursively and sorted,
DICOMDIRs expanded, each file once) and keeps the files that may be DICOM by their first
bytes — the ``DICM`` prefix at offset 128 (PS3.10 §7.1), or a first data element of group
0000, 0002 or 0008 (a file without preamble) — whatever their name: ``.IMA``, ``.dcm`` or a
bare UID.  So relinking finds every film the import could have taken.
:func:`same_film` decides whether a decoded file is a study's film when it is opened;
relinking also compares the recorded header (:mod:`~cobbdesk.core.importing.relink`).

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "1.2.840.5").write_bytes(bytes(128) + b"DICM" + bytes(16))
>>> _ = (folder / "notes.txt").write_text("hello")
>>> [p.name for p in film_files([folder])[0]]
['1.2.840.5']
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.importing.scan import Cancel, ScanIssue, collect_files
from cobbdesk.core.store.records import FilmRecord

if TYPE_CHECKING:
    from cobbdesk.core.store.study import Study

_FIRST_GROUPS = (0x0000, 0x0002, 0x0008)


def may_be_dicom(path: Path) -> bool:
    """True when the first bytes of ``path`` look like DICOM (see the module docstring)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(132)
    except OSError:
        return False
    if head[128:132] == b"DICM":
        return True
    return len(head) >= 8 and struct.unpack("<H", head[:2])[0] in _FIRST_GROUPS


def film_files(
    paths: Iterable[str | Path], cancel: Cancel | None = None
) -> tuple[list[Path], list[ScanIssue]]:
    """Files under ``paths`` that may be films (folders walked, DICOMDIRs expanded), and the
    problems met (missing paths, unreadable DICOMDIRs).  A file given by name is always kept:
    the user chose it, and opening it says what is wrong."""
    given = [Path(p) for p in paths]
    files, issues = collect_files(given, cancel)
    named = {p.resolve() for p in given if p.is_file() and p.name.upper() != "DICOMDIR"}
    kept = [p for p in files if p in named or (not p.name.startswith(".") and may_be_dicom(p))]
    return kept, issues


def stored_film_path(stored: str | Path, study_file: Path | None) -> Path:
    """The absolute, resolved file of a film whose path the study holds as ``stored``.

    Films are written with absolute paths; studies made by older versions (``cobbdesk demo``
    with a relative folder) may hold relative ones, written relative to the folder the command
    ran in — the study file's folder or one above it.  A relative path is therefore tried
    against the study file's folder and then each folder above it (never the working folder
    of this process), the first existing file winning; when none exists, the path under the
    study's folder is returned (shown as missing: relink it).  Without a study file (a server
    study) a relative path is taken as it is, resolved.
    """
    path = Path(stored)
    if path.is_absolute() or study_file is None:
        return path.resolve()
    folder = Path(study_file).resolve().parent
    for base in (folder, *folder.parents):
        if (base / path).is_file():
            return (base / path).resolve()
    return (folder / path).resolve()


def study_film_path(study: Study, stored: str | Path) -> Path:
    """The file of a film of ``study`` whose path the study holds as ``stored``: the one
    place that decides which study file anchors relative paths.  A study file's folder (and
    the folders above it) for a file study; none for a server study, whose relative paths are
    taken as they are.  Same rules and result as :func:`stored_film_path`."""
    return stored_film_path(stored, None if study.server is not None else study.path)


def same_film(record: FilmRecord, film: Film) -> bool:
    """Same decoded-pixel hash; for a film imported from its header and never opened (so
    never hashed), the same SOP Instance UID."""
    if record.pixel_sha256 is not None:
        return film.pixel_sha256 == record.pixel_sha256
    return film.sop_instance_uid == record.sop_instance_uid
