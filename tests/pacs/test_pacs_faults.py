"""A transfer that stops mid-way: a pynetdicom archive on loopback that answers C-FIND, sends
the first film of a C-GET and then stalls past CobbDesk's timeout.  The film that arrived
whole is imported, the fault is one line, and a retry against a healthy archive fetches only
the rest."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE, evt

from cobbdesk.core.pacs.node import GET_MODEL, IMAGE_CLASSES, STUDY_ROOT_FIND, Node
from cobbdesk.core.pacs.query import Query
from cobbdesk.core.pacs.retrieve import retrieve
from cobbdesk.core.store import Study
from tests.conftest import make_dataset
from tests.pacs.archive import free_port


def _films() -> list[Dataset]:
    study, series = generate_uid(), generate_uid()
    return [make_dataset(np.full((32, 32), n, np.uint16), PatientID="STALL-1",
                         StudyInstanceUID=study, SeriesInstanceUID=series)
            for n in range(3)]  # fmt: skip


class _Archive:
    def __init__(self, films: list[Dataset], stall: float) -> None:
        self.films, self.stall = films, stall
        self.released = threading.Event()

    def on_find(self, event: Any) -> Iterator[tuple[int, Dataset | None]]:
        level = event.identifier.QueryRetrieveLevel
        first = self.films[0]
        rows = [first] if level in ("STUDY", "SERIES") else self.films
        for ds in rows:
            out = Dataset()
            out.QueryRetrieveLevel = level
            out.StudyInstanceUID, out.PatientID = first.StudyInstanceUID, first.PatientID
            if level != "STUDY":
                out.SeriesInstanceUID, out.Modality = first.SeriesInstanceUID, "DX"
            if level == "IMAGE":
                out.SOPInstanceUID = ds.SOPInstanceUID
            yield 0xFF00, out

    def on_get(self, event: Any) -> Iterator[Any]:
        wanted = event.identifier.SOPInstanceUID
        wanted = [wanted] if isinstance(wanted, str) else list(wanted)
        films = [f for f in self.films if f.SOPInstanceUID in wanted]
        yield len(films)
        for n, ds in enumerate(films):
            if n == 1 and self.stall:
                self.released.wait(self.stall)  # the link goes quiet
            yield 0xFF00, ds


@pytest.fixture
def stalling() -> Iterator[tuple[_Archive, int]]:
    archive = _Archive(_films(), stall=6.0)
    ae = AE(ae_title="STALLER")
    ae.add_supported_context(STUDY_ROOT_FIND)
    ae.add_supported_context(GET_MODEL)
    for cls in IMAGE_CLASSES:
        ae.add_supported_context(cls, scu_role=True, scp_role=True)
    port = free_port()
    server = ae.start_server(("127.0.0.1", port), block=False, evt_handlers=[
        (evt.EVT_C_FIND, archive.on_find), (evt.EVT_C_GET, archive.on_get)])  # fmt: skip
    try:
        yield archive, port
    finally:
        archive.released.set()
        server.shutdown()


def test_a_transfer_that_stalls_imports_what_arrived_and_a_retry_fetches_the_rest(
    stalling: tuple[_Archive, int], tmp_path: Path
) -> None:
    archive, port = stalling
    node = Node("127.0.0.1", port, called_aet="STALLER", timeout=1.5)
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        report = retrieve(study, node, Query(patient_id="STALL-1"))
        assert "the transfer stopped" in report.fault and "\n" not in report.fault
        assert report.arrived == 1 and len(study.films()) == 1
        archive.stall, archive.released = 0.0, threading.Event()
        rest = retrieve(study, node, Query(patient_id="STALL-1"))
        assert rest.ok and (rest.already, rest.arrived) == (1, 2)
        assert len(study.films()) == 3
    assert not list((tmp_path / "s-pacs").glob(".staging-*"))
