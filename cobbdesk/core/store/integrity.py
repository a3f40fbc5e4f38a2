"""Tamper evidence: does the study's current data match what its audit trail says happened?

:func:`audit.verify <cobbdesk.core.store.audit.verify>` only proves the audit rows that are
present are unaltered and contiguous.  :func:`check_integrity` also proves

* **the trail's end**: ``meta.audit_head`` (row count and last hash, moved by every audited
  write in the same transaction) must name the last row — deleting the last rows or emptying
  the table leaves it pointing past the end; with ``expect_head`` (a head kept elsewhere,
  ``cobbdesk verify --head``) the trail must still contain that row unchanged;
* **the guards**: the append-only triggers on ``audit`` must exist;
* **the data**: replaying the trail (every insert is audited with all of its fields, every
  update with old and new values; migration to schema 4 audited a snapshot of every row) gives
  the state each patient, visit, film, measurement, calibration and lab value must be in; a
  row whose stored fields differ, a row the trail never created and a created row that is gone
  are each reported.

Reports name rows by id (patients by their study ID pseudonym and id, measurements by uuid)
and the field — never a value, since patient fields are identifiers.

What it cannot prove: someone who can write the file can rewrite data, trail and head
consistently; only a head kept outside the file (or a signed export) detects that.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Float, Integer, Table, select

from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.schema import (
    audit,
    calibrations,
    films,
    labs,
    measurements,
    patients,
    plan_items,
    plan_rounds,
    reading_plans,
    reading_skips,
    readings,
    visits,
)

SNAPSHOT = "snapshot"
"""Audit field of a row's full state (written for every existing row by migration to v4)."""
POINTS = tuple(f"{line}_{end}_{axis}" for line in ("upper", "lower")
               for end in ("anterior", "posterior") for axis in ("x", "y"))  # fmt: skip
REPLAYED: dict[str, tuple[Table, tuple[str, ...]]] = {
    "patient": (patients, ("study_id", "dicom_patient_id", "name", "mrn", "birth_date", "sex",
                           "dose_mg_kg_day", "duration_months", "deleted_utc")),
    "visit": (visits, ("patient_id", "kind", "label", "visit_date", "deleted_utc")),
    "film": (films, ("visit_id", "sop_instance_uid", "pixel_sha256", "path", "region", "view",
                     "study_date", "pixel_rows", "pixel_columns", "facing", "facing_source",
                     "pixel_aspect_row", "pixel_aspect_col", "deleted_utc")),
    "measurement": (measurements, ("film_id", "rater", "template", *POINTS, "spacing_row_mm",
                                   "spacing_col_mm", "spacing_source", "angle_deg",
                                   "algorithm_version", "upper_snapped", "lower_snapped",
                                   "pixel_aspect_row", "pixel_aspect_col", "deleted_utc")),
    "calibration": (calibrations, ("film_id", "kind", "x1", "y1", "x2", "y2", "length_mm",
                                   "spacing_row_mm", "spacing_col_mm", "deleted_utc")),
    # schema 5: reading plans (cobbdesk.core.reading)
    "reading_plan": (reading_plans, ("name", "region", "sample_patients", "seed", "raters",
                                     "rounds", "washout_days", "adjudicate_above_deg",
                                     "adjudicator", "snapping", "blinding", "deleted_utc")),
    "plan_item": (plan_items, ("plan_id", "rater", "round", "position", "film_id")),
    "plan_round": (plan_rounds, ("plan_id", "rater", "round", "override_reason")),
    "reading": (readings, ("film_id", "plan_id", "round", "kind", "rater", "template", *POINTS,
                           "spacing_row_mm", "spacing_col_mm", "spacing_source", "angle_deg",
                           "algorithm_version", "upper_snapped", "lower_snapped",
                           "pixel_aspect_row", "pixel_aspect_col", "deleted_utc")),
    "reading_skip": (reading_skips, ("plan_id", "rater", "round", "film_id", "reason",
                                     "deleted_utc")),
}  # fmt: skip
"""Audit entity → its table and the fields the trail must account for."""
LABS = "labs"
LAB_VALUES = "values"
"""Audit field of a bulk import's lab row: old and new ``{lab: value}`` as JSON objects."""
_CHANGED = "differs from the audit trail: changed outside CobbDesk"
_FLOAT = Float()
TRIGGERS = ("audit_no_update", "audit_no_delete")
"""The append-only guards ``dialect`` creates on the audit table (SQLite)."""


