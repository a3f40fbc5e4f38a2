"""The ``cobbdesk`` command: the GUI by default, subcommands for scripting.

cobbdesk [--demo] [FILE...]         open the viewer (optionally on the demo films)
cobbdesk inspect FILE... [--json]   one record per file: ok, or the error
cobbdesk render FILE -o OUT.png     the display image as the viewer shows it
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cobbdesk import __version__
from cobbdesk.cli.parsing import Parser

#: Every subcommand and its one-line summary (``cobbdesk --help`` lists them all).
COMMAND_HELP = {
    "inspect": "read films and report what CobbDesk sees",
    "render": "write the display image of a film as PNG",
    "import": "import DICOM films (and photos of films) into a study",
    "labs": "import lab values from a CSV file",
    "measure": "import endplate points from a CSV file; CobbDesk computes the angles",
    "verify": "check a study file: database, audit trail, stale angles",
    "export": "write the study as CSV, XLSX, SPSS .sav or a codebook",
    "stats": "paired tests, correlations, reliability; HTML report",
    "film": "list a study's films, or correct one film's region, visit or facing",
    "calibrate": "calibrate a film on an object of known length",
    "plan": "reading plans: create, blinded worklists, open rounds, skip, status",
    "demo": "write the demo study and its films to a folder",
    "selftest": "check this installation end to end, headless",
    "server": "studies on a PostgreSQL server: init, migrate, grant the rater role",
    "copy": "copy a whole study between a file and a server, proved equal",
    "pacs": "PACS: echo, find (JSON), get films into a study, store SRs",
}
SUBCOMMANDS = tuple(COMMAND_HELP)

_DELEGATES = {
    "calibrate": "cobbdesk.cli.calibrate", "film": "cobbdesk.cli.film", "plan": "cobbdesk.cli.plan",
    "pacs": "cobbdesk.cli.pacs",
}  # fmt: skip
_DELEGATES.update(server="cobbdesk.cli.server", copy="cobbdesk.cli.server")


def _password_prompt() -> None:
    """A server's password, when no URL, PGPASSWORD or ~/.pgpass gives it, is asked on the
    terminal (never echoed, never stored); without a terminal the login fails instead."""
    import getpass

    from cobbdesk.core.store import pg_url

    if sys.stdin is not None and sys.stdin.isatty():
        pg_url.set_prompt(getpass.getpass)


def _lock_wait_notice() -> None:
    """A write kept waiting for another program's lock says so on stderr after about a second
    (:mod:`cobbdesk.core.store.waiting`); when the wait times out, the usual locked error
    (exit 3) follows."""
    from cobbdesk.cli.output import say
    from cobbdesk.core.store import waiting

    def notice(where: object) -> None:
        name = getattr(where, "name", "") or str(where)
        say("note", f"waiting for the study {name}: another program is writing it…")

    waiting.on_lock_wait(notice)


def _gui_parser() -> argparse.ArgumentParser:
    commands = "\n".join(f"  {name:<10} {text}" for name, text in COMMAND_HELP.items())
    parser = Parser(
        prog="cobbdesk",
        usage="cobbdesk [--demo] [FILE ...]\n       cobbdesk SUBCOMMAND ...",
        description="Signed lordotic Cobb angles on lateral spine radiographs. Without a "
        "subcommand: the viewer (it needs a display).",
        epilog=f"subcommands (cobbdesk SUBCOMMAND --help):\n{commands}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"cobbdesk {__version__}")
    parser.add_argument("--demo", action="store_true", help="open the viewer on demo films")
    parser.add_argument("files", nargs="*", type=Path, help="films to open")
    return parser


def _sub_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cobbdesk")
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
    from cobbdesk.core.library_warnings import reading
    from cobbdesk.core.redact import redact

    try:
        film = read_film(path, force=force)
        with reading(path):
            voi = default_voi(film)
    except CobbdeskError as exc:
        return {"file": str(path), "ok": False, "error": redact(exc.message)}
    except Exception as exc:  # never let one file hide the records of the others
        error = f"{path.name}: internal error ({type(exc).__name__})"
        return {"file": str(path), "ok": False, "error": redact(error)}
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
    from cobbdesk.cli.output import redact_files, say
    from cobbdesk.core.redact import redact

    records = [_record(path, args.force) for path in args.files]
    for rec in records:
        if not rec["ok"]:
            say("error", rec["error"])  # redacted (names, MRNs, dates in file names)
    if args.json:  # file names redacted like every line naming a film
        print(json.dumps(redact_files(records), indent=2, ensure_ascii=False))
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

    from cobbdesk.cli.output import say
    from cobbdesk.core.dicom.display import render_film
    from cobbdesk.core.dicom.film import Window
    from cobbdesk.core.dicom.reader import read_film
    from cobbdesk.core.errors import CobbdeskError
    from cobbdesk.core.library_warnings import reading

    try:
        film = read_film(args.file, force=args.force)
        window = Window(*args.window) if args.window else None
        with reading(args.file):
            image = render_film(film, window, invert=args.invert, max_size=args.max_size)
    except (CobbdeskError, ValueError) as exc:
        say("error", str(exc))  # redacted, like every error line
        return 1
    if not cv2.imwrite(str(args.output), image):
        say("error", f"cannot write {args.output}")
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cobbdesk ARGV``; returns the exit status (see :mod:`cobbdesk.cli.output`).

    Files the command creates are private to the user (umask 077: files 0600, folders 0700)
    and every log or error line is redacted; any error that escapes a subcommand is printed
    as one line with its status, never as a traceback.  Output piped into a reader that
    stops early (``| head -1``) ends the command quietly with status 141, like coreutils.
    """
    from cobbdesk.cli import identifiers
    from cobbdesk.cli.output import route_warnings
    from cobbdesk.core import redact

    identifiers.reset()  # the studies this run names (a test may run main again)
    redact.install()
    redact.quiet_libraries()  # SQLAlchemy's pool tracebacks never reach stderr
    route_warnings()  # library warnings: one redacted line naming the file
    _password_prompt()
    _lock_wait_notice()
    mask = os.umask(0o077)
    try:
        status = _dispatch(list(sys.argv[1:] if argv is None else argv))
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit flush
        return status
    except (Exception, KeyboardInterrupt) as exc:
        return _failure(exc)
    finally:
        os.umask(mask)


