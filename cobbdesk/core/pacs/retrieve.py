"""Retrieve a patient's films from a PACS into a study: C-GET (default) or C-MOVE.

Rules:

* what to fetch: the CR/DX series of the matching studies (C-FIND), less every SOP Instance
  UID the study already holds — so a retry after a fault fetches only what is missing;
* staging: each arriving object is written to ``<uid>.part`` in a private temporary folder and
  renamed to ``<uid>.dcm`` only once written whole; only ``.dcm`` files are imported (by
  :func:`~cobbdesk.core.importing.importer.import_paths`: patient, visit by date, region), the
  folder is removed afterwards — nothing half-written reaches the study;
* faults (unreachable node, rejected association, timeout or a dropped link mid-transfer,
  sub-operations the archive reports failed): the films that arrived whole are imported, the
  fault is reported as one line in :attr:`RetrieveReport.fault`;
* cancel: ``cancel()`` is polled after each object; a C-CANCEL is sent (PS3.7 C.4.3.2) and the
  films that arrived whole are imported.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom import AE, build_context, evt

from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.importing.report import ImportReport
from cobbdesk.core.pacs.node import (
    GET_MODEL,
    IMAGE_CLASSES,
    MOVE_MODEL,
    STUDY_ROOT_FIND,
    TRANSFER_SYNTAXES,
    Node,
    PacsError,
    associate,
    storage_contexts_for_get,
)
from cobbdesk.core.pacs.query import Query, find_instances, find_studies
from cobbdesk.core.store.bulk import films_by_sop
from cobbdesk.core.store.study import Study

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


@dataclass
class RetrieveReport:
    """What a retrieve did: instances ``wanted`` (not yet in the study), ``already`` in it,
    ``arrived`` from the archive, the import of what arrived, a transfer ``fault`` ("" when
    none), whether it was ``cancelled``, and the series asked for.
    """

    wanted: int = 0
    already: int = 0
    arrived: int = 0
    imported: ImportReport | None = None
    fault: str = ""
    cancelled: bool = False
    series: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True without a fault or cancellation and when the import (if any) rejected nothing."""
        return not self.fault and not self.cancelled and (self.imported is None
                                                           or self.imported.ok)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (``already_in_study``; ``import``: the import report or None)."""
        imported = self.imported.to_dict() if self.imported is not None else None
        return {"wanted": self.wanted, "already_in_study": self.already, "arrived": self.arrived,
                "fault": self.fault, "cancelled": self.cancelled, "ok": self.ok,
                "import": imported}  # fmt: skip


class _Stage:
    """The private staging folder (inside ``target``, same file system) and the C-STORE
    handler that writes whole files only."""

    def __init__(self, target: Path) -> None:
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.target = target
        self.folder = Path(tempfile.mkdtemp(prefix=".staging-", dir=target))
        self.count = 0

    def on_store(self, event: Any) -> int:
        """pynetdicom's EVT_C_STORE handler: 0x0000 when written whole, 0xA700 otherwise."""
        try:
            ds = event.dataset
            ds.file_meta = event.file_meta
            self.save(ds)
        except Exception:  # a broken object: refuse it, the archive counts a failure
            return 0xA700
        return 0x0000

    def save(self, ds: Dataset) -> None:
        """Write ``ds`` as ``<uid>.part``, then rename it ``<uid>.dcm`` (whole files only)."""
        uid = str(ds.SOPInstanceUID)
        if not uid.replace(".", "").isdigit():
            raise ValueError("not a UID")
        part = self.folder / f"{uid}.part"
        ds.save_as(part, enforce_file_format=True)
        part.rename(self.folder / f"{uid}.dcm")
        self.count += 1

    def publish(self) -> list[Path]:
        """Move the whole files to ``target`` (their permanent place) and return them."""
        placed = []
        for path in sorted(self.folder.glob("*.dcm")):
            final = self.target / path.name
            path.replace(final)
            placed.append(final)
        return placed

    def import_into(self, study: Study, report: RetrieveReport) -> None:
        """Count what arrived, :meth:`publish` it and import it into ``study``."""
        report.arrived = self.count
        files = self.publish()
        if files:
            report.imported = import_paths(study, files)

    def remove(self) -> None:
        """Delete the staging folder and whatever is left in it (errors ignored)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _plan(study: Study, node: Node, query: Query) -> tuple[list[tuple[str, str, list[str]]], int]:
    """(study UID, series UID, missing SOP UIDs) per series to fetch, and how many are there."""
    studies = find_studies(node, query)
    assoc = associate(node, [build_context(STUDY_ROOT_FIND)])
    plan: list[tuple[str, str, list[str]]] = []
    already = 0
    try:
        for st in studies:
            for series in st["series"]:
                uids = find_instances(node, assoc, st["StudyInstanceUID"],
                                      series["SeriesInstanceUID"])  # fmt: skip
                known = films_by_sop(study, uids)
                already += len(known)
                missing = [u for u in uids if u not in known]
                if missing:
                    plan.append((st["StudyInstanceUID"], series["SeriesInstanceUID"], missing))
    finally:
        assoc.release()
    return plan, already


def _identifier(study_uid: str, series_uid: str, uids: list[str]) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.SOPInstanceUID = uids if len(uids) > 1 else uids[0]
    return ds


def _consume(
    responses: Any, assoc: Any, model: str, state: tuple[Node, _Stage, int], *,
    cancel: Cancel | None, progress: Progress | None,
) -> tuple[str, bool]:  # fmt: skip
    """Drain one C-GET/C-MOVE; returns (fault or "", cancelled)."""
    node, stage, total = state
    cancelled = False
    for status, _ in responses:
        if not status or "Status" not in status:
            return (f"PACS {node.label}: the transfer stopped (timeout or link dropped) after "
                    f"{stage.count} of {total} film(s)", cancelled)  # fmt: skip
        code = int(status.Status)
        if progress is not None:
            progress(stage.count, total)
        if cancel is not None and cancel() and not cancelled and code in (0xFF00,):
            assoc.send_c_cancel(1, query_model=model)
            cancelled = True
        if code == 0xFE00:
            return ("", True)
        if code in (0xA701, 0xA702, 0xA801, 0xA900, 0xAA00, 0xC000) or code & 0xF000 == 0xC000:
            return (f"PACS {node.label} refused the retrieve (status 0x{code:04X})", cancelled)
        if code == 0xB000:
            failed = int(status.get("NumberOfFailedSuboperations", 0) or 0)
            return (f"PACS {node.label}: partial retrieve, {failed} film(s) failed to arrive",
                    cancelled)  # fmt: skip
    return ("", cancelled)


def _fetch(
    node: Node, plan: list[tuple[str, str, list[str]]], stage: _Stage, how: str, *,
    cancel: Cancel | None, progress: Progress | None, move_port: int,
) -> tuple[str, bool]:  # fmt: skip
    total = sum(len(uids) for _, _, uids in plan)
    server = None
    if how == "get":
        contexts, roles = storage_contexts_for_get()
        assoc = associate(node, contexts, roles, [(evt.EVT_C_STORE, stage.on_store)])
        model = GET_MODEL
    else:
        server = _storage_server(node, stage, move_port)
        assoc = associate(node, [build_context(MOVE_MODEL)])
        model = MOVE_MODEL
    try:
        for study_uid, series_uid, uids in plan:
            ident = _identifier(study_uid, series_uid, uids)
            responses = (assoc.send_c_get(ident, GET_MODEL) if how == "get"
                         else assoc.send_c_move(ident, node.calling_aet, MOVE_MODEL))  # fmt: skip
            fault, cancelled = _consume(responses, assoc, model, (node, stage, total),
                                        cancel=cancel, progress=progress)  # fmt: skip
            if fault or cancelled:
                return fault, cancelled
        return "", False
    finally:
        if assoc.is_established:
            assoc.release()
        if server is not None:
            server.shutdown()


def _storage_server(node: Node, stage: _Stage, port: int) -> Any:
    """CobbDesk's own storage SCP on 127.0.0.1:``port`` for C-MOVE (AE title = calling AE)."""
    ae = AE(ae_title=node.calling_aet)
    ae.network_timeout = ae.dimse_timeout = node.timeout
    for cls in IMAGE_CLASSES:
        ae.add_supported_context(cls, list(TRANSFER_SYNTAXES))
    try:
        return ae.start_server(("127.0.0.1", port), block=False,
                               evt_handlers=[(evt.EVT_C_STORE, stage.on_store)])  # fmt: skip
    except OSError as exc:
        raise PacsError(None, f"cannot listen on port {port} for C-MOVE ({exc.strerror})") from None


