"""Audited publication of an export file (no pandas): temp file, hash, audit row, rename.

Audited before it exists: the export is written to a 0600 temporary file in the target
folder, its hash is recorded in the audit trail (entity ``export``: format, file name, row
count, SHA-256, ``identified``, rater policy and ``audit_head``), and only then is it renamed
to its name.  A study that cannot record the audit (locked, read-only) or a write that fails
(full disk) leaves no file behind; the result is always 0600, whatever the umask.
The target ``-`` (:data:`STDOUT`) is standard output: the bytes are written to a 0600
temporary file in the system's temporary folder, audited (file ``(standard output)``) and
then copied to ``sys.stdout``, the very bytes whose hash the trail holds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cobbdesk.core import private
from cobbdesk.core.errors import ExportError
from cobbdesk.core.export.policy import (
    EACH,
    RaterPolicy,
    parse_policy,
    resolve,
    study_policy,
    study_raters,
)
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store import faults
from cobbdesk.core.store.study import Study

Format = Literal["wide", "long", "xlsx", "sav", "codebook"]
FORMATS: tuple[Format, ...] = ("wide", "long", "xlsx", "sav", "codebook")
STDOUT = Path("-")
"""The target meaning standard output (a file named ``-`` needs a folder: ``/data/-``)."""
TEXT_FORMATS: tuple[Format, ...] = ("wide", "long", "codebook")
"""The formats that may go to standard output (xlsx and sav are binary)."""


@dataclass(frozen=True)
class ExportResult:
    """What was written, as recorded in the audit trail."""

    path: Path
    format: Format
    rows: int
    sha256: str
    identified: bool
    export_id: str
    policy: RaterPolicy = EACH


def sha256_of(path: Path) -> str:
    """SHA-256 of the file's bytes as 64 lowercase hex digits (read 1 MiB at a time)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def rater_coding(policy: RaterPolicy) -> str:
    """The codebook's coding of the ``rater`` column under ``policy``."""
    if policy.kind == "each":
        return "rater policy each: one row per rater; empty when no angle was measured"
    return (
        f"rater policy {policy.label}: {policy.describe()}; the raters whose readings were "
        "used for the patient (either visit), joined by +; empty when none measured"
    )


def export_policy(study: Study, raters: RaterPolicy | str | None) -> RaterPolicy:
    """The policy of one export: ``raters`` (text or policy) or the study's default, resolved."""
    if raters is None:
        policy = study_policy(study)
    elif isinstance(raters, str):
        policy = parse_policy(raters, allow_each=True)
    else:
        policy = raters
    return policy if policy.kind == "each" else resolve(study, policy, study_raters(study))


def audited_write(
    study: Study,
    fmt: Format,
    target: Path,
    write: Callable[[Path], int],
    *,
    identified: bool,
    policy: RaterPolicy,
    reason: str = "",
) -> ExportResult:
    """Run ``write(temp)`` (returns the row count) on a temporary file beside ``target``,
    record the export in the audit trail, then publish it as ``target``.

    Raises StudyReadOnlyError before writing on a read-only study; StudyLockedError,
    DiskFullError or an ExportError naming ``target`` when a step fails (no file is left).
    ``target`` :data:`STDOUT` sends the bytes to standard output (ExportError, before
    anything is written, for a binary format).
    """
    if study.read_only:  # the audit row could not be written: refuse before writing
        raise faults.read_only(study.path)
    if target == STDOUT and fmt not in TEXT_FORMATS:
        raise ExportError(None, f"{fmt} is a binary format: it cannot go to standard output "
                          "('-'); give a file name")  # fmt: skip
    try:
        temp = _temporary(target)
    except OSError as exc:
        raise faults.os_error(exc, target, "export") from None
    try:
        rows = write(temp)
        if target != STDOUT:
            private.sync_file(temp)
        result = ExportResult(
            target, fmt, rows, sha256_of(temp), identified, uuid.uuid4().hex, policy
        )
        _audit(study, result, reason)  # StudyLockedError, StudyReadOnlyError, DiskFullError
        if target == STDOUT:
            _send(temp)
        else:
            private.publish(temp, target)
    except BrokenPipeError:  # the reader of stdout has gone (the command ends quietly)
        raise
    except OSError as exc:
        raise faults.os_error(exc, target, "export") from None
    finally:
        temp.unlink(missing_ok=True)
    return result


def _temporary(target: Path) -> Path:
    """An empty 0600 file for the export to ``target``: beside it, or for standard output
    in the system's temporary folder."""
    if target != STDOUT:
        return private.temp_beside(target)
    fd, name = tempfile.mkstemp(prefix=".cobbdesk-export.", suffix=".partial")
    os.close(fd)
    return Path(name)


def _send(temp: Path) -> None:
    """Copy the finished export to standard output (after anything printed before it)."""
    sys.stdout.flush()
    with temp.open("rb") as handle:
        shutil.copyfileobj(handle, sys.stdout.buffer, 1 << 20)
    sys.stdout.buffer.flush()


def _audit(study: Study, result: ExportResult, reason: str) -> None:
    why = reason or ("identified export (names, MRNs, dates)" if result.identified else "")
    changes = {
        "format": (None, result.format),
        "file": (None, "(standard output)" if result.path == STDOUT else result.path.name),
        "rows": (None, result.rows),
        "sha256": (None, result.sha256),
        "identified": (None, result.identified),
        "raters": (None, result.policy.label),
    }
    with study.transaction() as conn:
        # The trail's head as this export saw it: a copy of the head outside the study file
        # once the export is sent away (``cobbdesk verify --expect-head SEQ:HASH``).
        changes["audit_head"] = (None, audit_log.head_text(*audit_log.head(conn)))
        audit_log.record(conn, study.actor, "export", result.export_id, changes, reason=why)
