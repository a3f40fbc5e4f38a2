"""``cobbdesk export`` and ``cobbdesk stats``: study exports and statistics from the shell.

cobbdesk export STUDY --format wide|long|xlsx|sav|codebook|sr -o PATH [--identified]
                      [--raters mean|each|consensus|NAME] [--convention-comment]
                      [--reason TEXT] [--stats-json FILE]
cobbdesk stats STUDY [--raters mean|consensus|NAME] [--json] [--report report.html]
cobbdesk stats STUDY --set-raters mean|consensus|NAME | --set-adjudicator NAME --reason TEXT

Without ``--raters`` both use the study's rater policy (``mean`` unless set).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cobbdesk.cli.locations import study_location
from cobbdesk.cli.output import emit_json
from cobbdesk.cli.parsing import Parser

COMMANDS = ("export", "stats")
STDOUT = Path("-")
"""``-o -`` / ``--stats-json -``: standard output (text formats only)."""
_REPORTS = {"stderr": False}
"""True while an export sends data to stdout: its report lines go to stderr then."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cobbdesk")
    sub = parser.add_subparsers(dest="command", required=True)
    export = sub.add_parser("export", help="write the study as CSV, XLSX, SPSS or a codebook")
    export.add_argument("study", type=study_location)
    export.add_argument(
        "--format", required=True, choices=("wide", "long", "xlsx", "sav", "codebook", "sr"),
        help="sr: one DICOM Comprehensive SR per film and rater into the folder -o",
    )
    export.add_argument(
        "-o", "--output", type=Path, required=True,
        help="the file to write; - is standard output (wide, long, codebook)",
    )  # fmt: skip
    export.add_argument(
        "--identified",
        action="store_true",
        help="include names, MRNs, birth dates and visit dates (recorded in the audit trail)",
    )
    export.add_argument(
        "--convention-comment",
        action="store_true",
        help="first CSV line: '# Cobb angle sign convention: ...' (off for a clean CSV)",
    )
    export.add_argument("--reason", default="", help="why the export is made (audit trail)")
    export.add_argument("--rater", metavar="NAME", help="who acts (default: the OS user)")
    export.add_argument(
        "--raters",
        metavar="POLICY",
        help="mean (default): one row per patient, angles averaged over raters; each: one row "
        "per rater (reliability work); consensus: the study's adjudicator; NAME: one rater",
    )
    export.add_argument(
        "--stats-json",
        type=Path,
        metavar="FILE",
        help="also write the full statistics (as 'cobbdesk stats --json') from the same data; "
        "- is standard output",
    )
    stats = sub.add_parser("stats", help="paired tests, correlations, reliability")
    stats.add_argument("study", type=study_location)
    stats.add_argument("--json", action="store_true", help="print machine-readable results")
    stats.add_argument("--report", type=Path, help="write a self-contained HTML report")
    stats.add_argument(
        "--raters", metavar="POLICY", help="mean (default), consensus or a rater's name"
    )
    stats.add_argument("--set-raters", metavar="POLICY", help="store the study's rater policy")
    stats.add_argument(
        "--set-adjudicator", metavar="NAME", help="store the rater whose reading is consensus"
    )
    stats.add_argument("--reason", default="", help="why a setting is changed (audit trail)")
    stats.add_argument("--rater", metavar="NAME", help="who acts (default: the OS user)")
    stats.add_argument(
        "--plan", metavar="NAME", help="reliability statistics of a reading plan (#14)"
    )
    return parser


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _shown(path: Any) -> str:
    """A path the user chose, as printed: redacted (a folder or file named after a patient
    of the open study — identifiers known once it is open)."""
    from cobbdesk.core.redact import redact

    return redact(str(path))


def _err(text: str) -> None:
    from cobbdesk.cli.output import say

    say("error", text)


def _export_sr(args: argparse.Namespace) -> int:
    from cobbdesk.core.sr.writer import export_sr
    from cobbdesk.core.store import Study

    removed: list[Path] = []
    with Study.open(args.study, actor=args.rater) as study:
        files, problems = export_sr(study, args.output, reason=args.reason, removed=removed)
    for problem in problems:
        _err(problem)
    for f in files:
        _out(f"{_shown(f.path)}: {f.measurements} measurement(s), rater {f.rater}, "
             f"sha256 {f.sha256}")  # fmt: skip
    for path in removed:  # CobbDesk's own earlier SR of measurements deleted since
        _out(f"{_shown(path)}: removed (an earlier SR of this study's measurements deleted "
             "since)")  # fmt: skip
    _out(f"{len(files)} DICOM SR file(s) written (they carry the films' patient identifiers)")
    return 1 if problems else 0


def _export(args: argparse.Namespace) -> int:
    refusal = _standard_output_refusal(args)
    if refusal is not None:  # options that cannot go together: a usage error (README)
        _err(refusal)
        return 2
    _REPORTS["stderr"] = STDOUT in (args.output, args.stats_json)
    if args.format == "sr":
        return _export_sr(args)
    _check_outputs(args.output, args.stats_json)
    from cobbdesk.core.store import Study

    with Study.open(args.study, actor=args.rater) as study:
        result = _fast_wide(study, args) if args.format == "wide" else None
        if result is None:
            result = _pandas_export(study, args)
    _report(result)
    return 0