def default_folder(study: Study) -> Path:
    """Where retrieved films are kept by default: ``<study file stem>-pacs`` beside it."""
    path = Path(study.path)
    return path.with_name(f"{path.stem}-pacs")


def retrieve(
    study: Study,
    node: Node,
    query: Query,
    *,
    how: str = "get",
    folder: str | Path | None = None,
    move_port: int = 11113,
    cancel: Cancel | None = None,
    progress: Progress | None = None,
) -> RetrieveReport:
    """Fetch the films matching ``query`` that ``study`` lacks and import them (module rules).

    ``how`` is ``"get"`` (C-GET, no inbound port) or ``"move"`` (C-MOVE to CobbDesk's storage
    SCP on ``move_port``; the archive must know ``node.calling_aet`` at 127.0.0.1 and that
    port).  The films are kept in ``folder`` (default: ``<study>-pacs`` beside the study
    file), where the study's film paths point.  Raises PacsError when nothing could be asked
    (unreachable, rejected, the query refused); faults during the transfer are in the report.
    """
    if how not in ("get", "move"):
        raise PacsError(None, f"retrieve method {how!r}: use get or move")
    plan, already = _plan(study, node, query)
    report = RetrieveReport(wanted=sum(len(u) for _, _, u in plan), already=already,
                            series=[s for _, s, _ in plan])  # fmt: skip
    if not plan:
        return report
    stage = _Stage(Path(folder) if folder else default_folder(study))
    try:
        try:
            report.fault, report.cancelled = _fetch(
                node, plan, stage, how, cancel=cancel, progress=progress, move_port=move_port
            )
        except PacsError as exc:
            report.fault = exc.problem
        stage.import_into(study, report)
    finally:
        stage.remove()
    return report


__all__ = ["RetrieveReport", "default_folder", "retrieve"]
