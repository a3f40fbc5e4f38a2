"""A PACS node, the association CobbDesk opens to it, and the one-line faults.

Presentation contexts (PS3.8 9.3.2.2): query/retrieve models for C-FIND/C-GET/C-MOVE, and for
C-GET one storage context per (image SOP class, transfer syntax) with the SCP role
(PS3.7 D.3.3.4), so the archive can send a film as it stores it: uncompressed, JPEG lossless
(process 14 SV1), JPEG-LS, JPEG 2000, RLE, JPEG baseline — CobbDesk decodes them all.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import AE, build_context, build_role

from cobbdesk.core.errors import CobbdeskError

DEFAULT_AET = "COBBDESK"
TRANSFER_SYNTAXES = (
    ExplicitVRLittleEndian, ImplicitVRLittleEndian, JPEGLosslessSV1, JPEGLSLossless,
    JPEGLSNearLossless, JPEG2000Lossless, JPEG2000, RLELossless, JPEGBaseline8Bit,
    JPEGExtended12Bit, DeflatedExplicitVRLittleEndian,
)  # fmt: skip
# SOP class UIDs (PS3.4 Annex B.5, C.6.2; PS3.6 Annex A)
VERIFICATION = "1.2.840.10008.1.1"
IMAGE_CLASSES = (
    "1.2.840.10008.5.1.4.1.1.1.1",  # Digital X-Ray Image Storage - For Presentation
    "1.2.840.10008.5.1.4.1.1.1.1.1",  # Digital X-Ray Image Storage - For Processing
    "1.2.840.10008.5.1.4.1.1.1",  # Computed Radiography Image Storage
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame Grayscale Word Secondary Capture
)
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
MOVE_MODEL = "1.2.840.10008.5.1.4.1.2.2.2"  # Study Root MOVE
GET_MODEL = "1.2.840.10008.5.1.4.1.2.2.3"  # Study Root GET
FIND_MODELS = (PATIENT_ROOT_FIND, STUDY_ROOT_FIND)


class PacsError(CobbdeskError):
    """A PACS fault: unreachable, rejected, timed out, refused a request (one line)."""

    exit_status = 6


@dataclass(frozen=True)
class Node:
    """Where the archive listens and who talks: ``called_aet`` is the archive's AE title,
    ``calling_aet`` CobbDesk's; ``timeout`` (s) bounds connecting, each response and each
    network read."""

    host: str
    port: int
    called_aet: str = "ANY-SCP"
    calling_aet: str = DEFAULT_AET
    timeout: float = 30.0

    @property
    def label(self) -> str:
        """``"<called AE title>@<host>:<port>"``, how messages name the archive."""
        return f"{self.called_aet}@{self.host}:{self.port}"


def _ae(node: Node) -> Any:
    ae = AE(ae_title=node.calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = node.timeout
    ae.connection_timeout = node.timeout
    return ae


def reachable(node: Node) -> None:
    """PacsError when no TCP connection to the node can be opened (before any DICOM)."""
    try:
        with socket.create_connection((node.host, node.port), timeout=min(node.timeout, 10)):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PacsError(None, f"PACS {node.label} is unreachable ({reason})") from None


def associate(node: Node, contexts: list[Any], roles: list[Any] | None = None,
              handlers: list[Any] | None = None) -> Any:  # fmt: skip
    """An established association, or PacsError (unreachable, rejected, aborted)."""
    reachable(node)
    ae = _ae(node)
    assoc = ae.associate(node.host, node.port, contexts=contexts, ae_title=node.called_aet,
                         ext_neg=roles or [], evt_handlers=handlers or [])  # fmt: skip
    if assoc.is_established:
        return assoc
    if assoc.is_rejected:
        raise PacsError(None, f"PACS {node.label} rejected the association (is the called AE "
                        f"title right, and is {node.calling_aet} registered there?)")  # fmt: skip
    raise PacsError(None, f"PACS {node.label} did not accept an association (aborted or timed "
                    "out)")  # fmt: skip


def query_contexts(models: tuple[str, ...]) -> list[Any]:
    """One presentation context (default transfer syntaxes) per abstract syntax in ``models``."""
    return [build_context(m) for m in models]


def storage_contexts_for_get() -> tuple[list[Any], list[Any]]:
    """(contexts, SCP/SCU role selections) for C-GET: the GET model plus one context per image
    class and transfer syntax (5 × 11 + 1 = 56 of the 128 allowed)."""
    contexts = [build_context(GET_MODEL)]
    contexts += [build_context(c, ts) for c in IMAGE_CLASSES for ts in TRANSFER_SYNTAXES]
    roles = [build_role(c, scp_role=True) for c in IMAGE_CLASSES]
    return contexts, roles


def echo(node: Node) -> int:
    """C-ECHO; returns the status (0 = success) or raises PacsError."""
    assoc = associate(node, [build_context(VERIFICATION)])
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if not status or "Status" not in status:
        raise PacsError(None, f"PACS {node.label} sent no answer to C-ECHO (timeout)")
    return int(status.Status)


__all__ = ["Node", "PacsError", "associate", "echo", "reachable", "storage_contexts_for_get"]
