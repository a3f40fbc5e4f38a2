"""Tamper evidence: each tampering of issue #12 is reported with entity, id and field, and
never with a patient identifier; an untouched study (new or migrated) verifies clean."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.integrity import Integrity

IDENTIFIERS = ("Doe", "Jane", "MRN-77", "1970")
NO_DELETE = """
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""
TRIGGERS = (
    """
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"""
    + NO_DELETE
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    target = tmp_path / "trial.cobbdesk"
    with Study.create(target, actor="dr_a") as study:
        pid = study.add_patient("P0001", name="Doe^Jane", mrn="MRN-77", birth_date="19700101")
        vid = study.add_visit(pid, "admission", visit_date="2026-01-05")
        study.set_labs(vid, {"crp": 5.0, "ana": "positive"})
        fid = study.add_film(vid, sop_instance_uid="1.2.3", path="/f/a.dcm", region="cervical")
        study.save_measurement(fid, CobbMeasurement(
            sop_instance_uid="1.2.3", pixel_sha256="", template=Template.C2_C7,
            upper=EndplateLine((100.0, 200.0), (160.0, 210.0)),
            lower=EndplateLine((100.0, 400.0), (160.0, 380.0)),
            spacing=(0.1, 0.1), spacing_source="PixelSpacing", rater="dr_a", id="m-1",
        ))  # fmt: skip
        study.calibrate_film(fid, (0, 0), (0, 400), 40.0, reason="ruler")
        study.update_patient(pid, "typo", mrn="MRN-78")
    return target


def tamper(path: Path, sql: str) -> None:
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.close()


def check(path: Path, expect_head: str | None = None) -> Integrity:
    with Study.open(path) as study:
        return study.verify_integrity(expect_head)


def found(result: Integrity) -> Iterator[tuple[str, str, str]]:
    for p in result.problems:
        text = p.describe()
        assert not any(word in text for word in IDENTIFIERS), text
        yield (p.entity, p.row, p.field)


def test_untouched_study_verifies(path: Path) -> None:
    result = check(path)
    assert result.ok, result.problems
    assert result.head[0] == result.chain.rows and len(result.head[1]) == 64


def test_deleting_the_last_audit_rows_is_detected(path: Path) -> None:
    # drop the guard, delete, put the guard back: only the recorded head can tell
    tamper(path, "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq > "
                 "(SELECT max(seq) - 2 FROM audit);" + NO_DELETE)  # fmt: skip
    result = check(path)
    assert not result.ok and result.chain.ok  # the remaining chain itself is intact
    assert any("rows were deleted" in p.problem for p in result.problems)


def test_emptying_the_audit_table_is_detected(path: Path) -> None:
    tamper(path, "DROP TRIGGER audit_no_delete; DELETE FROM audit;" + NO_DELETE)
    result = check(path)
    assert not result.ok
    assert any("rows were deleted" in p.problem for p in result.problems)
    assert ("patient", "P0001 (id 1)", "") in set(found(result))  # nothing explains the rows


def test_dropped_triggers_are_detected(path: Path) -> None:
    tamper(path, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
    problems = [p.describe() for p in check(path).problems]
    assert problems == [
        "audit: the guard trigger audit_no_update was removed",
        "audit: the guard trigger audit_no_delete was removed",
    ]


def test_direct_edits_are_reported_by_entity_id_and_field(path: Path) -> None:
    tamper(
        path,
        """
        UPDATE measurements SET angle_deg = angle_deg + 5, upper_anterior_y = 190;
        UPDATE labs SET value_num = 50 WHERE name = 'crp';
        UPDATE labs SET deleted_utc = '2026-01-01' WHERE name = 'ana';
        UPDATE patients SET name = 'Doe^Janet', birth_date = '1970-01-02';
        UPDATE films SET region = 'lumbar';
        UPDATE calibrations SET length_mm = 50;
    """,
    )
    result = check(path)
    assert result.chain.ok and not result.ok
    assert set(found(result)) == {
        ("measurement", "m-1", "angle_deg"),
        ("measurement", "m-1", "upper_anterior_y"),
        ("labs", "of visit 1", "crp"),
        ("labs", "of visit 1", "ana"),
        ("patient", "P0001 (id 1)", "name"),
        ("patient", "P0001 (id 1)", "birth_date"),
        ("film", "1", "region"),
        ("calibration", "1", "length_mm"),
    }


def test_rows_added_or_removed_outside_cobbdesk(path: Path) -> None:
    tamper(
        path,
        """
        INSERT INTO labs (visit_id, name, value_num, unit, updated_utc)
            VALUES (1, 'esr', 9, '', 'x');
        INSERT INTO patients (study_id, created_utc) VALUES ('P0002', 'x');
        PRAGMA foreign_keys = OFF;
        DELETE FROM measurements;
    """,
    )
    assert set(found(check(path))) == {
        ("labs", "of visit 1", "esr"),
        ("patient", "P0002 (id 2)", ""),
        ("measurement", "m-1", ""),
    }


def test_a_consistent_rewrite_needs_the_head_kept_elsewhere(path: Path) -> None:
    kept = check(path).head_text  # `cobbdesk verify --head`, stored outside the file
    with Study.open(path, actor="dr_b") as study:
        study.add_visit(1, "month3")
    # someone removes the last visit's trail AND the visit AND moves the head consistently
    con = sqlite3.connect(path)
    seq, prev = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    con.executescript("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;")
    con.execute("PRAGMA foreign_keys = OFF")
    con.execute("DELETE FROM visits WHERE kind = 'month3'")
    last = con.execute("SELECT min(seq) FROM audit WHERE entity = 'visit' AND entity_id = '2'")
    first_removed = last.fetchone()[0]
    con.execute("DELETE FROM audit WHERE seq >= ?", (first_removed,))
    new_seq, new_hash = con.execute("SELECT seq, hash FROM audit ORDER BY seq DESC").fetchone()
    con.execute("UPDATE meta SET value = ? WHERE key = 'audit_head'", (f"{new_seq}:{new_hash}",))
    con.executescript(TRIGGERS)
    con.commit()
    con.close()
    assert check(path).ok  # consistent: undetectable from the file alone
    assert check(path, expect_head=kept).ok  # the kept head is older: still in the trail
    after = f"{seq}:{prev}"
    result = check(path, expect_head=after)  # a head kept after the visit was added
    assert [p.describe() for p in result.problems] == [
        f"audit: the expected head {after} is not in the trail: the history up to it was "
        "rewritten or removed"
    ]


def test_bulk_hash_is_the_canonical_hash() -> None:
    """audit.fast_row_hash spells row_hash's canonical JSON out: same bytes on random rows."""
    import random

    from cobbdesk.core.store.audit import fast_row_hash, row_hash

    rng = random.Random(12)
    alphabet = 'aZ09 ,.:;"\\/\n\t\x00\x1féü€\u2028😀{}[]'
    keys = ("actor", "app_version", "entity", "entity_id", "field", "new_value", "old_value",
            "prev_hash", "rater", "reason", "utc")  # fmt: skip
    for _ in range(2000):
        row: dict[str, object] = {
            k: None if rng.random() < 0.2 else "".join(rng.choices(alphabet, k=rng.randint(0, 9)))
            for k in keys
        }
        row["seq"] = rng.randint(1, 10**12)
        assert fast_row_hash(row) == row_hash(row)
