"""``cobbdesk inspect`` and ``cobbdesk render``: what CobbDesk sees in film files.

cobbdesk inspect PATH... [--json]   one record per file (a folder: each file under it, in
                                    :func:`os.walk`'s sorted order): ok, or the error
cobbdesk render FILE -o OUT.png     the display image as the viewer shows it

No study is involved, so redaction knows no patient but those in the files read: before a
line is printed, the identifiers in every header read — Patient's Name, Patient ID, Birth
Date (PS3.3 C.7.1.1) — are handed to redaction (:func:`cobbdesk.cli.identifiers.learn_film`),
so a folder or file named after the patient in the file is masked, like the name and date
rules of :func:`cobbdesk.core.redact.redact` mask any caret name and date.  Library warnings
met while reading are held and printed (redacted) after every file was read.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cobbdesk.cli.identifiers import film_identifiers, learn_film
from cobbdesk.cli.parsing import Parser

COMMANDS = ("inspect", "render")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cobbdesk")
    sub = parser.add_subparsers(dest="command", required=True)
    inspect = sub.add_parser("inspect", help="read films and report what CobbDesk sees")
    inspect.add_argument("files", nargs="+", type=Path, help="films, or folders of films")
    inspect.add_argument("--json", action="store_true", help="print a JSON list of records")
    inspect.add_argument("--force", action="store_true", help="open files without File Meta")
    render = sub.add_parser("render", help="write the display image of a film as PNG")
    render.add_argument("file", type=Path)
    render.add_argument("-o", "--output", type=Path, required=True)
    render.add_argument("--window", nargs=2, type=float, metavar=("CENTER", "WIDTH"))
    render.add_argument("--max-size", type=int, metavar="N", help="longest side in pixels")
    render.add_argument("--invert", action="store_true", help="invert once more")
    render.add_argument("--force", action="store_true", help="open a file without File Meta")
    return parser


def _record(path: Path, force: bool) -> dict[str, Any]:
    from cobbdesk.core.dicom.display import default_voi
    from cobbdesk.core.dicom.film import Window
    from cobbdesk.core.dicom.reader import read_film
    from cobbdesk.core.errors import CobbdeskError
    from cobbdesk.core.library_warnings import reading

    try:
        film = read_film(path, force=force)
        learn_film(film)  # before any line names the file (printed redacted: _inspect)
        with reading(path):
            voi = default_voi(film)
    except CobbdeskError as exc:
        _learn_header(path)
        return {"file": str(path), "ok": False, "error": exc.message}
    except Exception as exc:  # never let one file hide the records of the others
        _learn_header(path)
        error = f"{path.name}: internal error ({type(exc).__name__})"
        return {"file": str(path), "ok": False, "error": error}
    window: dict[str, Any] = (
        {
            "center": voi.center,
            "width": voi.width,
            "function": voi.function.value,
            "source": voi.explanation or "file",
        }
        if isinstance(voi, Window)
        else {"voi_lut": voi.explanation or "VOI LUT Sequence"}
    )
    return {
        "file": str(path),
        "ok": True,
        "rows": film.rows,
        "columns": film.columns,
        "bits_stored": film.bits_stored,
        "photometric": film.photometric,
        "transfer_syntax": film.transfer_syntax,
        "transfer_syntax_name": film.transfer_syntax_name,
        "modality": film.modality,
        "body_part": film.body_part_examined,
        "view_position": film.view_position,
        "spacing_mm": list(film.spacing_mm) if film.spacing_mm else None,
        "spacing_source": film.spacing_source.value,
        "spacing_calibration": film.spacing_calibration,
        "pixel_aspect": list(film.pixel_aspect) if film.pixel_aspect else None,
        "sop_instance_uid": film.sop_instance_uid,
        "window": window,
        "frames": film.number_of_frames,
        "notices": film.notices,
    }


def _learn_header(path: Path) -> None:
    """The identifiers of a file whose film could not be read, from its header if it has a
    readable one (:func:`cobbdesk.cli.identifiers.film_identifiers`)."""
    from cobbdesk.core import redact

    try:
        redact.remember_later(*film_identifiers(path))
    except Exception:  # no readable header: the name and date rules remain
        return


def _files(paths: list[Path]) -> list[Path]:
    """``paths`` with each folder replaced by the files under it (symbolic links to folders
    are not followed; :func:`~cobbdesk.core.importing.walk.walk_files`)."""
    from cobbdesk.core.importing.walk import walk_files

    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(file for file, _resolved in walk_files(path))
        else:
            files.append(path)
    return files


def _inspect(args: argparse.Namespace) -> int:
    from cobbdesk.cli.output import emit_json, say, shown_warnings
    from cobbdesk.core.redact import redact

    files = _files(args.files)
    if not files:
        say("error", f"{args.files[0].name}: the folder holds no file")
        return 1
    with shown_warnings():  # printed once every header read was learned
        records = [_record(path, args.force) for path in files]
    for rec in records:
        if not rec["ok"]:
            say("error", rec["error"])  # redacted (names, MRNs, dates in file names)
    if args.json:  # file names redacted like every line naming a film
        emit_json(records)
    else:
        for rec in (r for r in records if r["ok"]):
            spacing = (
                f"{rec['spacing_mm'][0]:g}×{rec['spacing_mm'][1]:g} mm"
                if rec["spacing_mm"]
                else "uncalibrated (px)"
            )
            aspect = rec["pixel_aspect"]
            shape = (f"; pixel aspect {aspect[0]:g}:{aspect[1]:g} (row:column; angles use it)"
                     if aspect and aspect[0] != aspect[1] else "")  # fmt: skip
            name = redact(rec["file"])
            print(
                f"{name}: ok {rec['rows']}×{rec['columns']} {rec['bits_stored']}-bit "
                f"{rec['photometric']} {rec['transfer_syntax_name']} {rec['modality']} "
                f"spacing {spacing} [{rec['spacing_source']}]{shape}"
            )
    return 0 if all(rec["ok"] for rec in records) else 1


def _render(args: argparse.Namespace) -> int:
    import cv2

    from cobbdesk.cli.output import fail, say
    from cobbdesk.core.dicom.display import render_film
    from cobbdesk.core.dicom.film import Window
    from cobbdesk.core.dicom.reader import read_film
    from cobbdesk.core.errors import CobbdeskError
    from cobbdesk.core.library_warnings import reading
    from cobbdesk.core.private import check_target

    try:
        film = read_film(args.file, force=args.force)
        learn_film(film)  # an output folder named after the patient is printed masked
        window = Window(*args.window) if args.window else None
        with reading(args.file):
            image = render_film(film, window, invert=args.invert, max_size=args.max_size)
    except (CobbdeskError, ValueError) as exc:
        _learn_header(args.file)
        say("error", str(exc))  # redacted, like every error line
        return 1
    try:  # a folder, link, DICOM film or study is never replaced; a missing folder named
        check_target(args.output)
        written = cv2.imwrite(str(args.output), image)
    except CobbdeskError as exc:
        return fail(exc)
    except cv2.error:  # no writer for the name's extension, or the file cannot be opened
        written = False
    if not written:
        say("error", f"cannot write {args.output} (a PNG file: give a name ending in .png "
            "in a folder you can write to)")  # fmt: skip
        return 1
    return 0


def main(argv: Sequence[str]) -> int:
    """Run ``inspect`` or ``render`` (``argv[0]``); returns the exit status."""
    args = _parser().parse_args(list(argv))
    return {"inspect": _inspect, "render": _render}[args.command](args)
