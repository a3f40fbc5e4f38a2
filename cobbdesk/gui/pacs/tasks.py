"""The Query PACS dialog's work, without Qt (runs in a worker thread): search with the
"already in the study" counts, retrieve of a selection, date presets, a one-line summary.

A *target* is a :class:`~cobbdesk.core.pacs.node.Node` (DIMSE) or a DICOMweb base URL (str).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from cobbdesk.core.pacs.node import Node
from cobbdesk.core.pacs.query import Query
from cobbdesk.core.pacs.retrieve import RetrieveReport
from cobbdesk.core.store import Study

Target = Node | str
Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]
PRESETS = ("Any date", "Today", "Last 7 days", "Last 30 days", "Last 90 days", "Range")
_DAYS = {"Last 7 days": 7, "Last 30 days": 30, "Last 90 days": 90}


def dicom_date(day: date) -> str:
    """YYYYMMDD (DICOM DA, PS3.5 6.2)."""
    return day.strftime("%Y%m%d")


def date_range(preset: str, today: date, start: date | None = None,
               end: date | None = None) -> tuple[str, str]:  # fmt: skip
    """(from, to) DICOM dates of a preset: "Last N days" is today − N days through today
    (both ends included, PS3.4 C.2.2.2.5 range matching); "Range" is ``start``–``end``;
    "Any date" is ("", ""). Raises ValueError for an unknown preset or an inverted range."""
    if preset == "Any date":
        return "", ""
    if preset == "Today":
        return dicom_date(today), dicom_date(today)
    if preset in _DAYS:
        return dicom_date(today - timedelta(days=_DAYS[preset])), dicom_date(today)
    if preset == "Range" and start is not None and end is not None:
        if start > end:
            raise ValueError("the date range ends before it starts")
        return dicom_date(start), dicom_date(end)
    raise ValueError(f"unknown date preset {preset!r}")


def search(study: Study | None, target: Target, query: Query,
           timeout: float = 30.0) -> list[dict[str, Any]]:  # fmt: skip
    """Studies matching ``query`` with their series, each series with ``films`` and
    ``in_study`` counts (see :mod:`cobbdesk.core.pacs.browse`).  Raises PacsError."""
    from cobbdesk.core.pacs import browse

    if isinstance(target, str):
        from cobbdesk.core.pacs.web import find_studies_web

        studies = find_studies_web(target, query, timeout=timeout)
        browse.mark_present_web(study, target, studies, timeout=timeout)
    else:
        from cobbdesk.core.pacs.query import find_studies

        studies = find_studies(target, query)
        browse.mark_present(study, target, studies)
    return studies


def queries_for(selection: Iterable[tuple[str, ...]],
                modalities: tuple[str, ...]) -> list[Query]:  # fmt: skip
    """One Query per selected study: ``("study", patient_id, study_uid)`` fetches the whole
    study, ``("series", patient_id, study_uid, series_uid)`` items of a study not selected
    whole fetch only those series.  Order: as first selected."""
    whole: dict[str, str] = {}
    parts: dict[str, tuple[str, list[str]]] = {}
    for item in selection:
        if item[0] == "study":
            whole[item[2]] = item[1]
        elif item[0] == "series":
            parts.setdefault(item[2], (item[1], []))[1].append(item[3])
    found = [Query(patient_id=pid, study_uid=uid, modalities=modalities)
             for uid, pid in whole.items()]  # fmt: skip
    found += [Query(patient_id=pid, study_uid=uid, modalities=modalities, series_uids=tuple(s))
              for uid, (pid, s) in parts.items() if uid not in whole]  # fmt: skip
    return found


def retrieve_all(
    study: Study, target: Target, queries: list[Query], *, how: str, move_port: int,
    progress: Progress, cancel: Cancel,
) -> list[RetrieveReport]:  # fmt: skip
    """Retrieve each query in turn into ``study`` (C-GET/C-MOVE or WADO-RS); stops after a
    fault or a cancel.  ``progress(done, total)`` counts films over all queries so far."""
    reports: list[RetrieveReport] = []
    before = 0

    def step(done: int, total: int) -> None:
        progress(before + done, before + total)

    for query in queries:
        if reports and cancel():  # the first retrieve answers a cancel itself (C-CANCEL)
            break
        if isinstance(target, str):
            from cobbdesk.core.pacs.web import retrieve_web

            report = retrieve_web(study, target, query, cancel=cancel, progress=step)
        else:
            from cobbdesk.core.pacs.retrieve import retrieve

            report = retrieve(study, target, query, how=how, move_port=move_port,
                              cancel=cancel, progress=step)  # fmt: skip
        reports.append(report)
        before += report.arrived
        if report.fault or report.cancelled:
            break
    return reports


def summary(reports: list[RetrieveReport]) -> str:
    """One line: films fetched and imported, already present, cancelled or failed."""
    arrived = sum(r.arrived for r in reports)
    imported = sum(len(r.imported.imported) for r in reports if r.imported is not None)
    already = sum(r.already for r in reports)
    errors = sum(len(r.imported.errors) for r in reports if r.imported is not None)
    text = (f"{arrived} film(s) arrived, {imported} imported, {already} already in the study"
            + (f", {errors} import error(s)" if errors else ""))  # fmt: skip
    if any(r.cancelled for r in reports):
        text += " — cancelled (the films that arrived whole were imported)"
    return text