def _failure(exc: BaseException) -> int:
    """The exit status for an exception that escaped a subcommand, after its one line."""
    from cobbdesk.cli.output import closed_stdout, fail, internal, say
    from cobbdesk.core.errors import CobbdeskError

    if isinstance(exc, BrokenPipeError):  # stdout's reader has gone (| head -1): quietly
        return closed_stdout()
    if isinstance(exc, CobbdeskError):
        return fail(exc)
    if isinstance(exc, KeyboardInterrupt):
        say("error", "interrupted; nothing more was written")
        return 130
    if isinstance(exc, OSError):  # a file or folder the command needs: missing, unwritable
        return _os_failure(exc)
    if isinstance(exc, MemoryError):
        say("error", "out of memory; nothing more was written (close other programs, or use "
            "a machine with more memory)")  # fmt: skip
        return 1
    return internal(exc)  # the last boundary: a bug, shown without patient data


def _os_failure(exc: OSError) -> int:
    """One line for an ``OSError`` no subcommand turned into a CobbdeskError."""
    from cobbdesk.cli.output import fail, say
    from cobbdesk.core.store.faults import os_error

    path = Path(os.fsdecode(exc.filename)) if exc.filename else Path("file")
    error = os_error(exc, path, "file")
    if error.exit_status != 1:  # read-only (4) or disk full (5): their own words
        return fail(error)
    say("error", f"{path.name}: {exc.strerror or type(exc).__name__}")
    return 1


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
    return _viewer(argv)


def _viewer(argv: list[str]) -> int:
    """The GUI, unless :func:`_not_for_the_viewer` refuses (then nothing of Qt is loaded)."""
    args = _gui_parser().parse_args(argv)
    refused = _not_for_the_viewer(args.files)
    if refused is not None:
        return refused
    from cobbdesk.gui.app import run

    return run(files=args.files, demo=args.demo)


def _not_for_the_viewer(files: list[Path]) -> int | None:
    """The exit status when the viewer must not start (nothing of Qt is imported), else None.

    A first word that is no file and looks like no path is a mistyped subcommand: usage and
    the closest subcommand, exit 2.  Without a display (X11/Wayland unset and no
    ``QT_QPA_PLATFORM``) Qt would abort the process; one line says so instead, exit 1.
    """
    from cobbdesk.cli.output import say

    word = str(files[0]) if files else ""
    if word and not files[0].exists() and not any(c in word for c in "/\\.:"):
        close = difflib.get_close_matches(word, SUBCOMMANDS, n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        sys.stderr.write(_gui_parser().format_usage())
        say("error", f"unknown subcommand '{word}'{hint} (cobbdesk --help lists them)")
        return 2
    missing = [f for f in files if not f.exists()]
    if missing:
        say("error", f"{missing[0].name}: no such file")
        return 1
    if sys.platform.startswith("linux") and not _display():
        say(
            "error", "no display to show the viewer on (DISPLAY and WAYLAND_DISPLAY are unset); "
            "use a subcommand (cobbdesk --help) or set QT_QPA_PLATFORM=offscreen",
        )  # fmt: skip
        return 1
    return None


def _display() -> bool:
    return any(os.environ.get(k) for k in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
