"""The labs import's fast paths (#12 speed) give the same results as the general ones: lab
dicts encoded like ``json``, a visit written twice in one chunk, a conflict on a visit with no
lab rows, and repeated number cells each reported on their own row."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from cobbdesk.core.importing.csv_import import import_labs
from cobbdesk.core.importing.csv_text import normalise_numbers
from cobbdesk.core.store import Study, VisitKind
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.bulk_labs import LabWrite, write_labs
from cobbdesk.core.store.schema import audit, labs


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    s = Study.create(tmp_path / "study.cobbdesk", actor="tester")
    for n in (1, 2):
        s.add_visit(s.add_patient(f"P{n}"), "admission")
    yield s
    s.close()


def test_object_text_is_json_with_sorted_keys() -> None:
    """The reference is ``json.dumps`` itself (sorted keys, default separators, ASCII)."""
    rng = random.Random(12)
    names = ("vas", "crp", "esr", "ana", "cpk", 'odd"{key}\u00e9')
    kinds = [None, 1e300, 5e-324, -0.0, 0.1, math.inf, math.nan, "positive", 'a"\u00e9\n', 3]
    for _ in range(2_000):
        keys = tuple(rng.sample(names, rng.randint(0, len(names))))
        values = [rng.choice(kinds) if rng.random() < 0.5 else rng.uniform(-1e4, 1e4)
                  for _ in keys]  # fmt: skip
        expected = json.dumps(dict(zip(keys, values, strict=True)), sort_keys=True)
        assert audit_log.object_text(keys, values) == expected


def _audited(study: Study) -> list[tuple[str, str | None, str | None]]:
    with study.engine.connect() as conn:
        rows = conn.execute(
            select(audit.c.entity_id, audit.c.old_value, audit.c.new_value)
            .where(audit.c.entity == "labs").order_by(audit.c.seq)
        ).all()  # fmt: skip
    return [tuple(r) for r in rows]


def test_a_visit_written_twice_in_one_chunk(study: Study) -> None:
    first = LabWrite(2, 1, VisitKind.ADMISSION, {"crp": (None, 4.0), "esr": (None, 9.0)})
    again = LabWrite(3, 1, VisitKind.ADMISSION, {"crp": (4.0, 6.0), "vas": (None, 2.0)})
    other = LabWrite(4, 2, VisitKind.ADMISSION, {"ana": (None, "positive")})
    done = write_labs(study, [first, again, other], reason="import")
    assert (done.rows, done.values, done.conflicts) == (3, 5, [])
    visit = study.visit(1, "admission")
    assert visit is not None
    assert study.labs(visit.id) == {"crp": 6.0, "esr": 9.0, "vas": 2.0, "nlr": None}
    with study.engine.connect() as conn:  # the second write changed the queued insert
        got = conn.execute(select(labs.c.name, labs.c.version).where(labs.c.visit_id == visit.id)
                           .order_by(labs.c.name)).all()  # fmt: skip
    assert [tuple(r) for r in got] == [("crp", 1), ("esr", 1), ("vas", 1)]
    vid = str(visit.id)
    assert _audited(study)[-3:-1] == [
        (vid, '{"crp": null, "esr": null}', '{"crp": 4.0, "esr": 9.0}'),
        (vid, '{"crp": 4.0, "vas": null}', '{"crp": 6.0, "vas": 2.0}'),
    ]
    assert study.verify_integrity().ok


def test_a_stale_old_value_on_a_visit_without_labs_is_a_conflict(study: Study) -> None:
    stale = LabWrite(2, 1, VisitKind.ADMISSION, {"crp": (3.0, 6.0)})  # read 3, nothing stored
    done = write_labs(study, [stale], reason="import")
    assert done.rows == 0 and [row for row, _ in done.conflicts] == [2]
    (clash,) = done.conflicts[0][1].conflicts
    assert (clash.theirs, clash.mine) == (None, 6.0)


def test_repeated_number_cells_each_report_their_row() -> None:
    rows = [(n, {"cpk": text}) for n, text in
            enumerate(["1,23,456", "12,500", "1,23,456", "12,500", "7"], start=2)]  # fmt: skip
    numbers = normalise_numbers(rows, ["cpk"], ";")  # "1,23,456" shows a decimal point
    assert sorted(numbers.problems) == [2, 4]
    assert [cells["cpk"] for _, cells in rows] == ["", "12500", "", "12500", "7"]
    (note,) = numbers.notes
    assert note.startswith("cpk: 2 value(s) such as '12,500' (row 3) read as 12500")


def test_import_with_saved_values_and_fresh_visits(study: Study, tmp_path: Path) -> None:
    """Rows on a visit with saved values take the general path, the others the fast one."""
    study.set_labs(1, {"crp": 5.0})
    path = tmp_path / "labs.csv"
    path.write_text("study_id,visit,crp,esr\nP1,admission,5,3\nP2,admission,,\n"
                    "P2,month3,1.5,\nP1,admission,8,3\n", encoding="utf-8")  # fmt: skip
    report = import_labs(study, path)
    assert (report.imported, report.unchanged) == (2, 1)
    assert [(e.row, "needs a reason" in e.message) for e in report.errors] == [(5, True)]
    assert [w.row for w in report.warnings] == [3]  # the row with no lab values
    assert study.verify_integrity().ok


def test_verify_hashes_rows_of_any_field_kind_canonically() -> None:
    """``verify`` takes the fast hash for text fields and the canonical JSON otherwise."""
    row = {"seq": 3, "utc": "2026-01-01T00:00:00.000000Z", "actor": "u", "rater": "r",
           "entity": "visit", "entity_id": "7", "field": "kind", "old_value": None,
           "new_value": "admission", "reason": "", "app_version": "1",
           "prev_hash": "0" * 64}  # fmt: skip
    row["hash"] = audit_log.row_hash(row)
    assert audit_log._row_hash_of_stored(row) == row["hash"]
    odd = {**row, "entity_id": 7}  # an integer where text is stored: canonical JSON
    assert audit_log._row_hash_of_stored(odd) == audit_log.row_hash(odd) != row["hash"]
    altered = {**row, "new_value": "month3"}
    assert audit_log._row_hash_of_stored(altered) != row["hash"]
