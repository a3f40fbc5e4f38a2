"""``cobbdesk pacs``: talk to a PACS from the shell (only the node you name is contacted).

cobbdesk pacs echo [NODE]                                  C-ECHO (exit 0 when it answers)
cobbdesk pacs find [NODE] [--patient-id ID] [--name N] [--accession A] [--study-uid UID]
                   [--from YYYYMMDD] [--to YYYYMMDD] [--modality CR --modality DX]
                                                           studies with their series, as JSON
                                                           (redacted: patient name, ID, birth
                                                           date, accession and dates masked)
cobbdesk pacs get STUDY [NODE] --patient-id ID [--study-uid UID] [--move --move-port N]
                   [--into DIR]                            retrieve into STUDY (C-GET default)
cobbdesk pacs store [NODE] FILE...                         C-STORE files (e.g. the SRs)

NODE: --host H --port P --called-aet AE [--aet COBBDESK] [--timeout S], or --dicomweb URL
(QIDO-RS find, WADO-RS get).  Faults are one line on stderr, exit status 6.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cobbdesk.cli.locations import study_location
from cobbdesk.cli.output import emit_json, fail
from cobbdesk.cli.parsing import Parser
from cobbdesk.core.errors import CobbdeskError


def _node_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=104)
    parser.add_argument("--called-aet", default="ANY-SCP", help="the archive's AE title")
    parser.add_argument("--aet", default="COBBDESK", help="CobbDesk's AE title")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per response")
    parser.add_argument("--dicomweb", metavar="URL", help="a DICOMweb base URL instead")


def _query_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--patient-id", default="")
    parser.add_argument("--name", default="", help="patient name (wildcards * ?)")
    parser.add_argument("--accession", default="")
    parser.add_argument("--study-uid", default="")
    parser.add_argument("--from", dest="date_from", default="", metavar="YYYYMMDD")
    parser.add_argument("--to", dest="date_to", default="", metavar="YYYYMMDD")
    parser.add_argument("--modality", action="append", help="series modality (default CR, DX)")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cobbdesk pacs")
    sub = parser.add_subparsers(dest="action", required=True)
    _node_args(sub.add_parser("echo", help="C-ECHO the node"))
    find = sub.add_parser("find", help="search studies (JSON on stdout)")
    _node_args(find)
    _query_args(find)
    get = sub.add_parser("get", help="retrieve a patient's CR/DX films into a study")
    get.add_argument("study", type=study_location)
    _node_args(get)
    _query_args(get)
    get.add_argument("--move", action="store_true", help="C-MOVE to CobbDesk's storage SCP")
    get.add_argument("--move-port", type=int, default=11113)
    get.add_argument("--into", type=Path, help="where the films are kept (default STUDY-pacs)")
    store = sub.add_parser("store", help="C-STORE files to the node")
    _node_args(store)
    store.add_argument("files", nargs="+", type=Path)
    store.add_argument("--study", type=Path, help="record the send in this study's audit trail")
    store.add_argument("--reason", default="", help="why the files are sent (audit trail)")
    return parser


def _node(args: argparse.Namespace) -> Any:
    from cobbdesk.core.pacs.node import Node

    return Node(args.host, args.port, called_aet=args.called_aet, calling_aet=args.aet,
                timeout=args.timeout)  # fmt: skip


def _query(args: argparse.Namespace) -> Any:
    from cobbdesk.core.pacs.query import IMAGE_MODALITIES, Query

    return Query(patient_id=args.patient_id, patient_name=args.name, accession=args.accession,
                 study_uid=args.study_uid, date_from=args.date_from, date_to=args.date_to,
                 modalities=tuple(args.modality or IMAGE_MODALITIES))  # fmt: skip


def _echo(args: argparse.Namespace) -> int:
    from cobbdesk.core.pacs.node import echo

    status = echo(_node(args))
    sys.stdout.write(f"{_node(args).label}: C-ECHO status 0x{status:04X}\n")
    return 0 if status == 0 else 1


def _find(args: argparse.Namespace) -> int:
    if args.dicomweb:
        from cobbdesk.core.pacs.web import find_studies_web

        studies = find_studies_web(args.dicomweb, _query(args), timeout=args.timeout)
    else:
        from cobbdesk.core.pacs.query import find_studies

        studies = find_studies(_node(args), _query(args))
    _emit_found(studies)
    return 0


#: The study-level keys of a C-FIND / QIDO-RS answer that identify the patient: learned by
#: redaction before the answer is printed, and masked (:func:`_emit_found`).
IDENTIFYING_KEYS = ("PatientID", "PatientName", "PatientBirthDate", "AccessionNumber")


def _emit_found(studies: list[dict[str, Any]]) -> None:
    """The studies found, as JSON through the one redaction boundary
    (:func:`cobbdesk.cli.output.emit_json`): the archive's identifiers of each patient are
    learned first (:func:`cobbdesk.core.redact.remember_patients`) so they are masked in every
    field (a study description quoting the name too), and the identifying keys themselves are
    masked whatever their length.  What stays: the Study/Series Instance UIDs that ``pacs
    get --study-uid`` takes, modalities, descriptions, counts; the study date is masked like
    every date beside a hospital's identifiers (see ``MACHINE_FIELDS``)."""
    from cobbdesk.core.redact import MASK, remember_patients

    names = [str(s.get("PatientName") or "") for s in studies]
    values = [str(s.get(k) or "") for s in studies for k in IDENTIFYING_KEYS if k != "PatientName"]
    remember_patients(names, values)
    shown = [{k: MASK if k in IDENTIFYING_KEYS and v else v for k, v in s.items()} for s in studies]
    emit_json(shown, indent=1)


