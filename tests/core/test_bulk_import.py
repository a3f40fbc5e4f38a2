"""The batched film writes (``add_films_bulk``): same rows and audit as one item at a time."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cobbdesk.core.store import Study, VisitKind
from cobbdesk.core.store import audit as audit_log
from cobbdesk.core.store.bulk import FilmItem, add_films_bulk, patients_with_visits
from cobbdesk.core.store.integrity import inserted
from cobbdesk.core.store.schema import audit, films, patients, visits


def item(patient: str, sop: str, kind: str = "admission", day: str | None = "2026-01-05",
         label: str = "") -> FilmItem:  # fmt: skip
    film = {"sop_instance_uid": sop, "path": f"/films/{sop}.dcm", "region": "cervical",
            "view": "LL", "study_date": day, "pixel_rows": 400, "pixel_columns": 320}  # fmt: skip
    if sop.endswith("7"):
        film.update(facing="left", facing_source="dicom", pixel_aspect_row=1.0,
                    pixel_aspect_col=2.0)  # fmt: skip
    ident = {"name": f"Name^{patient}", "sex": "F", "birth_date": "1970-01-01"}
    return FilmItem(patient, VisitKind(kind), label, day, film, ident)


@pytest.fixture
def study(tmp_path: Path) -> Study:
    """A study with patient P0001 (DICOM ID OLD, an undated admission) and a hand-named P0003."""
    s = Study.create(tmp_path / "bulk.cobbdesk", actor="test")
    old = s.add_patient("P0001", dicom_patient_id="OLD")
    s.add_visit(old, "admission")
    s.add_patient("P0003", dicom_patient_id="HAND")
    return s


def audit_rows(s: Study, entity: str, entity_id: int) -> dict[str, tuple[str | None, str | None]]:
    with s.engine.connect() as conn:
        rows = conn.execute(
            select(audit.c.field, audit.c.old_value, audit.c.new_value).where(
                audit.c.entity == entity, audit.c.entity_id == str(entity_id)
            )
        ).all()
    return {f: (o, n) for f, o, n in rows}


def test_bulk_writes_rows_ids_and_a_replayable_audit(study: Study) -> None:
    items = [item("NEW-A", "1.1"), item("OLD", "1.2"), item("NEW-A", "1.3", "month3", "2026-04-06"),
             item("NEW-B", "1.7", "other", None, "undated"), item("OLD", "1.5")]  # fmt: skip
    before = study.verify_audit().rows
    result = add_films_bulk(study, items)
    # one film per item, in order, each under its patient and visit
    stored = {f.sop_instance_uid: f for f in study.films()}
    assert result.film_ids == [stored[i.film["sop_instance_uid"]].id for i in items]
    # n patients: P{n+1}, or the next number not taken (P0003 is taken by hand)
    assert [result.study_ids[p] for p in result.new_patients] == ["P0004", "P0005"]
    assert [result.study_ids[p] for p in result.patient_ids] == [
        "P0004", "P0001", "P0004", "P0005", "P0001"]  # fmt: skip
    # the undated admission of OLD got the date, once; three visits were made
    assert [(v.kind, v.visit_date) for v in result.dated_visits] == [
        (VisitKind.ADMISSION, "2026-01-05")]  # fmt: skip
    assert len(result.new_visits) == 3
    old = study.patient_by_study_id("P0001")
    assert old is not None
    assert [v.visit_date for v in study.visits(old)] == ["2026-01-05"]
    # each film's audit rows are exactly the fields of its row (integrity replay agrees)
    film = stored["1.7"]
    expected = inserted("film", {k: getattr(film, k, None) for k in (
        "visit_id", "sop_instance_uid", "path", "view", "study_date", "pixel_rows",
        "pixel_columns", "facing", "facing_source")} | {"region": "cervical",
        "pixel_aspect_row": 1.0, "pixel_aspect_col": 2.0})  # fmt: skip
    assert audit_rows(study, "film", film.id) == {
        k: (None, audit_log._text(v)) for k, (_, v) in expected.items()}  # fmt: skip
    check = study.verify_integrity()
    assert check.ok, check.problems
    assert study.verify_audit().rows > before
    with study.engine.connect() as conn:
        reasons = {r for (r,) in conn.execute(select(audit.c.reason).where(
            audit.c.entity.in_(("film", "visit")), audit.c.seq > before))}  # fmt: skip
    assert reasons == {"DICOM import"}


def test_a_failing_bulk_write_leaves_nothing(study: Study) -> None:
    counts = {}
    with study.engine.connect() as conn:
        for table in (patients, visits, films, audit):
            counts[table.name] = len(conn.execute(select(table)).all())
    with pytest.raises(IntegrityError):  # the same SOP Instance UID twice: unique constraint
        add_films_bulk(study, [item("NEW-A", "2.1"), item("NEW-B", "2.1")])
    with study.engine.connect() as conn:
        for table in (patients, visits, films, audit):
            assert len(conn.execute(select(table)).all()) == counts[table.name]
    assert study.verify_integrity().ok


def test_patients_with_visits_reads_like_the_study(study: Study) -> None:
    add_films_bulk(study, [item("NEW-A", "3.1"), item("NEW-A", "3.2", "month3", "2026-04-06")])
    found = patients_with_visits(study, ["OLD", "NEW-A", "NOBODY"])
    assert set(found) == {"OLD", "NEW-A"}
    for dicom_id, (pid, visit_list) in found.items():
        assert pid == study.patient_by_dicom_id(dicom_id)
        assert visit_list == study.visits(pid)
