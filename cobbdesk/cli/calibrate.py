"""``cobbdesk calibrate``: a film's user calibration from a line of known length.

cobbdesk calibrate STUDY UID X1 Y1 X2 Y2 --length-mm MM [--kind ruler] [--reason TEXT]
cobbdesk calibrate STUDY UID              show the film's calibration in force

UID is the film's SOP Instance UID (photos and scans: the ``2.25.…`` UID CobbDesk derived
from their pixels, shown by ``cobbdesk inspect``).  The points are image coordinates in pixels
(x = column, y = row, origin at the centre of the top-left pixel).  The spacing becomes
``length_mm / length_px`` (honouring the film's pixel shape), is stored with its provenance,
audited, and applied to the film's saved measurements (see
:mod:`cobbdesk.core.store.calibration`).  Replacing a calibration, or changing saved
measurements that had another spacing, needs ``--reason``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from cobbdesk.cli.locations import study_location
from cobbdesk.cli.output import emit_json, fail, say
from cobbdesk.cli.parsing import Parser
from cobbdesk.core.errors import CobbdeskError, ValidationError

COMMANDS = ("calibrate",)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="cobbdesk calibrate",
        description="Calibrate a study film on an object of known length (ruler, ball).",
    )
    parser.add_argument("study", type=study_location)
    parser.add_argument("uid", help="the film's SOP Instance UID")
    parser.add_argument(
        "points", nargs="*", type=float, metavar="X1 Y1 X2 Y2", help="the line, in pixels"
    )
    parser.add_argument("--length-mm", type=float, metavar="MM", help="the object's length")
    parser.add_argument("--kind", default="ruler", choices=("ruler", "ball", "marker", "other"))
    parser.add_argument("--reason", default="", help="why a calibration or saved angle changes")
    parser.add_argument("--rater", metavar="NAME", help="who calibrates (default: the OS user)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv)[1:])
    if args.points and (len(args.points) != 4 or args.length_mm is None):
        _say("give four coordinates X1 Y1 X2 Y2 and --length-mm")
        return 2
    try:
        return _run(args)
    except CobbdeskError as exc:
        return fail(exc)


def _say(text: str) -> None:
    say("error", text)


def _shape(study: Any, film: Any) -> tuple[float, float] | None:
    """The pixel shape (vertical, horizontal) from the film file once it is established to be
    the film the study recorded (:func:`~cobbdesk.core.importing.film_check.checked_film_file`:
    another file raises :class:`~cobbdesk.core.errors.ValidationError` naming the field);
    None when the file is missing or unreadable (the stored Pixel Aspect Ratio is used)."""
    from cobbdesk.core.importing.film_check import checked_film_file
    from cobbdesk.core.importing.films import study_film_path
    from cobbdesk.core.store.calibration import film_shape

    path = study_film_path(study, film.path)
    if not path.is_file():
        return None
    try:
        fields = checked_film_file(study, film, path)
    except ValidationError:
        raise
    except CobbdeskError:
        return None
    return film_shape(fields)


def calibrate(
    study: Any, film: Any, points: Sequence[float], length_mm: float, *, kind: str, reason: str
) -> tuple[tuple[float, float], bool]:
    """Store the film's user calibration (shared by ``calibrate`` and ``film --calibrate``):
    ``((row_mm, col_mm), unchanged)`` — ``unchanged`` when the calibration in force already
    gave that spacing, so nothing was written (see
    :meth:`~cobbdesk.core.store.calibration.CalibrationRecords.calibrate_film`); refused
    (:class:`~cobbdesk.core.errors.ValidationError`) when the film's file is not the film
    the study recorded."""
    x1, y1, x2, y2 = points
    before = study.film_calibration(film.id)
    spacing: tuple[float, float] = study.calibrate_film(
        film.id, (x1, y1), (x2, y2), length_mm, kind=kind,
        reason=reason, pixel_shape=_shape(study, film),
    )  # fmt: skip
    after = study.film_calibration(film.id)
    unchanged = before is not None and after is not None and after.id == before.id
    return spacing, unchanged


def _run(args: argparse.Namespace) -> int:
    from cobbdesk.core.store import Study

    with Study.open(args.study, actor=args.rater) as study:
        film = study.film_by_sop(args.uid)
        if film is None:
            _say(f"{args.study.name}: no film with SOP Instance UID {args.uid}")
            return 1
        unchanged = False
        if args.points:
            _, unchanged = calibrate(
                study, film, args.points, args.length_mm, kind=args.kind, reason=args.reason
            )
        calibration = study.film_calibration(film.id)
        measured = len(study.measurements(film.id))
    result: dict[str, Any] = {"film_id": film.id, "sop_instance_uid": film.sop_instance_uid}
    if args.points:
        result["unchanged"] = unchanged
    if calibration is None:
        result.update(calibrated=False)
    else:
        result.update(
            calibrated=True, spacing_mm=list(calibration.spacing_mm),
            spacing_source=calibration.source.value, kind=calibration.kind,
            points=[list(calibration.p1), list(calibration.p2)],
            length_mm=calibration.length_mm, rater=calibration.rater,
            created_utc=calibration.created_utc, measurements=measured,
        )  # fmt: skip
    _print(result, calibration, args.json)
    return 0


def _print(result: dict[str, Any], calibration: Any, as_json: bool) -> None:
    if as_json:
        emit_json(result)
    elif calibration is None:
        sys.stdout.write(f"film {result['film_id']}: not calibrated by the user\n")
    else:
        row, col = calibration.spacing_mm
        if result.get("unchanged"):
            sys.stdout.write(
                f"film {result['film_id']}: spacing unchanged: the calibration in force already "
                f"gives {row:.6g} × {col:.6g} mm; nothing written\n"
            )
        sys.stdout.write(
            f"film {result['film_id']}: spacing {row:.6g} × {col:.6g} mm (user calibration: "
            f"{calibration.description}); {result['measurements']} measurement(s) use it\n"
        )
