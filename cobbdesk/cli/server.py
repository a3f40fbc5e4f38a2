"""``cobbdesk server`` and ``cobbdesk copy``: studies on a PostgreSQL server.

cobbdesk server init URL [--rater-role]       create the study's schema in an empty database
cobbdesk server migrate URL --i-have-a-backup  upgrade an older study (after the admin's pg_dump)
cobbdesk server grant URL                      (re)create the cobbdesk_rater role's grants
cobbdesk copy SOURCE DEST [--json]             copy a whole study file <-> server, proved equal

URL forms and password sources: :mod:`cobbdesk.core.store.pg_url`.  Exit statuses as for every
subcommand (:mod:`cobbdesk.cli.output`; 6: the server cannot be reached).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cobbdesk.cli.locations import study_location
from cobbdesk.cli.output import emit_json, fail
from cobbdesk.cli.parsing import Parser
from cobbdesk.core.errors import CobbdeskError, StoreError

ADMIN_ACTIONS = {
    "init": "create the study's schema",
    "migrate": "upgrade the study's schema",
    "grant": "create the cobbdesk_rater role's grants",
}


def _parser(command: str) -> argparse.ArgumentParser:
    if command == "copy":
        parser = Parser(
            prog="cobbdesk copy",
            description="Copy a whole study (audit trail included) between a file and a "
            "server, in either direction, into a new file or an empty database; the copy is "
            "then proved equal, table by table (cobbdesk verify SOURCE --same-as DEST). The "
            "copy is recorded first in the source's audit trail (who, destination).",
        )
        parser.add_argument("source", type=study_location,
                            help="a study file or postgresql://USER@HOST/DB")  # fmt: skip
        parser.add_argument("dest", type=study_location,
                            help="a new study file or an empty server database")  # fmt: skip
        parser.add_argument("--json", action="store_true", help="print the digest as JSON")
        return parser
    parser = Parser(prog="cobbdesk server", description="studies on a server")
    sub = parser.add_subparsers(dest="action", required=True)
    init = sub.add_parser("init", help="create the study schema in an empty database")
    init.add_argument("url")
    init.add_argument("--rater", metavar="NAME", help="who acts (default: the database role)")
    init.add_argument("--rater-role", action="store_true",
                      help="create the cobbdesk_rater group role and its grants (no UPDATE or "
                      "DELETE on the audit table)")  # fmt: skip
    migrate = sub.add_parser("migrate", help="upgrade the study's schema")
    migrate.add_argument("url")
    migrate.add_argument("--i-have-a-backup", action="store_true", required=True,
                         help="you have a pg_dump of the database taken just now")  # fmt: skip
    grant = sub.add_parser("grant", help="(re)create the cobbdesk_rater role's grants")
    grant.add_argument("url")
    return parser


def _server(args: argparse.Namespace) -> int:
    from cobbdesk.core.store import Study, pg_dialect, pg_url

    if not pg_url.is_url(args.url):
        raise StoreError(None, "give a server URL: postgresql://USER@HOST:PORT/DATABASE")
    loc = pg_url.parse(args.url)
    if args.action == "init":
        with Study.create(args.url, actor=args.rater) as study:
            if args.rater_role:
                with study.transaction() as conn:
                    pg_dialect.create_rater_role(conn, loc.database, loc.schema)
            print(f"{study.path.name}: study created (schema ready)")
        return 0
    if args.action == "migrate":
        with Study.open(args.url, i_have_a_backup=args.i_have_a_backup) as study:
            print(f"{study.path.name}: schema up to date")
        return 0
    with Study.open(args.url) as study, study.transaction() as conn:
        pg_dialect.create_rater_role(conn, loc.database, loc.schema)
    print(f"{loc.label}: cobbdesk_rater grants renewed")
    return 0


def _copy(args: argparse.Namespace) -> int:
    from cobbdesk.core.store.copying import copy_study

    result = copy_study(args.source, args.dest)
    if args.json:
        data = {"tables": {k: {"rows": r, "sha256": h} for k, (r, h) in result.tables.items()},
                "audit_head": result.head, "equal": True}  # fmt: skip
        emit_json(data)
    else:
        rows = sum(r for r, _ in result.tables.values())
        print(f"copied {rows} rows in {len(result.tables)} tables; the copy equals the "
              f"source, table by table; audit head {result.head}")  # fmt: skip
    return 0


def main(argv: Sequence[str]) -> int:
    """``cobbdesk server …`` or ``cobbdesk copy …`` (``argv`` starts with the command)."""
    command = argv[0]
    args = _parser(command).parse_args(list(argv)[1:])
    try:
        return _copy(args) if command == "copy" else _server(args)
    except CobbdeskError as exc:
        sys.stdout.flush()
        if command == "server":  # a refused privilege: the role is not the administrator
            from cobbdesk.core.store.pg_faults import not_admin

            exc = not_admin(exc, ADMIN_ACTIONS[args.action])
        return fail(exc)
