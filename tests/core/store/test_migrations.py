"""A study written by schema version 1 opens: backed up first, migrated, data intact."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import SCHEMA_VERSION

FROZEN_V1 = Path(__file__).resolve().parents[2] / "data" / "study_v1.sql"


@pytest.fixture
def v1_file(tmp_path: Path) -> Path:
    path = tmp_path / "legacy.cobbdesk"
    con = sqlite3.connect(path)
    con.executescript(FROZEN_V1.read_text(encoding="utf-8"))
    con.close()
    return path


def test_frozen_file_is_version_1(v1_file: Path) -> None:
    con = sqlite3.connect(v1_file)
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("1",)
    columns = [r[1] for r in con.execute("PRAGMA table_info(films)")]
    con.close()
    assert "pixel_rows" not in columns


def test_v1_study_is_backed_up_then_migrated(v1_file: Path) -> None:
    original = v1_file.read_bytes()
    study = Study.open(v1_file, actor="dr_b")
    try:
        assert study.backup_made is not None and study.backup_made.exists()
        assert study.backup_made.name.startswith("legacy.v1.")
        backup = sqlite3.connect(study.backup_made)
        assert backup.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == (
            "1",
        )
        backup.close()
        with study.engine.connect() as conn:
            version = conn.execute(
                text("SELECT value FROM meta WHERE key='schema_version'")
            ).scalar()
            columns = {c["name"] for c in inspect(conn).get_columns("films")}
            indexes = {i["name"] for i in inspect(conn).get_indexes("films")}
            m_columns = {c["name"] for c in inspect(conn).get_columns("measurements")}
            tables = set(inspect(conn).get_table_names())
        assert version == str(SCHEMA_VERSION)
        assert {"pixel_rows", "pixel_columns"} <= columns and "ix_films_pixel_sha256" in indexes
        assert {"facing", "facing_source", "pixel_aspect_row", "pixel_aspect_col"} <= columns
        assert {"upper_snapped", "lower_snapped", "pixel_aspect_row"} <= m_columns
        assert "calibrations" in tables
        (film,) = study.films()
        assert film.facing is None and film.facing_source is None
        (patient,) = study.patients()
        assert patient.name == "Legacy^Patient" and patient.dose_mg_kg_day == 0.5
        (m,) = study.measurements()
        assert round(m.angle, 2) == 27.9 and m.rater == "rater_a"
        visit = study.visits(patient.id)[0]
        assert study.labs(visit.id)["nlr"] == pytest.approx(5.1 / 1.7)
        verification = study.verify_audit()
        assert verification.ok, verification
        with study.engine.connect() as conn:
            for table in ("patients", "visits", "films", "measurements", "labs"):
                versions = conn.execute(text(f"SELECT DISTINCT version FROM {table}")).all()
                assert [tuple(v) for v in versions] in ([(1,)], []), table
        integrity = study.verify_integrity()  # v4: the migration audited every row's state
        assert integrity.ok, integrity.problems
        with study.engine.connect() as conn:
            last = conn.execute(
                text("SELECT field, old_value, new_value FROM audit ORDER BY seq DESC LIMIT 1")
            ).one()
        assert tuple(last) == ("schema_version", "1", str(SCHEMA_VERSION))
    finally:
        study.close()
    assert original != v1_file.read_bytes()


def test_reopening_a_current_study_makes_no_backup(v1_file: Path) -> None:
    Study.open(v1_file).close()
    again = Study.open(v1_file)
    assert again.backup_made is None
    again.close()


def test_newer_study_is_refused(v1_file: Path) -> None:
    con = sqlite3.connect(v1_file)
    con.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer CobbDesk"):
        Study.open(v1_file)


def test_v4_migration_snapshot_lets_verify_replay_legacy_rows(v1_file: Path) -> None:
    Study.open(v1_file).close()
    con = sqlite3.connect(v1_file)
    snapshots = con.execute("SELECT entity FROM audit WHERE field = 'snapshot'").fetchall()
    con.execute("UPDATE labs SET value_num = value_num + 1 WHERE value_num IS NOT NULL")
    con.execute("UPDATE measurements SET lower_posterior_x = lower_posterior_x + 3")
    con.commit()
    con.close()
    assert {e for (e,) in snapshots} >= {"patient", "visit", "film", "measurement", "labs"}
    with Study.open(v1_file) as study:
        problems = {(p.entity, p.field) for p in study.verify_integrity().problems}
    assert ("measurement", "lower_posterior_x") in problems
    assert any(entity == "labs" for entity, _ in problems)


def test_v4_study_gains_the_reading_plan_tables(tmp_path: Path) -> None:
    """Schema 5 (#14) adds the reading-plan tables only: a v4 file keeps its rows untouched."""
    path = tmp_path / "v4.cobbdesk"
    study = Study.create(path, actor="dr_a")
    pid = study.add_patient("P001")
    study.add_visit(pid, "admission")
    study.close()
    con = sqlite3.connect(path)
    for table in ("reading_skips", "readings", "plan_rounds", "plan_items", "reading_plans"):
        con.execute(f"DROP TABLE {table}")
    con.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    study = Study.open(path, actor="dr_b")
    try:
        assert study.backup_made is not None and study.backup_made.name.startswith("v4.v4.")
        with study.engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            version = conn.execute(text("SELECT value FROM meta WHERE key='schema_version'"))
            assert version.scalar() == str(SCHEMA_VERSION) == "5"
        assert {"reading_plans", "plan_items", "plan_rounds", "readings", "reading_skips"} <= tables
        assert [p.study_id for p in study.patients()] == ["P001"]
        assert study.verify_integrity().ok
    finally:
        study.close()
