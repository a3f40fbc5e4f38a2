"""DICOMweb: QIDO-RS search and WADO-RS retrieve (PS3.18 10.6, 10.4) with dicomweb-client,
for archives that offer it; same rules as :mod:`~cobbdesk.core.pacs.retrieve` (CR/DX series,
what the study holds skipped, whole files only, staged then imported)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from cobbdesk.core.pacs.node import PacsError
from cobbdesk.core.pacs.query import Query
from cobbdesk.core.pacs.retrieve import Cancel, Progress, RetrieveReport, _Stage, default_folder
from cobbdesk.core.store.bulk import films_by_sop
from cobbdesk.core.store.study import Study

_KEYS = ("PatientID", "PatientName", "StudyInstanceUID", "StudyDate", "AccessionNumber",
         "StudyDescription", "ModalitiesInStudy")  # fmt: skip


def _client(url: str, timeout: float) -> Any:
    import requests
    from dicomweb_client.api import DICOMwebClient

    session = requests.Session()
    session.request = _with_timeout(session.request, timeout)  # type: ignore[method-assign]
    return DICOMwebClient(url, session=session)


def _with_timeout(request: Any, timeout: float) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        """``request`` with ``timeout`` (seconds) unless the caller gave one."""
        kwargs.setdefault("timeout", timeout)
        return request(*args, **kwargs)

    return call


def _call(url: str, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except Exception as exc:  # requests' and the client's errors: one line, no body
        raise PacsError(None, f"DICOMweb {url}: {what} failed ({type(exc).__name__})") from None


def _filters(query: Query) -> dict[str, str]:
    found = {"PatientID": query.patient_id, "PatientName": query.patient_name,
             "AccessionNumber": query.accession, "StudyInstanceUID": query.study_uid}  # fmt: skip
    if query.date_from or query.date_to:
        found["StudyDate"] = f"{query.date_from}-{query.date_to}"
    return {k: v for k, v in found.items() if v}


def find_studies_web(url: str, query: Query, *, timeout: float = 30.0) -> list[dict[str, Any]]:
    """QIDO-RS: studies matching ``query``, each with its CR/DX ``series`` (as find_studies)."""
    client = _client(url, timeout)
    answers = _call(url, "QIDO-RS study search", client.search_for_studies,
                    search_filters=_filters(query))  # fmt: skip
    studies = []
    for answer in answers:
        ds = Dataset.from_json(answer)
        study = {k: str(ds.get(k, "") or "") for k in _KEYS}
        found = _call(url, "QIDO-RS series search", client.search_for_series,
                      study["StudyInstanceUID"])  # fmt: skip
        series = [Dataset.from_json(s) for s in found]
        study["series"] = [  # type: ignore[assignment]
            {"SeriesInstanceUID": str(s.SeriesInstanceUID), "Modality": str(s.get("Modality", ""))}
            for s in series if query.keeps(s)
        ]  # fmt: skip
        studies.append(study)
    return studies


def retrieve_web(
    study: Study, url: str, query: Query, *, folder: str | Path | None = None,
    timeout: float = 30.0, cancel: Cancel | None = None, progress: Progress | None = None,
) -> RetrieveReport:  # fmt: skip
    """WADO-RS: fetch the films matching ``query`` that ``study`` lacks, then import them;
    ``progress(done, total)`` after each film, ``cancel()`` polled before each (the films
    that arrived whole are imported)."""
    client = _client(url, timeout)
    plan: list[tuple[str, str, str]] = []
    report = RetrieveReport()
    for st in find_studies_web(url, query, timeout=timeout):
        for series in st["series"]:
            found = _call(url, "QIDO-RS instance search", client.search_for_instances,
                          st["StudyInstanceUID"], series["SeriesInstanceUID"])  # fmt: skip
            uids = [str(Dataset.from_json(i).SOPInstanceUID) for i in found]
            known = films_by_sop(study, uids)
            report.already += len(known)
            plan += [(st["StudyInstanceUID"], series["SeriesInstanceUID"], u)
                     for u in uids if u not in known]  # fmt: skip
    report.wanted = len(plan)
    if not plan:
        return report
    stage = _Stage(Path(folder) if folder else default_folder(study))
    try:
        for study_uid, series_uid, uid in plan:
            if cancel is not None and cancel():
                report.cancelled = True
                break
            try:
                ds = _call(url, "WADO-RS retrieve", client.retrieve_instance,
                           study_uid, series_uid, uid)  # fmt: skip
                stage.save(ds)
            except (PacsError, OSError, ValueError) as exc:
                report.fault = getattr(exc, "problem", f"cannot write a film ({exc})")
                break
            if progress is not None:
                progress(stage.count, len(plan))
        stage.import_into(study, report)
    finally:
        stage.remove()
    return report


__all__ = ["find_studies_web", "retrieve_web"]
