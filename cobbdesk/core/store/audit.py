"""The audit trail: who changed what, when (UTC), from what to what, and why.

Rows are written in the same transaction as the change they describe.  Each row stores the
SHA-256 of the previous row's hash and its own content (a hash chain), so editing or deleting
any row — which the database triggers already refuse — is detected by :func:`verify`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from cobbdesk import __version__
from cobbdesk.core.store.schema import audit

GENESIS = "0" * 64
_FIELDS = (
    "seq",
    "utc",
    "actor",
    "rater",
    "entity",
    "entity_id",
    "field",
    "old_value",
    "new_value",
    "reason",
    "app_version",
    "prev_hash",
)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return repr(value)
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def row_hash(row: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the row's fields (including ``prev_hash``)."""
    canonical = json.dumps({k: row[k] for k in _FIELDS}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who acts: the OS user and the rater chosen in the app."""

    user: str
    rater: str = ""


def record(
    conn: Connection,
    actor: Actor,
    entity: str,
    entity_id: object,
    changes: dict[str, tuple[Any, Any]],
    *,
    reason: str = "",
) -> None:
    """Append one audit row per changed field, chained to the previous row."""
    last = conn.execute(
        select(audit.c.seq, audit.c.hash).order_by(audit.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    now = utc_now()
    for field, (old, new) in changes.items():
        seq += 1
        row = {
            "seq": seq,
            "utc": now,
            "actor": actor.user,
            "rater": actor.rater,
            "entity": entity,
            "entity_id": str(entity_id),
            "field": field,
            "old_value": _text(old),
            "new_value": _text(new),
            "reason": reason,
            "app_version": __version__,
            "prev_hash": prev,
        }
        prev = row_hash(row)
        conn.execute(audit.insert().values(**row, hash=prev))


@dataclass(frozen=True)
class Verification:
    ok: bool
    rows: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify(conn: Connection) -> Verification:
    """Recompute the chain; report the first row whose content or link does not match."""
    prev, expected_seq, count = GENESIS, 1, 0
    for row in conn.execute(select(audit).order_by(audit.c.seq)).mappings():
        count += 1
        if row["seq"] != expected_seq:
            return Verification(False, count, row["seq"], f"row {expected_seq} is missing")
        if row["prev_hash"] != prev or row_hash(dict(row)) != row["hash"]:
            return Verification(False, count, row["seq"], f"row {row['seq']} was altered")
        prev, expected_seq = row["hash"], expected_seq + 1
    return Verification(True, count)