def _standard_output_refusal(args: argparse.Namespace) -> str | None:
    """``-o -`` / ``--stats-json -`` mean standard output: why they are refused (before
    anything is read) for binary formats, SR folders, and both at once; None when not."""
    if args.output == STDOUT and args.format in ("xlsx", "sav", "sr"):
        what = "a folder" if args.format == "sr" else "a binary format"
        return f"-o -: {args.format} is {what} and cannot go to standard output; give a file name"
    if args.output == STDOUT and args.stats_json == STDOUT:
        return ("-o - and --stats-json -: only one of them can go to standard output; give "
                "the other a file name")  # fmt: skip
    return None


def _report(result: Any) -> None:
    kind = "IDENTIFIED" if result.identified else "de-identified"
    where = "standard output" if result.path == STDOUT else _shown(result.path)
    _note(
        f"{where}: {result.rows} rows, {kind} {result.format}, raters "
        f"{result.policy.label}, sha256 {result.sha256}"
    )


def _note(text: str) -> None:
    """A report line: on stdout, or on stderr when stdout carries exported data."""
    if _REPORTS["stderr"]:
        sys.stderr.write(text + "\n")
    else:
        _out(text)


def _fast_wide(study: Any, args: argparse.Namespace) -> Any:
    """The wide export (and ``--stats-json``) from numpy columns, without pandas (issue #17);
    None when the study needs the pandas path (nothing written then).  The rows the rater
    policy made are written and, for the same policy, analysed (made once)."""
    from cobbdesk.core.export.arrays import load_table
    from cobbdesk.core.export.fetch import Unsupported
    from cobbdesk.core.export.policy_arrays import apply_policy
    from cobbdesk.core.export.publish import export_policy
    from cobbdesk.core.export.wide_csv import export_analysed

    try:
        per_rater = load_table(study, identified=args.identified)
        policy = export_policy(study, args.raters)
        table = apply_policy(per_rater, policy)
        result = export_analysed(
            study, args.output, table, policy, identified=args.identified,
            convention_comment=args.convention_comment, reason=args.reason,
        )  # fmt: skip
    except Unsupported:
        return None
    if args.stats_json is not None:
        if policy.kind == "each":
            _fast_stats_json(study, args.stats_json, per_rater, _analysis_policy(study, None))
        else:
            _fast_stats_json(study, args.stats_json, per_rater, policy, table)
    return result


def _fast_stats_json(
    study: Any, path: Path, per_rater: Any, policy: Any, analysed: Any = None
) -> None:
    """The statistics from the numpy table (``analysed``: its rows under ``policy``, when
    already made); the pandas path when the policy needs it."""
    from cobbdesk.core.export.analysis_arrays import analyse_table
    from cobbdesk.core.export.fetch import Unsupported

    try:
        analysis = analyse_table(per_rater, policy, analysed)
    except Unsupported:
        from cobbdesk.core.export.dataset import load_long

        _write_stats_json(path, load_long(study), policy)
        return
    _dump_stats(path, analysis.to_dict())


def _pandas_export(study: Any, args: argparse.Namespace) -> Any:
    from cobbdesk.core.export.dataset import load_long
    from cobbdesk.core.export.writers import export_with_pandas

    shared = args.stats_json is not None and args.format != "codebook"
    long = load_long(study, identified=args.identified) if shared else None
    result = export_with_pandas(
        study, args.format, args.output, identified=args.identified,
        convention_comment=args.convention_comment, reason=args.reason, long=long,
        raters=args.raters,
    )  # fmt: skip
    if args.stats_json is not None:
        stats_policy = result.policy if result.policy.kind != "each" else None
        stats_policy = stats_policy or _analysis_policy(study, None)
        data = long if long is not None else load_long(study)
        _write_stats_json(args.stats_json, data, stats_policy)
    return result


def _check_outputs(*paths: Path | None) -> None:
    """Refuse, before anything is written, an output whose folder is missing or that exists
    and is not a regular file (a link, pipe, device, folder): ExportError naming it
    (:func:`cobbdesk.core.private.check_target`; the writers check again)."""
    from cobbdesk.core.private import check_target

    for path in paths:
        if path is not None and Path(path) != STDOUT:
            check_target(Path(path))


def _analysis_policy(study: Any, text: str | None) -> Any:
    """The resolved policy for the statistics: ``text`` or the study's default."""
    from cobbdesk.core.export.policy import parse_policy, resolve, study_policy, study_raters

    policy = study_policy(study) if text is None else parse_policy(text)
    return resolve(study, policy, study_raters(study))


def _write_stats_json(path: Path, long: Any, policy: Any) -> None:
    from cobbdesk.core.export.analysis import analyse

    _dump_stats(path, analyse(long, policy).to_dict())


