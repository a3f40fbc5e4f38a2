"""Reading plans on the command line (reliability studies, :mod:`cobbdesk.core.reading`).

cobbdesk plan create STUDY NAME --raters A,B[,C] --rounds 2 --washout-days 14 --seed N
    [--region cervical|lumbar|both] [--sample K] [--adjudicate-above DEG --adjudicator NAME]
    [--snapping on|off]
cobbdesk plan worklist STUDY NAME --rater A --round 1 [--json]   the ordered films, blinded:
    position, SOP Instance UID, template and state only (no patient ID, visit or date)
cobbdesk plan status STUDY NAME [--json]   per rater and round: done, skipped, remaining
    A participant of a plan blinding other raters (the --actor name, on a server also the
    database role) sees only their own rounds, and may list or skip only their own worklist.
cobbdesk plan open STUDY NAME --rater A --round 2 [--override-washout REASON]
cobbdesk plan skip STUDY NAME --rater A --round 1 --sop UID --reason TEXT
cobbdesk measure STUDY points.csv --plan NAME --round R [--override-washout REASON]
    readings measured elsewhere (rater column, else --rater); washout and worklist rules apply
cobbdesk stats STUDY --plan NAME [--json] [--report FILE]   the plan's reliability statistics
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cobbdesk.cli.locations import study_location
from cobbdesk.cli.output import emit_json, fail
from cobbdesk.cli.parsing import Parser
from cobbdesk.core.errors import CobbdeskError, ValidationError

COMMANDS = ("plan",)


def _parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cobbdesk plan")
    sub = parser.add_subparsers(dest="action", required=True)
    common = Parser(add_help=False)
    common.add_argument("study", type=study_location)
    common.add_argument("name", help="the plan's name")
    common.add_argument("--actor", metavar="NAME", help="who acts (audit; default: OS user)")
    create = sub.add_parser("create", parents=[common], help="create a reading plan")
    create.add_argument("--raters", required=True, help="comma-separated: A,B[,C]")
    create.add_argument("--rounds", type=int, default=2)
    create.add_argument("--washout-days", type=int, default=14)
    create.add_argument("--seed", type=int, required=True)
    create.add_argument("--region", choices=("cervical", "lumbar", "both"), default="both")
    create.add_argument("--sample", type=int, metavar="K", help="K patients drawn with the seed")
    create.add_argument("--adjudicate-above", type=float, metavar="DEG")
    create.add_argument("--adjudicator", metavar="NAME")
    create.add_argument("--snapping", choices=("on", "off"), default="off")
    create.add_argument("--json", action="store_true")
    for name in ("worklist", "open", "skip"):
        cmd = sub.add_parser(name, parents=[common])
        cmd.add_argument("--rater", required=True)
        cmd.add_argument("--round", type=int, required=True, help="0: adjudication")
        cmd.add_argument("--json", action="store_true")
    sub.choices["open"].add_argument("--override-washout", metavar="REASON", default="")
    sub.choices["skip"].add_argument("--sop", required=True, help="SOP Instance UID")
    sub.choices["skip"].add_argument("--reason", required=True)
    status = sub.add_parser("status", parents=[common])
    status.add_argument("--json", action="store_true")
    return parser


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv)[1:])
    from cobbdesk.core.store import Study

    try:
        with Study.open(args.study, actor=args.actor) as study:
            return int(_ACTIONS[args.action](study, args))
    except CobbdeskError as exc:
        return fail(exc)


def _create(study: Any, args: argparse.Namespace) -> int:
    from cobbdesk.core.reading.plan import PlanSpec, create_plan
    from cobbdesk.core.reading.rounds import worklist

    spec = PlanSpec(
        args.name, tuple(args.raters.split(",")), rounds=args.rounds,
        washout_days=args.washout_days, seed=args.seed, region=args.region, sample=args.sample,
        adjudicate_above=args.adjudicate_above, adjudicator=args.adjudicator,
        snapping=args.snapping == "on",
    )  # fmt: skip
    plan = create_plan(study, spec)
    films = len(worklist(study, plan, plan.raters[0], 1))
    if args.json:
        emit_json({"plan": plan.name, "films": films, "description": plan.describe()}, indent=None)
    else:
        _out(f"{plan.describe()}\n{films} films per worklist")
    return 0


def worklist_json(items: Sequence[Any], plan: Any, rater: str, round_no: int) -> dict[str, Any]:
    """The blinded worklist: plan, rater, round and per film only position, SOP Instance UID,
    template and state (no patient, visit or date)."""
    return {
        "plan": plan.name, "rater": rater, "round": round_no,
        "films": [{"position": i.position, "sop_instance_uid": i.sop_instance_uid,
                   "template": i.template, "state": i.state} for i in items],
    }  # fmt: skip


def _items(study: Any, args: argparse.Namespace) -> tuple[Any, list[Any]]:
    from cobbdesk.core.reading.adjudication import adjudication_list
    from cobbdesk.core.reading.plan import get_plan
    from cobbdesk.core.reading.progress import check_worklist_viewer, study_viewer
    from cobbdesk.core.reading.rounds import worklist

    plan = get_plan(study, args.name)
    check_worklist_viewer(plan, study_viewer(study), args.rater, args.round)
    if args.round == 0:
        return plan, adjudication_list(study, plan)
    return plan, worklist(study, plan, args.rater, args.round)


def _worklist(study: Any, args: argparse.Namespace) -> int:
    plan, items = _items(study, args)
    if args.json:
        emit_json(worklist_json(items, plan, args.rater, args.round), indent=1)
        return 0
    for i in items:
        _out(f"{i.position:4d}  {i.template}  {i.sop_instance_uid}  {i.state}")
    return 0


def _open(study: Any, args: argparse.Namespace) -> int:
    from cobbdesk.core.reading.plan import get_plan
    from cobbdesk.core.reading.rounds import open_round

    plan = get_plan(study, args.name)
    opened = open_round(study, plan, args.rater, args.round, override_reason=args.override_washout)
    _out(f"round {args.round} of {plan.name} {'opened' if opened else 'was already open'} "
         f"for {args.rater}")  # fmt: skip
    return 0


def _skip(study: Any, args: argparse.Namespace) -> int:
    from cobbdesk.core.reading.readings import skip_film

    plan, items = _items(study, args)
    item = next((i for i in items if i.sop_instance_uid == args.sop), None)
    if item is None:
        raise ValidationError(None, f"film {args.sop} is not on this worklist")
    earlier = skip_film(study, plan, args.rater, args.round, item.film_id, args.reason)
    if earlier is not None:
        _out(f"position {item.position} was already skipped: {earlier} (reason kept)")
    else:
        _out(f"skipped position {item.position}: {args.reason.strip()}")
    return 0


def _status(study: Any, args: argparse.Namespace) -> int:
    from cobbdesk.core.reading.plan import get_plan
    from cobbdesk.core.reading.progress import study_viewer, visible_status

    plan = get_plan(study, args.name)
    statuses, note = visible_status(study, plan, study_viewer(study))
    rows = [s.to_dict() for s in statuses]
    if args.json:
        emit_json({"plan": plan.name, "rounds": rows, "hidden": bool(note), "note": note},
                  indent=1)  # fmt: skip
        return 0
    _out(plan.describe())
    for r in rows:
        what = "adjudication" if r["round"] == 0 else f"round {r['round']}"
        state = "open" if r["open"] else "not opened"
        _out(f"{r['rater']} {what}: {r['done']} done, {r['skipped']} skipped, "
             f"{r['remaining']} remaining of {r['total']} ({state})")  # fmt: skip
    if note:
        _out(note)
    return 0


_ACTIONS = {"create": _create, "worklist": _worklist, "open": _open, "skip": _skip,
            "status": _status}  # fmt: skip


# --- used by `cobbdesk measure --plan` and `cobbdesk stats --plan` ---------------------------
def plan_saver(study: Any, name: str, round_no: int, override: str = "") -> Any:
    """The save hook of the points import for a plan round (rules of
    :mod:`cobbdesk.core.reading.readings`): each row's rater's round is opened first (the
    washout applies; ``override`` is the audited reason to open it early)."""
    from cobbdesk.core.reading.adjudication import adjudication_list
    from cobbdesk.core.reading.plan import get_plan
    from cobbdesk.core.reading.readings import save_reading
    from cobbdesk.core.reading.rounds import open_round

    plan = get_plan(study, name)

    def save(film: Any, m: Any) -> bool:
        if round_no == 0:
            adjudication_list(study, plan)  # raises when the plan has no adjudication
        open_round(study, plan, m.rater, round_no, override_reason=override)
        return bool(save_reading(study, plan, round_no, film.id, m))

    return save


def plan_stats(study: Any, name: str) -> Any:
    """The plan's statistics with the clinical month-3 changes of the study's analysis
    dataset (its rater policy) for the MDC note."""
    from cobbdesk.core.reading.plan import get_plan
    from cobbdesk.core.reading.stats import plan_statistics

    plan = get_plan(study, name)
    return plan_statistics(study, plan, _clinical_changes(study))


def _clinical_changes(study: Any) -> dict[str, list[float | None]]:
    """Region → each patient's month-3 − admission Cobb angle (analysis dataset)."""
    from cobbdesk.core.export.dataset import load_long
    from cobbdesk.core.export.policy import apply_policy, resolve, study_policy, study_raters

    try:
        policy = resolve(study, study_policy(study), study_raters(study))
    except CobbdeskError:
        return {}
    frame = apply_policy(load_long(study), policy)
    changes: dict[str, list[float | None]] = {}
    for region in ("cervical", "lumbar"):
        wide = frame.pivot_table(index="record_id", columns="event", values=f"{region}_cobb",
                                 aggfunc="first")  # fmt: skip
        if {"admission", "month3"} <= set(wide.columns):
            delta = (wide["month3"] - wide["admission"]).dropna()
            changes[region] = [float(v) for v in delta]
    return changes


def stats_report(stats: Any, path: Path) -> Path:
    from cobbdesk.core.reading.report import write_plan_report

    return write_plan_report(stats, path)
