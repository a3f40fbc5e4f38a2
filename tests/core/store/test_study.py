"""The study file: settings at open, permissions, damage refusal, audit, reasons, labs."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from cobbdesk.core.errors import StoreError, ValidationError
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Region, Study, VisitKind
from cobbdesk.core.store.dialect import pragma


def _measurement(sop: str = "1.2.3", rater: str = "dr_a") -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid=sop,
        pixel_sha256="ab" * 32,
        template=Template.C2_C7,
        upper=EndplateLine((100.0, 200.0), (160.0, 210.0)),
        lower=EndplateLine((100.0, 400.0), (160.0, 380.0)),
        spacing=(0.1, 0.2),
        spacing_source="PixelSpacing",
        rater=rater,
    )


@pytest.fixture
def study(study_location: Callable[[str], object]) -> Study:
    s = Study.create(study_location("trial.cobbdesk"), actor="dr_a")
    yield s
    s.close()


@pytest.fixture
def film_id(study: Study) -> int:
    patient = study.add_patient("P0001", name="Doe^Jane", mrn="MRN-77", birth_date="19700101")
    visit = study.add_visit(patient, "admission", visit_date="2026-01-05")
    return study.add_film(
        visit, sop_instance_uid="1.2.3", path="/f/a.dcm", region="cervical", pixel_sha256="ab" * 32
    )


@pytest.mark.sqlite_only
def test_connection_settings(study: Study) -> None:
    assert pragma(study.engine, "journal_mode") == "wal"
    assert pragma(study.engine, "synchronous") == 2  # FULL
    assert pragma(study.engine, "foreign_keys") == 1


@pytest.mark.sqlite_only
@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_study_and_sidecar_files_are_private(study: Study, film_id: int) -> None:
    study.set_labs(study.visits(study.patients()[0].id)[0].id, {"vas": 4})
    names = [study.path, Path(f"{study.path}-wal"), Path(f"{study.path}-shm")]
    for path in names:
        assert path.exists(), path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_create_refuses_existing_file(tmp_path: Path) -> None:
    (tmp_path / "x.cobbdesk").write_text("")
    with pytest.raises(StoreError, match="already exists"):
        Study.create(tmp_path / "x.cobbdesk")


@pytest.mark.sqlite_only
def test_damaged_file_is_refused_and_backup_named(
    study: Study, film_id: int, tmp_path: Path
) -> None:
    study.close()
    backup = tmp_path / "trial.v1.20260101T000000000000Z.bak.cobbdesk"
    sqlite3.connect(study.path).execute(f"VACUUM INTO '{backup}'").connection.close()
    data = bytearray(study.path.read_bytes())
    for page in range(1, len(data) // 4096):  # scribble over every b-tree page header
        for offset in range(page * 4096, page * 4096 + 12):
            data[offset] ^= 0x5A
    damaged = tmp_path / "damaged.cobbdesk"
    damaged.write_bytes(bytes(data))
    for sidecar in ("-wal", "-shm"):
        Path(f"{study.path}{sidecar}").unlink(missing_ok=True)
    (tmp_path / "damaged.v1.20260101T000000000000Z.bak.cobbdesk").write_bytes(backup.read_bytes())
    before = damaged.read_bytes()
    with pytest.raises(StoreError, match=r"damaged.*newest backup is damaged\.v1\."):
        Study.open(damaged)
    assert damaged.read_bytes() == before, "a refused file is never written"


def test_not_a_study(tmp_path: Path) -> None:
    path = tmp_path / "other.cobbdesk"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(StoreError, match="not a CobbDesk study"):
        Study.open(path)


def test_measurement_round_trip_unchanged(study: Study, film_id: int) -> None:
    m = _measurement()
    study.save_measurement(film_id, m)
    (loaded,) = study.measurements(film_id)
    assert loaded.to_dict() == m.to_dict()


def test_changing_or_deleting_a_saved_angle_needs_a_reason(study: Study, film_id: int) -> None:
    m = _measurement()
    study.save_measurement(film_id, m)
    moved = m.with_point("upper.anterior", (102.0, 199.0))
    with pytest.raises(ValidationError, match="needs a reason"):
        study.save_measurement(film_id, moved)
    assert study.measurements(film_id)[0].upper == m.upper
    study.save_measurement(film_id, moved, reason="corner was misplaced")
    assert study.measurements(film_id)[0].upper == moved.upper
    with pytest.raises(ValidationError, match="needs a reason"):
        study.delete_measurement(m.id, reason=" ")
    study.delete_measurement(m.id, reason="duplicate")
    assert study.measurements(film_id) == []
    with study.engine.connect() as conn:  # soft: the row is still there
        assert conn.execute(text("SELECT deleted_utc FROM measurements")).scalar()
        reasons = [r[0] for r in conn.execute(text("SELECT reason FROM audit ORDER BY seq"))]
    assert "corner was misplaced" in reasons and "duplicate" in reasons


def test_audit_rows_record_who_what_when_why(study: Study, film_id: int) -> None:
    study.set_rater("rater_b")
    visit = study.visits(study.patients()[0].id)[0].id
    study.set_labs(visit, {"vas": 5})
    study.set_labs(visit, {"vas": 6}, reason="typo")
    with study.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM audit ORDER BY seq DESC LIMIT 1")).mappings().one()
    assert (row["entity"], row["field"], row["old_value"], row["new_value"]) == (
        "labs",
        "vas",
        "5.0",
        "6.0",
    )
    assert row["reason"] == "typo" and row["rater"] == "rater_b" and row["actor"]
    assert row["utc"].endswith("Z") and row["app_version"]


@pytest.mark.sqlite_only
def test_audit_is_append_only_and_tampering_is_detected(study: Study, film_id: int) -> None:
    study.save_measurement(film_id, _measurement())
    assert study.verify_audit().ok
    with study.engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("UPDATE audit SET reason = 'x' WHERE seq = 2"))
    with study.engine.begin() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("DELETE FROM audit WHERE seq = 2"))
    study.close()
    raw = sqlite3.connect(study.path)  # an attacker with the file drops the trigger
    raw.execute("DROP TRIGGER audit_no_update")
    raw.execute("UPDATE audit SET new_value = '99.0' WHERE seq = 3")
    raw.commit()
    raw.close()
    reopened = Study.open(study.path)
    result = reopened.verify_audit()
    reopened.close()
    assert not result.ok and result.first_bad_seq == 3


@pytest.mark.sqlite_only
def test_deleting_an_audit_row_is_detected(study: Study, film_id: int) -> None:
    study.close()
    raw = sqlite3.connect(study.path)
    raw.execute("DROP TRIGGER audit_no_delete")
    raw.execute("DELETE FROM audit WHERE seq = 2")
    raw.commit()
    raw.close()
    reopened = Study.open(study.path)
    assert reopened.verify_audit().problem == "row 2 is missing"
    reopened.close()


def test_labs_validated_before_anything_is_written(study: Study, film_id: int) -> None:
    visit = study.visits(study.patients()[0].id)[0].id
    with pytest.raises(ValidationError, match="vas = 12 is impossible"):
        study.set_labs(visit, {"neutrophil": 5.0, "vas": 12})
    assert study.labs(visit) == {"nlr": None}
    warnings = study.set_labs(
        visit, {"neutrophil": "6,4", "lymphocyte": 3.2, "cpk": 9000, "rf": "neg"}
    )
    assert warnings and "cpk" in warnings[0]
    labs = study.labs(visit)
    assert labs["nlr"] == pytest.approx(2.0) and labs["rf"] == "negative"
    with pytest.raises(ValidationError, match=r"neutrophil.*needs a reason"):
        study.set_labs(visit, {"neutrophil": 7})
    study.set_labs(visit, {"neutrophil": None}, reason="lab report withdrawn")
    assert study.labs(visit).get("neutrophil") is None and study.labs(visit)["nlr"] is None


@pytest.mark.parametrize("value", [-1, "abc", float("inf")])
def test_impossible_lab_values(study: Study, film_id: int, value: object) -> None:
    visit = study.visits(study.patients()[0].id)[0].id
    with pytest.raises(ValidationError):
        study.set_labs(visit, {"lymphocyte": value})


def test_patients_visits_films(study: Study, film_id: int) -> None:
    patient = study.patients()[0]
    assert (patient.study_id, patient.name, patient.birth_date) == (
        "P0001",
        "Doe^Jane",
        "1970-01-01",
    )
    auto = study.add_patient(sex="m")
    assert study.patients()[1].study_id == "P0002" and study.patients()[1].sex == "M"
    with pytest.raises(ValidationError, match="already used"):
        study.add_patient("P0001")
    with pytest.raises(ValidationError, match="F, M or O"):
        study.add_patient("P9", sex="x")
    month3 = study.add_visit(auto, VisitKind.MONTH3, visit_date="2026-04-06")
    assert study.visit(auto, "month3").id == month3
    study.update_film(film_id, reason="moved", path="/new/a.dcm", region=Region.LUMBAR)
    assert study.films()[0].path == "/new/a.dcm" and study.films()[0].region is Region.LUMBAR
    assert study.film_by_sop("1.2.3").id == film_id
    assert [f.id for f in study.films_by_hash("ab" * 32)] == [film_id]


def test_overview_shows_what_is_missing(study: Study, film_id: int) -> None:
    (overview,) = study.overview()
    (visit,) = overview.visits
    assert visit.missing() == ["lumbar film", "cervical measurement", "labs"]
    study.save_measurement(film_id, _measurement())
    study.set_labs(visit.visit.id, {"vas": 3})
    assert study.overview()[0].visits[0].missing() == ["lumbar film"]
    assert not study.overview()[0].complete


def test_a_long_read_does_not_block_a_write(study: Study, film_id: int) -> None:
    """Reads start deferred (a WAL snapshot), so a concurrent save goes straight through."""
    with study.engine.connect() as reader:
        before = reader.execute(text("SELECT count(*) FROM measurements")).scalar()
        other = Study.open(study.location, actor="dr_b")  # another process or window
        try:
            other.save_measurement(film_id, _measurement(rater="dr_b"))  # no 'database is locked'
        finally:
            other.close()
        assert reader.execute(text("SELECT count(*) FROM measurements")).scalar() == before
    assert len(study.measurements(film_id)) == 1


@pytest.mark.sqlite_only
def test_write_transactions_take_the_lock_up_front(study: Study) -> None:
    with study.transaction() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
        other = sqlite3.connect(study.path, timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()


def test_a_deleted_measurement_can_be_restored_with_a_reason(study: Study, film_id: int) -> None:
    m = _measurement()
    study.save_measurement(film_id, m)
    study.delete_measurement(m.id, reason="clicked delete by mistake")
    with pytest.raises(ValidationError, match="needs a reason"):
        study.restore_measurement(film_id, m, reason="")
    study.restore_measurement(film_id, m, reason="deletion undone")
    assert [x.id for x in study.measurements(film_id)] == [m.id]
    with study.engine.connect() as conn:
        last = conn.execute(text("SELECT field, new_value, reason FROM audit "
                                 "ORDER BY seq DESC LIMIT 1")).one()  # fmt: skip
    assert tuple(last) == ("deleted_utc", None, "deletion undone")
    assert study.verify_audit().ok
