"""C-STORE files (e.g. CobbDesk's SRs) to a PACS node (PS3.4 B.2)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path

import pydicom
from pynetdicom import build_context

from cobbdesk.core.pacs.node import TRANSFER_SYNTAXES, Node, PacsError, associate
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.study import Study


def store_files(node: Node, files: Sequence[Path]) -> int:
    """Send every file; returns how many were stored, PacsError on the first refusal."""
    datasets = []
    for path in files:
        try:
            datasets.append((path, pydicom.dcmread(path)))
        except Exception as exc:
            raise PacsError(path, f"cannot read the DICOM file ({type(exc).__name__})") from None
    classes = sorted({str(ds.SOPClassUID) for _, ds in datasets})
    assoc = associate(node, [build_context(c, list(TRANSFER_SYNTAXES[:2])) for c in classes])
    stored = 0
    try:
        for path, ds in datasets:
            status = assoc.send_c_store(ds)
            if not status or int(status.get("Status", 0xFFFF)) not in (0x0000, 0xB000, 0xB007):
                code = int(status.Status) if status and "Status" in status else None
                what = f"status 0x{code:04X}" if code is not None else "no answer (timeout)"
                raise PacsError(path, f"PACS {node.label} did not store it ({what})")
            stored += 1
    finally:
        if assoc.is_established:
            assoc.release()
    return stored


def store_audited(study: Study, node: Node, files: Sequence[Path], reason: str = "") -> int:
    """:func:`store_files`, then one audit row group in ``study`` (entity ``pacs_store``):
    the node (AE title, host, port), how many files and their names (film SOP UID and rater,
    as :func:`~cobbdesk.core.sr.writer.export_sr` names them).  Raises PacsError (nothing
    audited when the archive refused)."""
    stored = store_files(node, files)
    changes = {"node": (None, node.label), "files": (None, stored),
               "names": (None, ", ".join(p.name for p in files))}  # fmt: skip
    why = reason or "DICOM SR sent to a PACS (carries the films' patient identifiers)"
    with study.transaction() as conn:
        audit_log.record(conn, study.actor, "pacs_store", uuid.uuid4().hex, changes, reason=why)
    return stored


__all__ = ["store_audited", "store_files"]
