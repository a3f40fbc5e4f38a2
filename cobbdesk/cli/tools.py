"""``cobbdesk selftest`` and ``cobbdesk demo DIR``: installation check and demo data."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cobbdesk.cli.parsing import Parser

COMMANDS = ("selftest", "demo")


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cobbdesk")
    sub = parser.add_subparsers(dest="command", required=True)
    selftest = sub.add_parser("selftest", help="check this installation end to end, headless")
    selftest.add_argument("--output", type=Path, help="folder for the test film and CSV")
    demo = sub.add_parser("demo", help="write the demo study and its films to a folder")
    demo.add_argument("folder", type=Path)
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    if args.command == "selftest":
        from cobbdesk.cli.selftest import run_selftest

        try:
            run_selftest(args.output, report=lambda line: print(f"selftest: {line}"))
        except BrokenPipeError:  # stdout's reader has gone: cobbdesk.cli.main ends quietly
            raise
        except Exception as exc:  # the point is to report any failure plainly
            print(f"selftest: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
        print("selftest: OK")
        return 0
    from cobbdesk.cli.output import fail
    from cobbdesk.core.errors import CobbdeskError, StoreError
    from cobbdesk.synth.demo_study import write_demo_study

    start = time.perf_counter()
    try:
        if args.folder.exists() and not args.folder.is_dir():
            raise StoreError(args.folder, "is a file, not a folder; give a new or empty folder "
                             "for the demo study and its films")  # fmt: skip
        study = write_demo_study(args.folder)
    except CobbdeskError as exc:
        return fail(exc)
    print(f"demo study written to {study} in {time.perf_counter() - start:.1f} s")
    return 0
