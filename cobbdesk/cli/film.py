"""``cobbdesk film``: list a study's films, or correct one film's region, visit and facing.

cobbdesk film STUDY --list [--json]
cobbdesk film STUDY UID [--region cervical|lumbar|unknown] [--visit admission|month3|LABEL]
                        [--facing left|right] [--calibrate X1 Y1 X2 Y2 --length-mm MM
                        [--kind ruler|ball|marker|other]] --reason TEXT

``--facing`` also re-labels the film's saved measurements by that facing (each line's anterior
end follows it, as in the viewer), so none keeps the opposite sign; each one changed is
printed with its old and new angle.

``--calibrate`` stores a user calibration (a line over an object of known length, in image
pixels) exactly as ``cobbdesk calibrate`` does (see :mod:`cobbdesk.cli.calibrate`).

The listing names patients by their pseudonymous study ID only (never a name or MRN).  A
correction is one audited transaction (old value, new value, reason) and prints what changed;
nothing to change, an unknown film or value, or a missing reason is reported on stderr with
exit status 1.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from cobbdesk.cli.locations import study_location
from cobbdesk.cli.output import emit_json, fail, redact_files, say
from cobbdesk.cli.parsing import Parser
from cobbdesk.core.errors import CobbdeskError, ValidationError

COMMANDS = ("film",)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="cobbdesk film",
        description="List a study's films, or correct one film's region, visit or facing.",
    )
    parser.add_argument("study", type=study_location)
    parser.add_argument("uid", nargs="?", help="SOP Instance UID of the film to change")
    parser.add_argument("--rater", metavar="NAME", help="who acts (default: the OS user)")
    listing = parser.add_argument_group("listing")
    listing.add_argument("--list", action="store_true", help="list every film of the study")
    listing.add_argument("--json", action="store_true", help="the listing as JSON")
    change = parser.add_argument_group("corrections (audited; need --reason)")
    change.add_argument("--region", choices=("cervical", "lumbar", "unknown"))
    change.add_argument(
        "--visit", metavar="VISIT", help="admission, month3 or another visit's label"
    )
    change.add_argument("--facing", choices=("left", "right"), help="side the patient faces")
    change.add_argument("--reason", default="", help="why the film is changed (audit trail)")
    calib = parser.add_argument_group("user calibration (audited)")
    calib.add_argument(
        "--calibrate", nargs=4, type=float, metavar=("X1", "Y1", "X2", "Y2"),
        help="a line over an object of known length, in image pixels",
    )  # fmt: skip
    calib.add_argument("--length-mm", type=float, metavar="MM", help="the object's length")
    calib.add_argument("--kind", default="ruler", choices=("ruler", "ball", "marker", "other"))
    return parser


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(kind: str, text: str) -> None:
    say(kind, text)


def _spacing_text(spacing: tuple[float, float] | None) -> str:
    return "—" if spacing is None else f"{spacing[0]:g}×{spacing[1]:g} mm"


def _summary_dict(s: Any) -> dict[str, Any]:
    return {
        "sop_instance_uid": s.sop_instance_uid,
        "study_id": s.study_id,
        "visit": s.visit_name,
        "visit_date": s.visit.visit_date,
        "region": s.region.value,
        "facing": s.facing,
        "facing_source": s.facing_source,
        "spacing_mm": list(s.spacing) if s.spacing else None,
        "spacing_from": s.spacing_from,
        "measurements": s.measurements,
        "region_mismatches": s.mismatched,
    }


def _header_spacing(study: Any, stored: str) -> tuple[tuple[float, float] | None, str]:
    """``(spacing, where from)`` of a film nothing in the study gives a spacing for (not
    measured, not calibrated): its own header's, read as the import reads headers; or why
    there is none (file missing, a photo or scan, an unreadable header).  ``stored`` is the
    path the study holds, found as every film of the study is found
    (:func:`~cobbdesk.core.importing.films.study_film_path`: an older study's relative path
    is anchored at the study file, never at the working folder)."""
    from cobbdesk.core.importing.films import study_film_path
    from cobbdesk.core.importing.scan import HeaderInfo, read_header

    file = study_film_path(study, stored)
    if not file.is_file():
        return None, "film file missing"
    with warnings.catch_warnings():  # the header's problems were reported at its import:
        warnings.simplefilter("ignore")  # a listing of the study does not repeat them
        header = read_header(file)
    if isinstance(header, HeaderInfo):
        if header.spacing_mm is None:
            aspect = header.pixel_aspect
            shape = f"; pixel aspect {aspect[0]:g}:{aspect[1]:g}" if aspect else ""
            return None, f"header (none: uncalibrated{shape})"
        return header.spacing_mm, f"header ({header.spacing_source})"
    if header[0] == "skipped":
        return None, "no DICOM header (photo or scan: uncalibrated until calibrated)"
    return None, "header unreadable"


def _list(study: Any, as_json: bool) -> int:
    summaries = study.film_summaries()
    rows = [_summary_dict(s) for s in summaries]
    for row, summary in zip(rows, summaries, strict=True):
        if summary.spacing_from == "none":  # nothing recorded in the study: the header's
            spacing, row["spacing_from"] = _header_spacing(study, study.film(summary.film_id).path)
            row["spacing_mm"] = list(spacing) if spacing else None
    if as_json:
        emit_json(rows)  # visit dates kept exact: see MACHINE_FIELDS
        return 0
    for r in map(redact_files, rows):  # as in --json: a UID field holding a name is masked
        facing = f"{r['facing']} ({r['facing_source']})" if r["facing"] else "unknown"
        spacing = r["spacing_mm"] and tuple(r["spacing_mm"])
        line = (
            f"{r['sop_instance_uid']}  {r['study_id']}  {r['visit']}  {r['region']}  "
            f"facing {facing}  spacing {_spacing_text(spacing)} [{r['spacing_from']}]  "
            f"{r['measurements']} measurement(s)"
        )
        if r["region_mismatches"]:
            line += f"; {r['region_mismatches']} on the wrong region (not exported)"
        _out(line)
    _out(f"{len(rows)} film(s)")
    return 0


def _show(value: Any, visits: dict[Any, str]) -> str:
    return "—" if value is None else visits.get(value, str(value))


def _change(study: Any, args: argparse.Namespace) -> int:
    film = study.film_by_sop(args.uid)
    if film is None:
        raise ValidationError(None, f"no film with SOP Instance UID {args.uid} in the study")
    if (args.calibrate is None) != (args.length_mm is None):
        raise ValidationError(None, "--calibrate X1 Y1 X2 Y2 and --length-mm MM go together")
    if args.calibrate is not None:
        _calibrate(study, film, args)
        if args.region is None and args.visit is None and args.facing is None:
            return 0
    if args.region is None and args.visit is None and args.facing is None:
        raise ValidationError(
            None, "nothing to change: give --region, --visit, --facing or --calibrate"
        )
    result = study.change_film(
        film.id, reason=args.reason, region=args.region, visit=args.visit, facing=args.facing
    )
    names = {
        result.old_visit.id: _visit_name(result.old_visit),
        result.visit.id: _visit_name(result.visit),
    }
    if result.new_visit is not None:
        _out(f"new visit: {result.visit.visit_date or 'undated'} {_visit_name(result.visit)}")
    for field, (old, new) in result.changes.items():
        label = "visit" if field == "visit_id" else field
        _out(f"{args.uid}: {label}: {_show(old, names)} → {_show(new, names)}")
    if not result.changes:
        _out(f"{args.uid}: nothing changed")
    if args.facing is not None:
        _relabel(study, result.film, args.uid, args.reason)
    if result.mismatched:
        _err(
            "warning",
            f"{args.uid}: {result.mismatched} measurement(s) on this film do not match its "
            f"region {result.film.region.value} and are left out of exports",
        )
    if result.rivals:
        _err(
            "warning",
            f"{args.uid}: its visit now holds {len(result.rivals) + 1} measured "
            f"{result.film.region.value} films (also {', '.join(result.rivals)}); exports and "
            "statistics keep each rater's most recent measurement of them: move or delete "
            "the extra film",
        )
    return 0


def _relabel(study: Any, film: Any, uid: str, reason: str) -> None:
    """Re-label the film's saved measurements by its (new) facing, as the viewer does: each
    line's anterior end follows the facing, so no measurement keeps the opposite sign."""
    from cobbdesk.core.measure.facing import orient_measurement

    for m in study.measurements(film.id):
        try:
            oriented, notices = orient_measurement(m, film.facing)
        except CobbdeskError as exc:
            _err("warning", f"{uid}: measurement {m.id} not re-labelled: {exc.problem}")
            continue
        if notices:
            study.save_measurement(film.id, oriented, reason=reason)
            _out(f"{uid}: measurement {m.id}: {m.angle:+.2f}° → {oriented.angle:+.2f}° "
                 f"(corners re-labelled for facing {film.facing})")  # fmt: skip


