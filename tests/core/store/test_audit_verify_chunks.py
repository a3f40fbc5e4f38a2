"""The audit chain is verified in chunks of rows, and a cancel request stops it between chunks.

The answer does not depend on the chunk size (the chain is the same SHA-256 chain whatever the
reads); a missing or altered row is found at a chunk boundary as inside one; a cancel flag
asked before each chunk stops the reading: no further statement is run.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event, func, select

from cobbdesk.core.store import Study
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.schema import audit


def _study(location: Callable[[str], object], patients: int = 6) -> Study:
    study = Study.create(location("chain.cobbdesk"), actor="setup")  # type: ignore[arg-type]
    for n in range(patients):
        pid = study.add_patient(f"P{n:04d}")
        study.add_visit(pid, "admission", visit_date="2026-01-05")
    return study


def _rows(study: Study) -> int:
    with study.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit)).scalar_one())


def _audit_reads(study: Study) -> list[str]:
    """Statements reading the audit table run from now on (a list that grows)."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if "FROM audit" in statement:
            seen.append(statement)

    event.listen(study.engine, "before_cursor_execute", record)
    return seen


def test_any_chunk_size_gives_the_same_answer(study_location: Callable[[str], object]) -> None:
    study = _study(study_location)
    total = _rows(study)
    assert total >= 12  # patients and visits, each audited
    with study.engine.connect() as conn:
        whole = audit_log.verify(conn, chunk=total + 1)
        assert whole.ok and whole.rows == total and not whole.cancelled
        for chunk in (1, 2, 3, 7, total - 1, total):
            assert audit_log.verify(conn, chunk=chunk) == whole, chunk
    reads = _audit_reads(study)
    with study.engine.connect() as conn:
        audit_log.verify(conn, chunk=5)
    assert len(reads) == total // 5 + 1  # full chunks, then the short (or empty) last one
    study.close()


def test_cancel_stops_between_chunks(study_location: Callable[[str], object]) -> None:
    study = _study(study_location)
    total = _rows(study)
    asked: list[int] = []

    def cancel_after_two() -> bool:
        asked.append(1)
        return len(asked) > 2  # asked before chunks 1, 2, 3: true the third time

    reads = _audit_reads(study)
    with study.engine.connect() as conn:
        result = audit_log.verify(conn, cancel_after_two, chunk=3)
    assert result.cancelled and not result.ok and result.first_bad_seq is None
    assert result.rows == 6 < total and len(reads) == 2  # no third read
    assert study.verify_audit(lambda: False).ok  # never cancelled: the whole chain
    assert study.verify_audit(lambda: True).rows == 0  # cancelled before the first read
    study.close()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("chunk", [2, 3, 1000])
def test_damage_is_found_at_and_inside_chunk_boundaries(
    study_location: Callable[[str], object], chunk: int
) -> None:
    study = _study(study_location)
    path = study.path
    study.close()
    raw = sqlite3.connect(path)  # someone with the file drops the guards
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("UPDATE audit SET reason = 'x' WHERE seq = 5")
    raw.execute("DELETE FROM audit WHERE seq = 3")
    raw.commit()
    raw.close()
    with Study.open(path) as study, study.engine.connect() as conn:
        result = audit_log.verify(conn, chunk=chunk)
    assert (result.ok, result.first_bad_seq, result.problem) == (False, 4, "row 3 is missing")


@pytest.mark.sqlite_only
@pytest.mark.parametrize("chunk", [3, 4, 1000])
def test_an_altered_row_is_found_whatever_the_chunk(
    study_location: Callable[[str], object], chunk: int
) -> None:
    study = _study(study_location)
    path = study.path
    study.close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit SET reason = 'x' WHERE seq = 4")  # first row of chunk 2 at 3
    raw.commit()
    raw.close()
    with Study.open(path) as study, study.engine.connect() as conn:
        result = audit_log.verify(conn, chunk=chunk)
    assert (result.ok, result.rows, result.problem) == (False, 4, "row 4 was altered")
