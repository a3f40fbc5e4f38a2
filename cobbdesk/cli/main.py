"""The ``cobbdesk`` command: the GUI by default, subcommands for scripting.

cobbdesk [--demo] [FILE...]         open the viewer (optionally on the demo films)
cobbdesk inspect FILE... [--json]   one record per file: ok, or the error
cobbdesk render FILE -o OUT.png     the display image as the viewer shows it
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cobbdesk import __version__

SUBCOMMANDS = (
    "inspect", "render", "export", "stats", "import", "labs", "measure", "verify", "calibrate",
    "film",
)  # fmt: skip

_DELEGATES = {"calibrate": "cobbdesk.cli.calibrate", "film": "cobbdesk.cli.film"}


def _gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cobbdesk",
        description="Signed lordotic Cobb angles on lateral spine radiographs. "
        f"Subcommands: {', '.join(SUBCOMMANDS)} (cobbdesk SUBCOMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"cobbdesk {__version__}")
    parser.add_argument("--demo", action="store_true", help="open the viewer on demo films")
    parser.add_argument("files", nargs="*", type=Path, help="films to open")
    return parser


def _sub_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cobbdesk")
    sub = parser.add_subparsers(dest="command", required=True)
    inspect = sub.add_parser("inspect", help="read films and report what CobbDesk sees")
    inspect.add_argument("files", nargs="+", type=Path)
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

    try:
        film = read_film(path, force=force)
        voi = default_voi(film)
    except CobbdeskError as exc:
        return {"file": str(path), "ok": False, "error": exc.message}
    except Exception as exc:  # never let one file hide the records of the others
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


def _inspect(args: argparse.Namespace) -> int:
    records = [_record(path, args.force) for path in args.files]
    for rec in records:
        if not rec["ok"]:
            print(f"cobbdesk: error: {rec['error']}", file=sys.stderr)
    if args.json:
        print(json.dumps(records, indent=2, ensure_ascii=False))
    else:
        for rec in (r for r in records if r["ok"]):
            spacing = (
                f"{rec['spacing_mm'][0]:g}×{rec['spacing_mm'][1]:g} mm"
                if rec["spacing_mm"]
                else "uncalibrated (px)"
            )
            print(
                f"{rec['file']}: ok {rec['rows']}×{rec['columns']} {rec['bits_stored']}-bit "
                f"{rec['photometric']} {rec['transfer_syntax_name']} {rec['modality']} "
                f"spacing {spacing} [{rec['spacing_source']}]"
            )
    return 0 if all(rec["ok"] for rec in records) else 1


def _render(args: argparse.Namespace) -> int:
    import cv2

    from cobbdesk.core.dicom.display import render_film
    from cobbdesk.core.dicom.film import Window
    from cobbdesk.core.dicom.reader import read_film
    from cobbdesk.core.errors import CobbdeskError

    try:
        film = read_film(args.file, force=args.force)
        window = Window(*args.window) if args.window else None
        image = render_film(film, window, invert=args.invert, max_size=args.max_size)
    except (CobbdeskError, ValueError) as exc:
        print(f"cobbdesk: error: {exc}", file=sys.stderr)
        return 1
    if not cv2.imwrite(str(args.output), image):
        print(f"cobbdesk: error: cannot write {args.output}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cobbdesk ARGV``; returns the exit status (see :mod:`cobbdesk.cli.output`).

    Files the command creates are private to the user (umask 077: files 0600, folders 0700)
    and every log or error line is redacted; any error that escapes a subcommand is printed
    as one line with its status, never as a traceback.
    """
    from cobbdesk.cli.output import fail, internal, say
    from cobbdesk.core import redact
    from cobbdesk.core.errors import CobbdeskError

    redact.install()
    mask = os.umask(0o077)
    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv))
    except CobbdeskError as exc:
        return fail(exc)
    except KeyboardInterrupt:
        say("error", "interrupted; nothing more was written")
        return 130
    except Exception as exc:  # the last boundary: a bug, shown without patient data
        return internal(exc)
    finally:
        os.umask(mask)


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in ("import", "labs", "measure", "verify"):
        from cobbdesk.cli.study import main as study_main

        return study_main(argv)
    from cobbdesk.cli import tools as cli_tools

    if argv and argv[0] in cli_tools.COMMANDS:
        return cli_tools.main(argv)
    if argv and argv[0] in _DELEGATES:  # modules with main(argv), imported on demand
        return int(importlib.import_module(_DELEGATES[argv[0]]).main(argv))
    if argv and argv[0] in ("export", "stats"):
        from cobbdesk.cli.export import main as export_main

        return export_main(argv)
    if argv and argv[0] in SUBCOMMANDS:
        args = _sub_parser().parse_args(argv)
        return {"inspect": _inspect, "render": _render}[args.command](args)
    args = _gui_parser().parse_args(argv)
    from cobbdesk.gui.app import run

    return run(files=args.files, demo=args.demo)