def _calibrate(study: Any, film: Any, args: argparse.Namespace) -> None:
    from cobbdesk.cli.calibrate import calibrate

    if not args.reason.strip():
        raise ValidationError(None, "--calibrate needs --reason (the audit trail keeps it)")
    (row, col), unchanged = calibrate(
        study, film, args.calibrate, args.length_mm, kind=args.kind, reason=args.reason
    )
    if unchanged:
        _out(f"{args.uid}: spacing unchanged ({row:.6g}×{col:.6g} mm, the calibration in force)")
    else:
        _out(f"{args.uid}: spacing → {row:.6g}×{col:.6g} mm (user calibration, {args.kind})")


def _visit_name(visit: Any) -> str:
    return str(visit.label if visit.kind.value == "other" else visit.kind.value)


def run(args: argparse.Namespace) -> int:
    from cobbdesk.core.store import Study

    if args.list == (args.uid is not None):
        raise ValidationError(None, "give either --list or the SOP Instance UID of one film")
    changes = (args.region, args.visit, args.facing, args.calibrate, args.length_mm)
    if args.list and any(value is not None for value in changes):
        raise ValidationError(None, "--list changes nothing: give the SOP Instance UID of the "
                              "film to change instead of --list")  # fmt: skip
    with Study.open(args.study, actor=args.rater) as study:
        return _list(study, args.json) if args.list else _change(study, args)


def main(argv: Sequence[str]) -> int:
    """``cobbdesk film …`` (``argv`` starts with ``film``); returns the exit status."""
    args = build_parser().parse_args(list(argv)[1:])
    try:
        return run(args)
    except CobbdeskError as exc:
        return fail(exc)
