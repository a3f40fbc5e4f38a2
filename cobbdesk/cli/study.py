"""Study subcommands: import films, import labs and points from CSV, verify a study file.

cobbdesk import STUDY PATH... [--create]   DICOM files/folders/DICOMDIRs into the study;
                                           DICOM SR files: their Cobb angles (films first)
    [--patient ID --visit admission|month3 [--region cervical|lumbar]]   with photos/scans
cobbdesk labs STUDY labs.csv [--reason T]   lab values per patient visit
cobbdesk measure STUDY points.csv [--reason T]   endplate points; CobbDesk computes the angles
cobbdesk verify STUDY                      database integrity, audit hash chain, stale stored
                                           angles (exit 1) and region mismatches (warnings);
    [--head] [--expect-head SEQ:HASH]      the data replayed from the audit trail, the trail's
                                           recorded end and guards (tampering: exit 1); --head
                                           prints the head to keep elsewhere, --expect-head
                                           checks a kept head is still in the trail

Each prints a summary on stdout (``--json``: the machine-readable report instead) and one
line per error or warning on stderr, and exits 1 when anything was rejected: a file that
could not be imported (duplicates and non-DICOM files are reported but are not rejections),
a CSV row, a damaged study.  ``--rater NAME`` (default: the OS user) is recorded in the audit.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from cobbdesk.cli.locations import exists, study_location
from cobbdesk.cli.output import fail, redact_files, say, shown_warnings
from cobbdesk.cli.parsing import Parser
from cobbdesk.core.errors import CobbdeskError, ValidationError
from cobbdesk.core.redact import redact

COMMANDS = ("import", "labs", "measure", "verify")


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
    verify = sub.add_parser("verify", parents=[common], help="check a study file")
    verify.add_argument("study", type=study_location)
    verify.add_argument(
        "--head", action="store_true", help="print the audit head (keep it outside the study)"
    )
    verify.add_argument(
        "--expect-head", metavar="SEQ:HASH", help="a head printed earlier by --head"
    )
    verify.add_argument(
        "--same-as", metavar="OTHER", help="prove OTHER (file or server URL) holds the same "
        "rows in every table, audit trail included (after cobbdesk copy)",
    )  # fmt: skip
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "import": _import,
        "labs": _labs,
        "measure": _measure,
        "verify": _verify,
    }
    try:
        return handlers[args.command](args)
    except CobbdeskError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        _say("error", "interrupted; nothing more was written")
        return 130


def _out(text: str, stream: TextIO | None = None, end: str = "\n") -> None:
    """One line of output (stdout unless told; ``print`` is kept out of library code)."""
    (stream or sys.stdout).write(text + end)


def _say(kind: str, text: str) -> None:
    say(kind, text)  # redacted: no patient identifier reaches stderr


def _open(args: argparse.Namespace, create: bool = False) -> Any:
    from cobbdesk.core.errors import StoreError
    from cobbdesk.core.store import pg_url
    from cobbdesk.core.store.study import Study

    location = args.study
    if create and (pg_url.is_url(location) or not location.exists()):
        try:
            return Study.create(location, actor=args.rater)
        except StoreError:
            if not exists(location) or (pg_url.is_url(location) and not _holds_study(location)):
                raise
            # the file was created by another program first (creation is atomic), or the
            # server database already holds the study: open it
    return Study.open(location, actor=args.rater)


def _holds_study(url: str) -> bool:
    """Whether the server database at ``url`` already holds a study (else Create's error
    was another fault, which must be reported)."""
    from cobbdesk.core.errors import CobbdeskError
    from cobbdesk.core.store.study import Study

    try:
        Study.open(url).close()
    except CobbdeskError:
        return False
    return True


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


def _emit_json(data: dict[str, Any]) -> None:
    _out(json.dumps(data, indent=2, ensure_ascii=False, default=str))


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
    for issue in report.errors:
        _say("error", str(issue))
    for warning in report.warnings:
        _say("warning", warning)
    if args.json:  # the warnings printed, the library's too; film paths redacted
        data = report.to_dict()
        data["warnings"] = [*data["warnings"], *library]
        _emit_json(redact_files(data))
        return 0 if report.ok else 1
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
    return 0 if report.ok else 1


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
        if others:
            films = import_paths(study, others, progress=_progress())
            ok = films.ok
            _out(f"{len(films.imported)} film(s) imported")
        results = [import_report(study, path) for path in reports]
    for result in results:
        name = redact(Path(result.file).name)
        for error in result.errors:
            _say("error", f"{name} {error}")
        for warning in result.warnings:
            _say("warning", f"{name} {warning}")
        if not args.json:
            _out(f"{name}: {result.groups} Cobb angle(s): {len(result.imported)} imported, "
                 f"{result.unchanged} unchanged, {len(result.errors)} refused")  # fmt: skip
        ok = ok and result.ok
    if args.json:
        _emit_json(redact_files({"reports": [r.to_dict() for r in results]}))
    return 0 if ok else 1


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
        _emit_json(redact_files(report.to_dict()))
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
        _emit_json(redact_files(report.to_dict()))
    else:
        _csv_summary(report, "")
        for m in report.measurements:
            _out(f"row {m['row']}: film {m['film_id']}: {m['angle']:+.2f}°")
    return 0 if report.ok else 1


# --- verify -------------------------------------------------------------------------------
def _verify(args: argparse.Namespace) -> int:
    from cobbdesk.core.importing.film_shapes import file_shape_disagreements
    from cobbdesk.core.redact import redact
    from cobbdesk.core.store.geometry_checks import geometry_disagreements, measured_rows

    with _open(args) as study:  # opening runs SQLite's quick_check and refuses a damaged file
        integrity = study.verify_integrity(args.expect_head)
        check = integrity.chain
        overview = study.overview()
        stale = study.angle_discrepancies()
        mismatches = study.region_mismatches()
        duplicates = study.region_duplicates()
        measured = measured_rows(study)  # read once for both shape checks
        shapes = geometry_disagreements(study, measured)
        files = file_shape_disagreements(study, measured)
        name, location = redact(study.path.name), redact(str(study.location))  # named after
        # a patient? (the user's choice: shown redacted like every path)
        differences = _same_as(study, args.same_as)
    films = sum(len(fs) for p in overview for v in p.visits for fs in v.films.values())
    result = {
        "study": location,
        "database": "ok",
        "same_as": None if args.same_as is None else not differences,
        "differences": differences,
        "audit_ok": check.ok,
        "audit_rows": check.rows,
        "first_bad_seq": check.first_bad_seq,
        "problem": check.problem,
        "audit_head": integrity.head_text,
        "tampering": [vars(p) for p in integrity.problems],
        "patients": len(overview),
        "visits": sum(len(p.visits) for p in overview),
        "films": films,
        "stale_angles": [_stale_dict(d) for d in stale],
        "region_mismatches": [_mismatch_dict(m) for m in mismatches],
        "region_duplicates": [
            {**vars(d), "sop_instance_uids": list(d.sop_instance_uids), "message": d.describe()}
            for d in duplicates
        ],
        "pixel_shape_disagreements": [
            {"study_id": d.study_id, "film_id": d.film_id, "message": d.describe()} for d in shapes
        ],
        "file_shape_disagreements": [_file_shape_dict(d) for d in files.disagreements],
        "films_not_checked_against_file": list(files.not_checked),
    }
    if not check.ok:
        _say("error", f"{name}: audit trail damaged: {check.problem}")
    for difference in differences:
        _say("error", f"not the same as {args.same_as}: {difference}")
    for problem in integrity.problems:
        _say("error", f"tampering: {problem.describe()}")
    for d in stale:
        _say("error", f"stale angle: {d.describe()}")
    for d in shapes:
        _say("error", f"pixel shapes differ: {d.describe()}")
    _say_file_shapes(files)
    for m in mismatches:
        _say("warning", f"region mismatch: {m.describe()}")
    for d in duplicates:
        _say("warning", f"two films of one region: {d.describe()}")
    if args.json:
        _emit_json(redact_files(result))
    else:
        audit = f"ok ({check.rows} rows)" if check.ok else f"DAMAGED ({check.problem})"
        found = len(integrity.problems)
        audit += "; data matches the audit trail" if not found else f"; {found} TAMPERING(S)"
        _out(
            f"{name}: database ok; audit chain {audit}; {result['patients']} "
            f"patient(s), {result['visits']} visit(s), {films} film(s); {len(stale)} stale "
            f"angle(s); {len(shapes)} film(s) measured with different pixel shapes; "
            f"{len(files.disagreements)} measurement(s) with another pixel shape than the "
            "film file; "
            f"{len(mismatches)} region mismatch(es); {len(duplicates)} visit(s) with two "
            "measured films of one region"
        )
        if args.head:
            _out(f"audit head: {integrity.head_text}")
        if args.same_as is not None and not differences:
            _out(f"same as {args.same_as}: every table and the audit head are equal")
    clean = not stale and not shapes and not files.disagreements and not differences
    return 0 if integrity.ok and clean else 1


def _file_shape_dict(d: Any) -> dict[str, Any]:
    keys = ("study_id", "film_id", "measurement_id")
    return {**{k: getattr(d, k) for k in keys}, "message": d.describe()}


def _say_file_shapes(files: Any) -> None:
    """Measurements with another pixel shape than their film file (errors) and the films
    whose file could not be read (warnings)."""
    for d in files.disagreements:
        _say("error", f"pixel shape differs from the film file: {d.describe()}")
    for film_id in files.not_checked:
        _say("warning", f"film #{film_id}: file not found, its pixel shape not checked")


def _same_as(study: Any, other: str | None) -> list[str]:
    """What differs between ``study`` and the study at ``other`` (copying.digest)."""
    if other is None:
        return []
    from cobbdesk.core.store.copying import digest, study_digest

    return digest(study.engine).differences(study_digest(other))


def _stale_dict(d: Any) -> dict[str, Any]:
    return {
        "study_id": d.study_id,
        "sop_instance_uid": d.sop_instance_uid,
        "measurement_id": d.measurement_id,
        "template": d.template,
        "problems": list(d.problems),
        "stored_deg": d.stored_deg,
        "recomputed_deg": d.recomputed_deg if math.isfinite(d.recomputed_deg) else None,
        "message": d.describe(),
    }


def _mismatch_dict(m: Any) -> dict[str, Any]:
    return {
        "study_id": m.study_id,
        "sop_instance_uid": m.sop_instance_uid,
        "measurement_id": m.measurement_id,
        "template": m.template,
        "film_region": m.film_region,
        "rater": m.rater,
    }
