"""The folder an SR export writes into: which names it may take, moving the reports in, and
leaving no folder of its own behind when it writes nothing.

* :func:`check_target`: a report may take a new name, or replace an earlier export of the same
  film (CobbDesk's own SR, made again from the study); any other file — a study, a film, a
  link, a plain file, another program's SR — is left untouched and the export refused, asking
  for a new folder.
* :func:`stale_reports`: CobbDesk's own earlier SRs of this study's measurements of the
  exported films that this export does not write (measurements or raters deleted since):
  removed, so the folder describes the study as it is now (imported elsewhere it would bring
  deleted measurements back); another study's SRs of the same films are left alone.
* :func:`publish_all`: every report moved in and every stale one out, then the audit; a
  failure puts back what the folder held.
* :func:`new_folders` / :func:`remove_new_folders`: the folders an export creates for its
  target, removed again (when still empty) when the export is refused or fails.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset

from cobbdesk.core import private
from cobbdesk.core.errors import ExportError
from cobbdesk.core.held_files import held_identities, is_held
from cobbdesk.core.sr import codes as c
from cobbdesk.core.sr.content import code_of, walk
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.study import Study


def evidence_uid(sr: Dataset) -> str:
    """The SOP Instance UID of the SR's (first) evidence image (Current Requested Procedure
    Evidence Sequence, PS3.3 C.17.2); "" when it names none."""
    try:
        series = sr.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
        return str(series.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
    except (AttributeError, IndexError, KeyError):
        return ""


def check_target(target: Path, film_uid: str, ours: frozenset[str]) -> None:
    """Raise ExportError (one line, nothing touched) unless ``target`` may take the SR of film
    ``film_uid``: a new name (its folder must exist:
    :func:`cobbdesk.core.private.check_target`'s rule), or an earlier export of that film from
    this study — a regular file (not a link, not a file this process holds open:
    :mod:`cobbdesk.core.held_files`) that is a DICOM SR
    (:data:`~cobbdesk.core.sr.codes.SR_CLASSES`) written by CobbDesk (Manufacturer
    (0008,0070)) whose evidence is that film and whose measurements (the ids of its CobbDesk
    records, :func:`report_measurements`) are all among ``ours``, the ids of this study's
    measurements (live or deleted): an output made again from the study.  Any other file at
    the name — a study, a film, a link, a plain file, another program's SR (OHIF's, a
    radiologist's, another film's), another study's CobbDesk SR — is left untouched and the
    export refused, asking for a new folder."""
    try:
        regular = stat.S_ISREG(target.lstat().st_mode)
    except FileNotFoundError:
        private.check_target(target)  # a new name: its folder must exist
        return
    except OSError:  # unreadable: the write itself reports it
        return
    header = _sr_header(target) if regular and not is_held(target) else None
    if header is not None and _ours(header) and evidence_uid(header) == film_uid:
        if _this_studys(header, ours):
            return
        raise ExportError(None, f"{target}: is a CobbDesk SR of film {film_uid} holding "
                          "measurements of another study; it was left untouched. Choose a new "
                          "folder for the export")  # fmt: skip
    if header is None:  # a study, a film, a link, a folder: private's own words
        private.check_target(target)
    what = "a DICOM SR that CobbDesk did not write for" if header is not None else (
        "a file that is not CobbDesk's SR of")  # fmt: skip
    raise ExportError(None, f"{target}: is {what} film {film_uid}; it was left untouched. "
                      "Choose a new folder for the export")  # fmt: skip


def report_measurements(sr: Dataset) -> set[str]:
    """The measurement ids (``id`` of :meth:`CobbMeasurement.to_dict`) of the CobbDesk records
    (TEXT :data:`~cobbdesk.core.sr.codes.RECORD`) anywhere in the SR's content tree; a record
    that is no JSON object with a string ``id`` names none."""
    found: set[str] = set()
    for item in walk(sr):
        if item.get("ValueType") != "TEXT" or code_of(item) != (c.RECORD.value,
                                                                c.PRIVATE_SCHEME):
            continue
        try:
            record = json.loads(str(item.get("TextValue", "")))
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            found.add(record["id"])
    return found


def _this_studys(header: Dataset, ours: frozenset[str]) -> bool:
    """True when the SR names measurements and every one is among ``ours``."""
    named = report_measurements(header)
    return bool(named) and named <= ours


def _ours(header: Dataset) -> bool:
    """True when the SR header names CobbDesk as its Manufacturer (0008,0070)."""
    return str(header.get("Manufacturer", "")) == c.MANUFACTURER


def stale_reports(
    target: Path, film_uids: set[str], keep: set[str], ours: frozenset[str]
) -> list[Path]:
    """CobbDesk's own earlier SRs of this study in the folder ``target`` (not its sub-folders)
    of the films ``film_uids`` that an export writing the file names ``keep`` does not
    replace: regular files (not links), DICOM SRs (:data:`~cobbdesk.core.sr.codes.SR_CLASSES`),
    Manufacturer CobbDesk, evidence one of those films, and every measurement they hold (the
    ids of their CobbDesk records) one of ``ours`` — this study's measurements, live or
    deleted: the reports of measurements (or raters) since deleted or renamed, which would
    bring them back if the folder were imported.  Another study's CobbDesk SRs of the same
    films (another rater's study exported into a shared folder) are never listed.  Files this
    process holds open (the open study, its -wal and -shm: :mod:`cobbdesk.core.held_files`)
    are never read (closing them would drop the study's SQLite locks).  Names are compared
    case-insensitively (case-insensitive file systems); nothing else is ever listed."""
    wanted = {name.casefold() for name in keep}
    held = held_identities()
    found: list[Path] = []
    for entry in sorted(target.iterdir()):
        if entry.name.casefold() in wanted:
            continue
        try:
            if not stat.S_ISREG(entry.lstat().st_mode) or is_held(entry, held):
                continue
        except OSError:
            continue
        header = _sr_header(entry)
        if (header is not None and _ours(header) and evidence_uid(header) in film_uids
                and _this_studys(header, ours)):  # fmt: skip
            found.append(entry)
    return found


def _sr_header(path: Path) -> Dataset | None:
    """``path`` read (content tree included, no pixels) when it is a DICOM SR, else None."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception:  # not DICOM: private's rule decides
        return None
    return ds if str(ds.get("SOPClassUID", "")) in c.SR_CLASSES else None


def publish_all(
    staging: Path, paths: Sequence[Path], commit: Callable[[], None], stale: Sequence[Path] = ()
) -> None:
    """Move every report staged in ``staging`` (under its final name) to ``paths`` and the
    ``stale`` reports (:func:`stale_reports`) out of the folder into ``staging``, then call
    ``commit`` (the audit); when a move or ``commit`` raises, undo the moves already made (a
    replaced or removed file is restored from the copy kept in ``staging``) and raise.  The
    caller deletes ``staging`` (and the stale reports with it)."""
    done: list[tuple[Path, Path | None]] = []
    try:
        for path in paths:
            backup = None
            if path.exists():
                backup = staging / f".{path.name}.previous"
                shutil.copy2(path, backup)
            os.replace(staging / path.name, path)
            done.append((path, backup))
        for path in stale:
            os.replace(path, staging / f".{path.name}.removed")
            done.append((path, staging / f".{path.name}.removed"))
        private.sync_folder([*paths, *stale][0].parent)
        commit()
    except BaseException:  # a failed move or audit: the folder holds what it held before
        for path, backup in reversed(done):
            if backup is None:
                path.unlink(missing_ok=True)
            else:
                os.replace(backup, path)
        raise


def audit(study: Study, written: Sequence[Any], reason: str, stale: Sequence[Path]) -> None:
    """One audit row per report ``written`` (:class:`~cobbdesk.core.sr.writer.SrFile`) and per
    earlier report removed (``stale``), entity ``export``, all in one transaction."""
    why = reason or "DICOM SR export (carries the film's patient identifiers)"
    with study.transaction() as conn:
        for result in written:
            changes: dict[str, tuple[object, object]] = {
                "format": (None, "sr"),
                "file": (None, result.path.name),
                "rows": (None, result.measurements),
                "sha256": (None, result.sha256),
                "identified": (None, True),
                "sr_sop_instance_uid": (None, result.sr_sop_instance_uid),
            }
            audit_log.record(conn, study.actor, "export", uuid.uuid4().hex, changes, reason=why)
        for path in stale:  # an earlier report of measurements (or raters) deleted since
            changes = {"format": ("sr", None), "file": (path.name, None)}
            audit_log.record(conn, study.actor, "export", uuid.uuid4().hex, changes,
                             reason=f"{why}; earlier SR no longer describing the study "
                             "removed")  # fmt: skip


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


__all__ = [
    "audit", "check_target", "evidence_uid", "new_folders", "publish_all", "remove_new_folders",
    "report_measurements", "stale_reports",
]  # fmt: skip