def _get(args: argparse.Namespace) -> int:
    from cobbdesk.core.store.study import Study

    if not (args.patient_id or args.study_uid):
        from cobbdesk.cli.output import say

        say("error", "pacs get needs --patient-id (and optionally --study-uid)")
        return 2
    with Study.open(args.study) as study:
        if args.dicomweb:
            from cobbdesk.core.pacs.web import retrieve_web

            report = retrieve_web(study, args.dicomweb, _query(args), folder=args.into,
                                  timeout=args.timeout)  # fmt: skip
        else:
            from cobbdesk.core.pacs.retrieve import retrieve

            report = retrieve(study, _node(args), _query(args),
                              how="move" if args.move else "get", folder=args.into,
                              move_port=args.move_port)  # fmt: skip
    return _summary(report)


def _summary(report: Any) -> int:
    from cobbdesk.cli.output import say

    imported = report.imported
    count = len(imported.imported) if imported is not None else 0
    sys.stdout.write(
        f"{report.wanted} film(s) to fetch ({report.already} already in the study); "
        f"{report.arrived} film(s) arrived, {count} imported\n"
    )
    if report.fault:
        say("error", report.fault)
    if report.cancelled:
        say("warning", "cancelled; the films that arrived whole were imported")
    for issue in imported.errors if imported is not None else []:
        say("error", str(issue))
    return 0 if report.ok else (6 if report.fault else 1)


def _store(args: argparse.Namespace) -> int:
    from cobbdesk.core.pacs.store import store_audited, store_files

    if args.study is None:
        stored = store_files(_node(args), args.files)
    else:  # SRs carry the films' patient identifiers: the send is audited in the study
        from cobbdesk.core.store import Study

        with Study.open(args.study) as study:
            stored = store_audited(study, _node(args), args.files, args.reason)
    sys.stdout.write(f"{stored} file(s) stored on {_node(args).label}\n")
    return 0


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv)[1:])
    handlers = {"echo": _echo, "find": _find, "get": _get, "store": _store}
    try:
        return handlers[args.action](args)
    except CobbdeskError as exc:
        return fail(exc)