def _dump_stats(path: Path, data: dict[str, Any]) -> None:
    from cobbdesk.core.private import write_private

    if path == STDOUT:  # a report on stdout: redacted; the file is the data product
        emit_json(data, indent=1, allow_nan=False)
        sys.stdout.flush()
        _note("standard output: statistics (JSON)")
        return
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False)
    write_private(path, text + "\n")  # 0600, atomic
    _note(f"{path}: statistics (JSON)")


def _summary(data: dict[str, Any]) -> list[str]:
    from cobbdesk.core.export.formatting import format_value, p_phrase

    lines = [f"{data['n_patients']} patients; {data['notes'][0]}", *data["notes"][1:]]
    for w in data["wilcoxon"]:
        if w["computable"]:
            exact = " (exact, small sample)" if w["p_source"] == "exact" else ""
            lines.append(
                f"{w['measure']}: n = {w['n']} pairs ({w['zeros']} zero), "
                f"W = {w['w']:g}, Z = {w['z']:.3f}, {p_phrase(w['p'])}{exact}, "
                f"median Δ = {w['median_diff']:g}"
            )
        else:
            lines.append(f"{w['measure']}: {w['reason']}")
        if w["excluded_ids"]:
            lines.append(f"  excluded: {', '.join(w['excluded_ids'])}")
    for s in data["spearman"]:
        rho = f"rho = {format_value(s['rho'], 3)}, {p_phrase(s['p'])}"
        result = rho if s["computable"] else s["reason"]
        lines.append(f"{s['x']} vs {s['y']} ({s['visit']}, n = {s['n']}): {result}")
    for s in data["rmcorr"]:
        r = f"r_rm = {format_value(s['r'], 3)}, df = {s['df']}, {p_phrase(s['p'])}"
        result = r if s["computable"] else s["reason"]
        lines.append(f"{s['x']} vs {s['y']} (both visits, rmcorr): {result}")
    for icc in data["icc"]:
        value = f"{icc['icc']:.3f}" if icc["computable"] else icc["reason"]
        lines.append(f"ICC(A,1) {icc['region']}: {value}")
    return lines


def _stats(args: argparse.Namespace) -> int:
    from cobbdesk.core.export.analysis import analyse
    from cobbdesk.core.export.dataset import load_long
    from cobbdesk.core.store import Study

    _check_outputs(args.report)
    if args.plan:
        return _plan_stats(args)
    with Study.open(args.study, actor=args.rater) as study:
        if args.set_raters is not None or args.set_adjudicator is not None:
            return _settings(study, args)
        policy = _analysis_policy(study, args.raters)
        analysis = analyse(load_long(study), policy)
    data = analysis.to_dict()
    if args.report:
        from cobbdesk.core.export.report import write_report

        written = write_report(analysis, args.report, title=f"Statistics: {args.study.name}")
        if not args.json:
            _out(f"report: {_shown(written[0])} ({len(written) - 1} plot files)")
    if args.json:
        emit_json(data, indent=1, allow_nan=False)
    else:
        _out("\n".join(_summary(data)))
    return 0


def _plan_stats(args: argparse.Namespace) -> int:
    """``cobbdesk stats STUDY --plan NAME``: the plan's reliability statistics."""
    from cobbdesk.cli.plan import plan_stats, stats_report
    from cobbdesk.core.reading.stats import summary_lines
    from cobbdesk.core.store import Study

    with Study.open(args.study, actor=args.rater) as study:
        stats = plan_stats(study, args.plan)
    if args.report:
        written = stats_report(stats, args.report)
        if not args.json:
            _out(f"report: {_shown(written)}")
    if args.json:
        emit_json(stats.to_dict(), indent=1, allow_nan=False)
    else:
        _out("\n".join(summary_lines(stats)))
    return 0


def _settings(study: Any, args: argparse.Namespace) -> int:
    """Store the study's adjudicator and/or rater policy (audited)."""
    from cobbdesk.core.export.policy import SETTING_ADJUDICATOR, set_setting, set_study_policy

    if args.set_adjudicator is not None:
        name = args.set_adjudicator.strip()
        set_setting(study, SETTING_ADJUDICATOR, name, reason=args.reason)
        _out(f"adjudicator: {name}")
    if args.set_raters is not None:
        policy = set_study_policy(study, args.set_raters, reason=args.reason)
        _out(f"rater policy: {policy.label}")
    return 0


def main(argv: Sequence[str]) -> int:
    from cobbdesk.core.errors import CobbdeskError

    args = build_parser().parse_args(list(argv))
    from cobbdesk.cli.output import fail

    try:
        return _export(args) if args.command == "export" else _stats(args)
    except CobbdeskError as exc:
        return fail(exc)
    except BrokenPipeError:  # stdout's reader has gone: cobbdesk.cli.main ends quietly
        raise
    except OSError as exc:  # the statistics JSON or the report
        from cobbdesk.core.store.faults import os_error

        return fail(os_error(exc, Path(exc.filename or args.study), "file"))
