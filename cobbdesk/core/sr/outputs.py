"""The folder an SR export writes into: which names it may take, moving the reports in, and
leaving no folder of its own behind when it writes nothing.

* :func:`check_target`: a report may take a new name, or replace an earlier export of the same
  film (CobbDesk's own SR, made again from the study); any other file — a study, a film, a
  link, a plain file, another program's SR — is left untouched and the export refused, asking
  for a new folder.
* :func:`publish_all`: every report moved in, then the audit; a failure puts back what the
  folder held.
* :func:`new_folders` / :func:`remove_new_folders`: the folders an export creates for its
  target, removed again (when still empty) when the export is refused or fails.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from cobbdesk.core import private
from cobbdesk.core.errors import ExportError
from cobbdesk.core.sr import codes as c


def evidence_uid(sr: Dataset) -> str:
    """The SOP Instance UID of the SR's (first) evidence image (Current Requested Procedure
    Evidence Sequence, PS3.3 C.17.2); "" when it names none."""
    try:
        series = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
        return str(series.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
    except (AttributeError, IndexError, KeyError):
        return ""


def check_target(target: Path, film_uid: str) -> None:
    """Raise ExportError (one line, nothing touched) unless ``target`` may take the SR of film
    ``film_uid``: a new name (its folder must exist:
    :func:`cobbdesk.core.private.check_target`'s rule), or an earlier export of that film —
    a regular file (not a link) that is a DICOM SR (:data:`~cobbdesk.core.sr.codes.SR_CLASSES`)
    written by CobbDesk (Manufacturer (0008,0070)) whose evidence is that film, an output made
    again from the study.  Any other file at the name — a study, a film, a link, a plain file,
    another program's SR (OHIF's, a radiologist's, another film's) — is left untouched and the
    export refused, asking for a new folder."""
    try:
        regular = stat.S_ISREG(target.lstat().st_mode)
    except FileNotFoundError:
        private.check_target(target)  # a new name: its folder must exist
        return
    except OSError:  # unreadable: the write itself reports it
        return
    header = _sr_header(target) if regular else None
    if header is not None and _ours(header) and evidence_uid(header) == film_uid:
        return
    if header is None:  # a study, a film, a link, a folder: private's own words
        private.check_target(target)
    what = "a DICOM SR that CobbDesk did not write for" if header is not None else (
        "a file that is not CobbDesk's SR of")  # fmt: skip
    raise ExportError(None, f"{target}: is {what} film {film_uid}; it was left untouched. "
                      "Choose a new folder for the export")  # fmt: skip


def _ours(header: Dataset) -> bool:
    """True when the SR header names CobbDesk as its Manufacturer (0008,0070)."""
    return str(header.get("Manufacturer", "")) == c.MANUFACTURER


_HEADER = ("SOPClassUID", "Manufacturer", "CurrentRequestedProcedureEvidenceSequence")


def _sr_header(path: Path) -> Dataset | None:
    """The header of ``path`` when it is a DICOM SR, else None."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=list(_HEADER))
    except Exception:  # not DICOM: private's rule decides
        return None
    return ds if str(ds.get("SOPClassUID", "")) in c.SR_CLASSES else None


def publish_all(staging: Path, paths: Sequence[Path], commit: Callable[[], None]) -> None:
    """Move every report staged in ``staging`` (under its final name) to ``paths``, then call
    ``commit`` (the audit); when a move or ``commit`` raises, undo the moves already made (a
    replaced file is restored from the copy kept in ``staging``) and raise."""
    done: list[tuple[Path, Path | None]] = []
    try:
        for path in paths:
            backup = None
            if path.exists():
                backup = staging / f".{path.name}.previous"
                shutil.copy2(path, backup)
            os.replace(staging / path.name, path)
            done.append((path, backup))
        private.sync_folder(paths[0].parent)
        commit()
    except BaseException:  # a failed move or audit: the folder holds what it held before
        for path, backup in reversed(done):
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)
        raise


def new_folders(target: Path) -> list[Path]:
    """The folders creating ``target`` (and its parents) would make, deepest first."""
    missing: list[Path] = []
    for folder in (target, *target.parents):
        if folder.exists() or folder.is_symlink():
            break
        missing.append(folder)
    return missing


def remove_new_folders(folders: Sequence[Path]) -> None:
    """Remove ``folders`` (from :func:`new_folders`, deepest first) that are still empty; one
    that holds anything — a file someone put there meanwhile — is left, with its parents."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


__all__ = ["check_target", "evidence_uid", "new_folders", "publish_all", "remove_new_folders"]
