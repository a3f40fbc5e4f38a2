"""The ``cobbdesk`` command: the GUI by default, subcommands for scripting.

cobbdesk [--demo] [FILE...]         open the viewer (optionally on the demo films)
cobbdesk SUBCOMMAND ...             dispatched to its module (COMMAND_HELP lists them;
                                    inspect and render: :mod:`cobbdesk.cli.inspect_render`)
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from cobbdesk import __version__
from cobbdesk.cli.inspect_render import _record  # noqa: F401  (tests import it from here)
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
    if argv and argv[0] in ("inspect", "render"):
        from cobbdesk.cli.inspect_render import main as films_main

        return films_main(argv)
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