def inserted(entity: str, values: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The audit changes of a new row: ``(None, value)`` for every replayed field that is set
    (by ``values`` or by the column's scalar default)."""
    defaults = _DEFAULTS.get(entity)
    if defaults is None:
        defaults = _DEFAULTS[entity] = _scalar_defaults(entity)
    changes = {}
    for name, default in defaults:
        value = values.get(name)
        if value is None:
            value = default
        if value is not None:
            changes[name] = (None, value)
    return changes


_DEFAULTS: dict[str, tuple[tuple[str, Any], ...]] = {}


def _scalar_defaults(entity: str) -> tuple[tuple[str, Any], ...]:
    """``(field, its column's scalar default or None)`` for each replayed field of ``entity``."""
    table, names = REPLAYED[entity]
    found = []
    for name in names:
        default = table.c[name].default
        scalar = default is not None and getattr(default, "is_scalar", False)
        found.append((name, default.arg if scalar else None))  # type: ignore[union-attr]
    return tuple(found)


@dataclass(frozen=True)
class Tampering:
    """One difference between the study and its audit trail (no values: ids and fields only)."""

    entity: str
    row: str
    field: str
    problem: str

    def describe(self) -> str:
        """One line: ``"<entity> <row>: <field>: <problem>"`` (no field: without it)."""
        where = f"{self.entity} {self.row}".strip()
        return (
            f"{where}: {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"
        )


@dataclass(frozen=True)
class Integrity:
    """What :func:`check_integrity` found; ``head`` is ``(rows, last hash)`` of the trail."""

    chain: audit_log.Verification
    head: tuple[int, str]
    problems: list[Tampering] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the audit chain is intact and nothing differs from it."""
        return self.chain.ok and not self.problems

    @property
    def head_text(self) -> str:
        """The trail's head as ``"<rows>:<last hash>"`` (``cobbdesk verify --head``)."""
        return audit_log.head_text(*self.head)


def check_integrity(conn: Connection, expect_head: str | None = None) -> Integrity:
    """Chain, head, guards and data (module rules); ``expect_head`` is ``seq:hash`` or ``hash``."""
    chain = audit_log.verify(conn)
    head = audit_log.head(conn)
    problems = _head_problems(conn, head)
    if expect_head:
        problems += _expected_head_problems(conn, expect_head)
    problems += _trigger_problems(conn)
    problems += data_problems(conn)
    return Integrity(chain, head, problems)


def _head_problems(conn: Connection, head: tuple[int, str]) -> list[Tampering]:
    try:
        stored = audit_log.stored_head(conn)
    except ValueError:
        return [Tampering("study", "", "audit_head", "the recorded audit head is unreadable")]
    if stored is None:
        return [Tampering("study", "", "audit_head", "the recorded audit head is missing")]
    if stored == head:
        return []
    if stored[0] > head[0]:
        what = f"the study recorded {stored[0]} audit rows but {head[0]} remain: rows were deleted"
    else:
        what = (
            f"the audit trail ends at row {head[0]} but the study recorded row {stored[0]} as its "
            "end: rows were rewritten or added outside CobbDesk"
        )
    return [Tampering("audit", "", "", what)]


def _expected_head_problems(conn: Connection, expected: str) -> list[Tampering]:
    seq_text, _, hash_ = expected.strip().rpartition(":")
    query = select(audit.c.seq).where(audit.c.hash == hash_.lower())
    if seq_text:
        query = query.where(audit.c.seq == int(seq_text))
    if conn.execute(query).first() is None:
        return [Tampering("audit", "", "", f"the expected head {expected.strip()} is not in the "
                          "trail: the history up to it was rewritten or removed")]  # fmt: skip
    return []


def _trigger_problems(conn: Connection) -> list[Tampering]:
    from cobbdesk.core.store import dialect, pg_dialect  # each dialect lists its own guards

    guards: tuple[str, ...] = TRIGGERS
    if conn.dialect.name == "postgresql":
        guards, present = pg_dialect.TRIGGERS, pg_dialect.trigger_names(conn)
    else:
        present = dialect.trigger_names(conn)
    return [
        Tampering("audit", "", "", f"the guard trigger {name} was removed")
        for name in guards
        if name not in present
    ]


# --- replay -------------------------------------------------------------------------------
def _recorded(conn: Connection) -> dict[tuple[str, str], dict[str, Any]]:
    """Replay the trail: (entity, id) → {field: last recorded value} (labs: by visit id)."""
    state: dict[tuple[str, str], dict[str, Any]] = {}
    query = (
        select(audit.c.entity, audit.c.entity_id, audit.c.field, audit.c.new_value)
        .where(audit.c.entity.in_([*REPLAYED, LABS]))
        .order_by(audit.c.seq)
    )
    for entity, entity_id, name, new in conn.execute(query):
        key = (entity, entity_id)
        if name == SNAPSHOT:
            state[key] = dict(json.loads(new))
        elif entity == LABS and name == LAB_VALUES:
            state.setdefault(key, {}).update(json.loads(new))
        else:
            state.setdefault(key, {})[name] = new
    return state


def _same(kind: Any, recorded: Any, current: Any) -> bool:
    if recorded is None or current is None:
        return recorded is None and current is None
    try:
        if isinstance(kind, Float):
            a, b = float(recorded), float(current)
            return a == b or (math.isnan(a) and math.isnan(b))
        if isinstance(kind, Integer):
            return int(float(recorded)) == int(current)
    except (TypeError, ValueError):
        return False
    return str(recorded) == str(current)


def data_problems(conn: Connection) -> list[Tampering]:
    """Rows whose stored fields are not what the replayed trail says (module rules)."""
    recorded = _recorded(conn)
    study_ids = {
        str(pid): sid for pid, sid in conn.execute(select(patients.c.id, patients.c.study_id))
    }
    problems: list[Tampering] = []
    for entity, (table, names) in REPLAYED.items():
        problems += _table_problems(
            conn, entity, table=table, names=names, recorded=recorded, study_ids=study_ids
        )
    problems += _lab_problems(conn, recorded)
    return problems


def _name(entity: str, row_id: str, state: Mapping[str, Any], study_ids: Mapping[str, str]) -> str:
    if entity == "patient":
        pseudonym = state.get("study_id") or study_ids.get(row_id, "?")
        return f"{pseudonym} (id {row_id})"
    return row_id


def _table_problems(
    conn: Connection,
    entity: str,
    *,
    table: Table,
    names: tuple[str, ...],
    recorded: Mapping[tuple[str, str], dict[str, Any]],
    study_ids: Mapping[str, str],
) -> list[Tampering]:
    problems, seen = [], set()
    types = [(n, table.c[n].type) for n in names]
    # text columns: an equal value of the same kind is the same (what :func:`_same` finds)
    plain = {n for n, type_ in types if not isinstance(type_, Float | Integer)}
    for row_id_, *values in conn.execute(select(table.c.id, *(table.c[n] for n in names))):
        row_id = str(row_id_)
        seen.add(row_id)
        state = recorded.get((entity, row_id))
        label = _name(entity, row_id, state or {}, study_ids)
        if state is None:
            problems.append(Tampering(entity, label, "", "not in the audit trail: written "
                                      "outside CobbDesk"))  # fmt: skip
            continue
        for (n, type_), current in zip(types, values, strict=True):
            then = state.get(n)
            if then is None and current is None:
                continue
            if n in plain and type(then) is type(current) and then == current:
                continue
            if not _same(type_, then, current):
                problems.append(Tampering(entity, label, n, _CHANGED))
    for (kind, row_id), state in recorded.items():
        if kind == entity and row_id not in seen:
            label = _name(entity, row_id, state, study_ids)
            problems.append(Tampering(entity, label, "", "in the audit trail but missing from "
                                      "the study: deleted outside CobbDesk"))  # fmt: skip
    return problems


def _lab_problems(
    conn: Connection, recorded: Mapping[tuple[str, str], dict[str, Any]]
) -> list[Tampering]:
    current: dict[tuple[str, str], Any] = {}
    query = select(labs.c.visit_id, labs.c.name, labs.c.value_num, labs.c.value_text,
                   labs.c.deleted_utc)  # fmt: skip
    for visit_id, name, number, value_text, deleted in conn.execute(query):
        value = None if deleted is not None else (number if number is not None else value_text)
        current[(str(visit_id), name)] = value
    expected = {
        (visit_id, name): value
        for (entity, visit_id), values in recorded.items()
        if entity == LABS
        for name, value in values.items()
    }
    differ = []
    for key in current.keys() | expected.keys():
        now, then = current.get(key), expected.get(key)
        if type(now) is float and type(then) is float and now == then:
            continue  # what _same finds for two equal floats, without the call
        if not _same(_FLOAT if isinstance(now, float) else None, then, now):
            differ.append(key)
    return [Tampering("labs", f"of visit {visit_id}", name, _CHANGED)
            for visit_id, name in sorted(differ)]  # fmt: skip


# --- migration to v4 ----------------------------------------------------------------------
def snapshot_entries(conn: Connection, reason: str) -> Iterable[audit_log.Change]:
    """One audit change per existing row (and per visit's labs): its full replayed state."""
    for entity, (table, names) in REPLAYED.items():
        for row in conn.execute(select(table.c.id, *(table.c[n] for n in names))).mappings():
            state = {n: row[n] for n in names}
            yield entity, row["id"], {SNAPSHOT: (None, state)}, reason
    by_visit: dict[int, dict[str, Any]] = {}
    query = select(labs.c.visit_id, labs.c.name, labs.c.value_num, labs.c.value_text).where(
        labs.c.deleted_utc.is_(None)
    )
    for visit_id, name, number, value_text in conn.execute(query):
        by_visit.setdefault(int(visit_id), {})[name] = number if number is not None else value_text
    for visit_id, values in by_visit.items():
        yield LABS, visit_id, {SNAPSHOT: (None, values)}, reason


__all__ = [
    "LABS",
    "LAB_VALUES",
    "REPLAYED",
    "SNAPSHOT",
    "TRIGGERS",
    "Integrity",
    "Tampering",
    "check_integrity",
    "data_problems",
    "inserted",
    "snapshot_entries",
]
