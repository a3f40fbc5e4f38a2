"""What the Query PACS dialog needs beyond a search: how many of each found series' films the
open study already holds, and a reachability test for DICOMweb servers.

A series' films are its SOP Instance UIDs (C-FIND at IMAGE level, PS3.4 C.6.2.1, or QIDO-RS
instance search, PS3.18 10.6); a film is "in the study" when the study holds its SOP Instance
UID (:func:`~cobbdesk.core.store.bulk.films_by_sop`, the same test the retrieve uses to skip it).
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset

from cobbdesk.core.pacs.node import STUDY_ROOT_FIND, Node, associate, query_contexts
from cobbdesk.core.pacs.query import find_instances
from cobbdesk.core.pacs.web import _call, _client
from cobbdesk.core.store.bulk import films_by_sop
from cobbdesk.core.store.study import Study


def _count(study: Study | None, series: dict[str, Any], uids: list[str]) -> None:
    series["films"] = len(uids)
    series["in_study"] = len(films_by_sop(study, uids)) if study is not None and uids else 0


def mark_present(study: Study | None, node: Node, studies: list[dict[str, Any]]) -> None:
    """Add ``films`` (instances in the archive) and ``in_study`` (how many of them ``study``
    holds; 0 without a study) to every series of ``studies`` (find_studies' dicts), in place.
    One association; every C-FIND drained before the next.  Raises PacsError."""
    assoc = associate(node, query_contexts((STUDY_ROOT_FIND,)))
    try:
        for st in studies:
            for series in st.get("series", []):
                uids = find_instances(node, assoc, st["StudyInstanceUID"],
                                      series["SeriesInstanceUID"])  # fmt: skip
                _count(study, series, uids)
    finally:
        assoc.release()


def mark_present_web(study: Study | None, url: str, studies: list[dict[str, Any]], *,
                     timeout: float = 30.0) -> None:  # fmt: skip
    """:func:`mark_present` over QIDO-RS instance searches (PacsError on a fault)."""
    client = _client(url, timeout)
    for st in studies:
        for series in st.get("series", []):
            found = _call(url, "QIDO-RS instance search", client.search_for_instances,
                          st["StudyInstanceUID"], series["SeriesInstanceUID"])  # fmt: skip
            _count(study, series, [str(Dataset.from_json(i).SOPInstanceUID) for i in found])


def echo_web(url: str, *, timeout: float = 10.0) -> int:
    """A QIDO-RS study search limited to one answer: how many came back (0 or 1); raises
    PacsError when the server cannot be reached or refuses (the DICOMweb "C-ECHO")."""
    client = _client(url, timeout)
    return len(_call(url, "QIDO-RS study search", client.search_for_studies, limit=1))


__all__ = ["echo_web", "mark_present", "mark_present_web"]
