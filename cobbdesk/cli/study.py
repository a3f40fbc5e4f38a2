"""Study subcommands: import films, import labs and points from CSV, verify a study file.

cobbdesk import STUDY PATH... [--create]   DICOM files/folders/DICOMDIRs into the study;
                                           DICOM SR files: their Cobb angles (films first)
    [--sr-template C2-C7|L1-S1|FREE|region]   the endplates of OHIF angles (they name none)
    [--patient ID --visit admission|month3 [--region cervical|lumbar]]   with photos/scans
cobbdesk labs STUDY labs.csv [--reason T]   lab values per patient visit
cobbdesk measure STUDY points.csv [--reason T]   endplate points; CobbDesk computes the angles
cobbdesk verify STUDY                      database integrity, audit trail, stale angles
                                           (:mod:`cobbdesk.cli.verify`)

Each prints a summary on stdout (``--json``: the machine-readable report instead) and one
line per error or warning on stderr, and exits 1 when anything was rejected: a file that
could not be imported (duplicates and non-DICOM files are reported but are not rejections),
a CSV row, a damaged study.  ``--rater NAME`` (default: the OS user) is recorded in the audit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cobbdesk.cli.locations import exists, study_location
from cobbdesk.cli.opening import open_study as _open
from cobbdesk.cli.output import emit_json as _emit_json
from cobbdesk.cli.output import fail, say, shown_warnings
from cobbdesk.cli.output import out as _out
from cobbdesk.cli.parsing import Parser
from cobbdesk.cli.verify import add_parser as add_verify_parser
from cobbdesk.cli.verify import verify
from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.redact import redact

COMMANDS = ("import", "labs", "measure", "verify")
SR_TEMPLATES = ("C2-C7", "L1-S1", "FREE", "region")
"""``--sr-template`` (:data:`cobbdesk.core.sr.template.CHOICES`, not imported at start-up)."""


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cobbdesk")
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the report as JSON")
    common.add_argument("--rater", metavar="NAME", help="who acts (default: the OS user)")
    imp = sub.add_parser("import", parents=[common], help="import DICOM films into a study")
    imp.add_argument("study", type=study_location)
    imp.add_argument("paths", nargs="+", type=Path, help="files, folders or DICOMDIRs")
    imp.add_argument("--create", action="store_true", help="create the study file if needed")
    imp.add_argument("--sr-template", choices=SR_TEMPLATES, metavar="|".join(SR_TEMPLATES),
                     help="the endplates of OHIF Cobb angles in SRs (they name none), needed "
                     "on a cervical or lumbar film; region: each film's region")  # fmt: skip
    photo = imp.add_argument_group(
        "photos and scans of films (JPEG, PNG, TIFF: no header, so say whose they are)"
    )
    photo.add_argument("--patient", metavar="ID", help="study ID or hospital patient ID")
    photo.add_argument("--visit", choices=("admission", "month3"))
    photo.add_argument("--region", choices=("cervical", "lumbar"), default="unknown")
    for name, what in (("labs", "lab values"), ("measure", "measurement points")):
        cmd = sub.add_parser(name, parents=[common], help=f"import {what} from a CSV file")
        cmd.add_argument("study", type=study_location)
        cmd.add_argument("csv", type=Path)
        cmd.add_argument("--reason", default="", help="why saved values are changed")
    plan = sub.choices["measure"].add_argument_group("readings of a reading plan (#14)")
    plan.add_argument("--plan", metavar="NAME", help="store the rows as readings of this plan")
    plan.add_argument("--round", type=int, metavar="R", help="the plan round (0: adjudication)")
    plan.add_argument("--override-washout", metavar="REASON", default="",
                      help="open the round before its washout has passed (audited)")
    add_verify_parser(sub, common)
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "import": _import,
        "labs": _labs,
        "measure": _measure,
        "verify": verify,
    }
    try:
        return handlers[args.command](args)
    except CobbdeskError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        _say("error", "interrupted; nothing more was written")
        return 130


def _say(kind: str, text: str) -> None:
    say(kind, text)  # redacted: no patient identifier reaches stderr


def _progress(what: str = "reading headers") -> Callable[[int, int], None] | None:
    if not sys.stderr.isatty():
        return None
    shown = [-1]

    def show(done: int, total: int) -> None:
        percent = done * 100 // max(total, 1)
        if percent != shown[0] or done == total:
            shown[0] = percent
            end = "\n" if done == total else ""
            _out(f"\r{what} {done}/{total} ({percent}%)", sys.stderr, end)
            sys.stderr.flush()

    return show


# --- import ------------------------------------------------------------------------------
def _import(args: argparse.Namespace) -> int:
    from cobbdesk.core.importing.importer import import_paths
    from cobbdesk.core.importing.photos import PhotoTarget

    photos = None
    if args.patient or args.visit:
        if not (args.patient and args.visit):
            _say("error", "photos need both --patient and --visit")
            return 2
        photos = PhotoTarget(args.patient, args.visit, args.region)
    if not args.create and not exists(args.study):
        from cobbdesk.core.errors import StoreError

        raise StoreError(args.study, "no such study file; add --create to make a new study")
    with shown_warnings() as library:  # from the first header read (is it an SR?) on
        reports = [p for p in args.paths if _is_report(p)]
        if reports:
            return _import_sr(args, reports, [p for p in args.paths if p not in reports])
        with _open(args, create=args.create) as study:
            report = import_paths(study, args.paths, progress=_progress(), photos=photos)
            results = _reports_in_folders(study, report, args.sr_template)
    for issue in report.errors:
        _say("error", str(issue))
    for warning in report.warnings:
        _say("warning", warning)
    if args.json:  # the warnings printed, the library's too; film paths redacted
        sr_ok = _sr_summary(args, results)
        data = report.to_dict()
        data["warnings"] = [*data["warnings"], *library]
        if results:
            data["reports"] = [r.to_dict() for r in results]
        _emit_json(data)
        return 0 if report.ok and sr_ok else 1
    _films_summary(report)
    return 0 if _sr_summary(args, results) and report.ok else 1


def _films_summary(report: Any) -> None:
    _out(
        f"{len(report.imported)} film(s) imported from {report.files} file(s); "
        f"{len(report.duplicates)} duplicate(s) skipped; {len(report.skipped)} non-image "
        f"file(s) skipped; {len(report.errors)} error(s)"
    )
    if report.new_patients:
        _out(f"new patients: {', '.join(report.new_patients)}")
    for visit in report.new_visits:
        _out(f"new visit: {visit}")
    for dup in report.duplicates:  # paths may hold other patients' names or MRNs: redacted
        _out(redact(f"duplicate: {dup.path} (SOP Instance UID of {dup.duplicate_of})"))
    for skipped in report.skipped:
        _out(redact(f"skipped: {skipped}"))


def _is_report(path: Path) -> bool:
    """True for a DICOM SR file (its library warnings name it)."""
    from cobbdesk.core.library_warnings import reading
    from cobbdesk.core.sr.reader import is_sr

    with reading(path.resolve()):
        return path.is_file() and is_sr(path)


def _import_sr(args: argparse.Namespace, reports: list[Path], others: list[Path]) -> int:
    """DICOM SR files: their Cobb angles into measurements (films are imported first)."""
    from cobbdesk.core.importing.importer import import_paths
    from cobbdesk.core.sr.reader import import_report

    ok = True
    with _open(args, create=args.create) as study:
        results: list[Any] = []
        if others:
            films = import_paths(study, others, progress=_progress())
            ok = films.ok
            results = _reports_in_folders(study, films, args.sr_template)
            if not args.json:  # standard output carries the JSON
                _out(f"{len(films.imported)} film(s) imported")
                for skipped in films.skipped:  # what the folders held besides films and SRs
                    _out(redact(f"skipped: {skipped}"))
        given = [import_report(study, path, template=args.sr_template) for path in reports]
        results = given + results
    ok = _sr_summary(args, results) and ok
    if args.json:
        _emit_json({"reports": [r.to_dict() for r in results]})
    return 0 if ok else 1


def _reports_in_folders(study: Any, films: Any, template: str | None) -> list[Any]:
    """The SRs the import's folder walk met (:func:`~cobbdesk.core.importing.scan.
    collect_files`, sub-folders included) and skipped as non-images: imported as SRs (after
    the films), and taken off the films' skipped list."""
    from cobbdesk.core.sr.reader import import_report

    found = [issue.path for issue in films.skipped if _is_report(issue.path)]
    films.skipped = [issue for issue in films.skipped if issue.path not in found]
    return [import_report(study, path, template=template) for path in found]


def _sr_summary(args: argparse.Namespace, results: list[Any]) -> bool:
    """Print each SR's errors, warnings and (without ``--json``) its line; True when none was
    refused."""
    ok = True
    for result in results:
        name = redact(Path(result.file).name)
        for error in result.errors:
            _say("error", f"{name} {error}")
        for warning in result.warnings:
            _say("warning", f"{name} {warning}")
        if not args.json:  # a measurement the study deleted is not brought back: said so
            gone = f"{len(result.deleted)} deleted in the study (not imported), " if (
                result.deleted) else ""  # fmt: skip
            _out(f"{name}: {result.groups} Cobb angle(s): {len(result.imported)} imported, "
                 f"{result.unchanged} unchanged, {gone}{len(result.errors)} refused")  # fmt: skip
        ok = ok and result.ok
    return ok


# --- CSV imports --------------------------------------------------------------------------
def _csv_summary(report: Any, extra: str) -> None:
    name = Path(report.file).name
    for issue in report.errors:
        _say("error", f"{name} {issue}")
    for issue in report.warnings:
        _say("warning", f"{name} {issue}")
    for note in report.notes:
        _say("note", f"{name}: {note}")
    _out(
        f"{redact(name)}: {report.rows} row(s): {report.imported} imported, "
        f"{report.unchanged} unchanged, {len(report.errors)} rejected{extra}"
    )


def _labs(args: argparse.Namespace) -> int:
    from cobbdesk.core.importing.csv_import import import_labs

    with _open(args) as study:
        report = import_labs(
            study, args.csv, reason=args.reason, progress=_progress("checking and saving rows")
        )
    if args.json:
        _emit_json(report.to_dict())
    else:
        _csv_summary(report, f" ({report.values} value(s) saved)")
        for visit in report.visits_created:
            _out(f"new visit: {visit}")
    return 0 if report.ok else 1


def _measure(args: argparse.Namespace) -> int:
    from cobbdesk.core.importing.csv_import import import_points

    with _open(args) as study:
        save = None
        if args.plan:
            from cobbdesk.cli.plan import plan_saver

            if args.round is None:
                raise ValidationError(None, "--plan needs --round")
            save = plan_saver(study, args.plan, args.round, args.override_washout)
        report = import_points(study, args.csv, reason=args.reason, save=save)
    if args.json:
        _emit_json(report.to_dict())
    else:
        _csv_summary(report, "")
        for m in report.measurements:
            _out(f"row {m['row']}: film {m['film_id']}: {m['angle']:+.2f}°")
    return 0 if report.ok else 1
