"""``cobbdesk verify STUDY``: database integrity, the audit trail, stale and inconsistent angles.

cobbdesk verify STUDY [--json]            database integrity, audit hash chain, stale stored
                                          angles (exit 1) and region mismatches (warnings);
    [--head] [--expect-head SEQ:HASH]     the data replayed from the audit trail, the trail's
                                          recorded end and guards (tampering: exit 1); --head
                                          prints the head to keep elsewhere, --expect-head
                                          checks a kept head is still in the trail
    [--same-as OTHER]                     OTHER (file or server URL) holds the same rows

Exit 1 when the audit trail is damaged or tampered with, an angle is stale, pixel shapes
disagree, or ``--same-as`` finds a difference; warnings (region mismatches, films not
checked against their file) leave the status 0.
"""

from __future__ import annotations

import argparse
import math
import re
from typing import Any

from cobbdesk.cli.locations import study_location
from cobbdesk.cli.opening import open_study
from cobbdesk.cli.output import emit_json, out, say
from cobbdesk.core.errors import CobbdeskError


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``verify`` subcommand on ``sub`` (argparse subparsers; ``common``: --json, --rater)."""
    verify = sub.add_parser("verify", parents=[common], help="check a study file")
    verify.add_argument("study", type=study_location)
    verify.add_argument(
        "--head", action="store_true", help="print the audit head (keep it outside the study)"
    )
    verify.add_argument(
        "--expect-head", metavar="SEQ:HASH", type=audit_head,
        help="a head printed earlier by --head",
    )  # fmt: skip
    verify.add_argument(
        "--same-as", metavar="OTHER", help="prove OTHER (file or server URL) holds the same "
        "rows in every table, audit trail included (after cobbdesk copy)",
    )  # fmt: skip


_HEAD = re.compile(r"(?:audit head:\s*)?(\d{1,18})\s*:\s*([0-9a-fA-F]{16,128})")


def audit_head(text: str) -> str:
    """``--expect-head``'s value as ``SEQ:HASH`` (the row number and hexadecimal hash
    ``verify --head`` printed; its whole line, ``audit head: SEQ:HASH``, is accepted too).
    Anything else is a usage error (exit 2), never a tampering alarm."""
    found = _HEAD.fullmatch(text.strip())
    if found is None:
        raise argparse.ArgumentTypeError(
            f"expected SEQ:HASH as printed by 'cobbdesk verify --head' (a row number, a colon "
            f"and a hexadecimal hash), not {text.strip()[:40]!r}"
        )
    return f"{int(found.group(1))}:{found.group(2).lower()}"


def verify(args: argparse.Namespace) -> int:
    """Run ``verify`` (see the module docstring); returns the exit status."""
    found = _findings(args)
    _say_problems(found, args.same_as)
    if args.json:
        emit_json(_result(found, args.same_as))
    else:
        _say_summary(found, args)
    clean = not found["stale"] and not found["shapes"] and not found["files"].disagreements
    return 0 if found["integrity"].ok and clean and not found["differences"] else 1


def _findings(args: argparse.Namespace) -> dict[str, Any]:
    """Everything verify reports, read in one open of the study."""
    from cobbdesk.core.importing.film_shapes import file_shape_disagreements
    from cobbdesk.core.redact import redact
    from cobbdesk.core.store.geometry_checks import geometry_disagreements, measured_rows

    with open_study(args) as study:  # opening runs SQLite's quick_check; damaged: refused
        found: dict[str, Any] = {"integrity": study.verify_integrity(args.expect_head)}
        found["overview"] = study.overview()
        found["stale"] = study.angle_discrepancies()
        found["mismatches"] = study.region_mismatches()
        found["duplicates"] = study.region_duplicates()
        measured = measured_rows(study)  # read once for both shape checks
        found["shapes"] = geometry_disagreements(study, measured)
        found["files"] = file_shape_disagreements(study, measured)
        # named after a patient? (the user's choice: shown redacted like every path)
        found["name"], found["location"] = redact(study.path.name), redact(str(study.location))
        found["differences"] = _same_as(study, args.same_as)
    overview = found["overview"]
    found["films"] = sum(len(fs) for p in overview for v in p.visits for fs in v.films.values())
    return found


def _result(found: dict[str, Any], same_as: str | None) -> dict[str, Any]:
    """The ``--json`` report."""
    check, integrity, files = found["integrity"].chain, found["integrity"], found["files"]
    return {
        "study": found["location"],
        "database": "ok",
        "same_as": None if same_as is None else not found["differences"],
        "differences": found["differences"],
        "audit_ok": check.ok,
        "audit_rows": check.rows,
        "first_bad_seq": check.first_bad_seq,
        "problem": check.problem,
        "audit_head": integrity.head_text,
        "tampering": [vars(p) for p in integrity.problems],
        "patients": len(found["overview"]),
        "visits": sum(len(p.visits) for p in found["overview"]),
        "films": found["films"],
        "stale_angles": [_stale_dict(d) for d in found["stale"]],
        "region_mismatches": [_mismatch_dict(m) for m in found["mismatches"]],
        "region_duplicates": [
            {**vars(d), "sop_instance_uids": list(d.sop_instance_uids), "message": d.describe()}
            for d in found["duplicates"]
        ],
        "pixel_shape_disagreements": [
            {"study_id": d.study_id, "film_id": d.film_id, "message": d.describe()}
            for d in found["shapes"]
        ],
        "file_shape_disagreements": [_file_shape_dict(d) for d in files.disagreements],
        "films_not_checked_against_file": list(files.not_checked),
    }


def _say_problems(found: dict[str, Any], same_as: str | None) -> None:
    """One stderr line per error and warning."""
    check = found["integrity"].chain
    if not check.ok:
        say("error", f"{found['name']}: audit trail damaged: {check.problem}")
    for difference in found["differences"]:
        say("error", f"not the same as {_shown(same_as)}: {difference}")
    for problem in found["integrity"].problems:
        say("error", f"tampering: {problem.describe()}")
    for d in found["stale"]:
        say("error", f"stale angle: {d.describe()}")
    for d in found["shapes"]:
        say("error", f"pixel shapes differ: {d.describe()}")
    _say_file_shapes(found["files"])
    for m in found["mismatches"]:
        say("warning", f"region mismatch: {m.describe()}")
    for d in found["duplicates"]:
        say("warning", f"two films of one region: {d.describe()}")


def _say_summary(found: dict[str, Any], args: argparse.Namespace) -> None:
    """The summary line on stdout (and the head, and the --same-as result, when asked)."""
    integrity, check = found["integrity"], found["integrity"].chain
    audit = f"ok ({check.rows} rows)" if check.ok else f"DAMAGED ({check.problem})"
    tampering = len(integrity.problems)
    audit += "; data matches the audit trail" if not tampering else f"; {tampering} TAMPERING(S)"
    overview = found["overview"]
    out(
        f"{found['name']}: database ok; audit chain {audit}; {len(overview)} "
        f"patient(s), {sum(len(p.visits) for p in overview)} visit(s), {found['films']} "
        f"film(s); {len(found['stale'])} stale angle(s); {len(found['shapes'])} film(s) "
        "measured with different pixel shapes; "
        f"{len(found['files'].disagreements)} measurement(s) with another pixel shape than "
        "the film file; "
        f"{len(found['mismatches'])} region mismatch(es); {len(found['duplicates'])} visit(s) "
        "with two measured films of one region"
    )
    if args.head:
        out(f"audit head: {integrity.head_text}")
    if args.same_as is not None and not found["differences"]:
        out(f"same as {_shown(args.same_as)}: every table and the audit head are equal")


def _file_shape_dict(d: Any) -> dict[str, Any]:
    keys = ("study_id", "film_id", "measurement_id")
    return {**{k: getattr(d, k) for k in keys}, "message": d.describe()}


def _say_file_shapes(files: Any) -> None:
    """Measurements with another pixel shape than their film file (errors) and the films
    whose file could not be read (warnings)."""
    for d in files.disagreements:
        say("error", f"pixel shape differs from the film file: {d.describe()}")
    for film_id in files.not_checked:
        say("warning", f"film #{film_id}: file not found, its pixel shape not checked")


def _shown(other: str) -> str:
    """``--same-as``'s study as it may be printed: a server URL without its password
    (:attr:`~cobbdesk.core.store.pg_url.ServerLocation.url`), a file as given."""
    from cobbdesk.core.store import pg_url

    if not pg_url.is_url(other):
        return other
    try:
        return pg_url.parse(other).url
    except (CobbdeskError, ValueError):
        return "the other server study"


def _same_as(study: Any, other: str | None) -> list[str]:
    """What differs between ``study`` and the study at ``other`` (copying.digest)."""
    if other is None:
        return []
    from cobbdesk.core.store.copying import digest, study_digest

    return digest(study.engine).differences(study_digest(other))


def _stale_dict(d: Any) -> dict[str, Any]:
    return {
        "study_id": d.study_id,
        "sop_instance_uid": d.sop_instance_uid,
        "measurement_id": d.measurement_id,
        "template": d.template,
        "problems": list(d.problems),
        "stored_deg": d.stored_deg,
        "recomputed_deg": d.recomputed_deg if math.isfinite(d.recomputed_deg) else None,
        "message": d.describe(),
    }


def _mismatch_dict(m: Any) -> dict[str, Any]:
    return {
        "study_id": m.study_id,
        "sop_instance_uid": m.sop_instance_uid,
        "measurement_id": m.measurement_id,
        "template": m.template,
        "film_region": m.film_region,
        "rater": m.rater,
    }
