"""Bulk writes (#12 speed): tuple inserts with reordered columns and defaults, the audit
chain written by ``record_many``, and the labs import's cached per-cell checks."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from cobbdesk.core.importing.csv_import import import_labs
from cobbdesk.core.store import Study
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.schema import audit, labs


def test_insert_rows_reorders_and_fills_defaults(tmp_path: Path) -> None:
    with Study.create(tmp_path / "s.cobbdesk") as study:
        pid = study.add_patient("P1")
        visit = study.add_visit(pid, "admission")
        names = ("name", "updated_utc", "visit_id", "value_num")  # not the table's order
        rows = [("crp", "2026-01-01T00:00:00Z", visit, 4.5),
                ("esr", "2026-01-02T00:00:00Z", visit, 12.0)]  # fmt: skip
        with study.transaction() as conn:
            audit_log.insert_rows(conn, labs, names, rows)
            got = conn.execute(
                select(labs.c.name, labs.c.visit_id, labs.c.value_num, labs.c.value_text,
                       labs.c.unit, labs.c.version).order_by(labs.c.name)
            ).all()  # fmt: skip
    # unit's scalar default is "", version's is 1, value_text has none (NULL)
    assert [tuple(r) for r in got] == [
        ("crp", visit, 4.5, None, "", 1),
        ("esr", visit, 12.0, None, "", 1),
    ]


def test_record_many_chains_like_record(tmp_path: Path) -> None:
    entries: list[audit_log.Change] = [
        ("labs", 7, {"values": ({"crp": None}, {"crp": 1.5, "esr": 3.0})}, "import"),
        ("visit", 8, {"kind": (None, "admission"), "visit_date": (None, None)}, ""),
        ("patient", 'P"9\n', {"note": ("a\u00e9", 2.25)}, "why\tnot"),
    ]
    with Study.create(tmp_path / "s.cobbdesk", actor="tester") as study:
        with study.transaction() as conn:
            before = audit_log.head(conn)[0]
            assert audit_log.record_many(conn, study.actor, entries) == 4
        with study.engine.connect() as conn:
            assert audit_log.verify(conn).ok  # every hash recomputed by the canonical row_hash
            rows = conn.execute(
                select(audit.c.entity_id, audit.c.field, audit.c.old_value, audit.c.new_value)
                .where(audit.c.seq > before).order_by(audit.c.seq)
            ).all()  # fmt: skip
            assert audit_log.stored_head(conn) == audit_log.head(conn)
    assert [tuple(r) for r in rows] == [
        ("7", "values", '{"crp": null}', '{"crp": 1.5, "esr": 3.0}'),
        ("8", "kind", None, "admission"),
        ("8", "visit_date", None, None),
        ('P"9\n', "note", "a\u00e9", "2.25"),
    ]


def test_repeated_cells_report_every_row(tmp_path: Path) -> None:
    """Cells are validated once per distinct text; each row still gets its own message."""
    with Study.create(tmp_path / "s.cobbdesk") as study:
        for n in range(1, 5):
            study.add_patient(f"P{n}")
        csv_path = tmp_path / "labs.csv"
        csv_path.write_text(
            "study_id,visit,crp,vas\nP1,admission,abc,3\nP2,admission,abc,3\n"
            "P3,admission,900,3\nP4,admission,900,3\n",
            encoding="utf-8",
        )
        report = import_labs(study, csv_path)
    assert [(e.row, "crp = 'abc' is not a number" in e.message) for e in report.errors] == [
        (2, True),
        (3, True),
    ]
    assert report.imported == 2
    assert [w.row for w in report.warnings if w.message.startswith("crp = 900")] == [4, 5]
