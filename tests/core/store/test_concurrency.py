"""Two raters, one study: a save changes only what its user changed; a field someone else
changed since it was read is a ConflictError (field, seen, theirs, mine), never an overwrite.

The rival writer runs in another process (multiprocessing, spawn) on the same study: a SQLite
file, or a PostgreSQL database (``study_location``, tests/core/store/conftest.py).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.conflicts import ConflictError, FieldConflict
from cobbdesk.core.store.schema import labs, measurements, patients


def _measurement() -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid="1.2.3",
        pixel_sha256="ab" * 32,
        template=Template.C2_C7,
        upper=EndplateLine((100.0, 200.0), (160.0, 210.0)),
        lower=EndplateLine((100.0, 400.0), (160.0, 380.0)),
        spacing=(0.1, 0.1),
        spacing_source="PixelSpacing",
        rater="dr_a",
    )


@pytest.fixture
def path(study_location: Callable[[str], object]) -> Any:
    target = study_location("shared.cobbdesk")
    with Study.create(target, actor="dr_a") as study:
        pid = study.add_patient("P0001", name="Doe^Jane")
        vid = study.add_visit(pid, "admission", visit_date="2026-01-05")
        study.set_labs(vid, {"crp": 5.0, "esr": 20.0})
        fid = study.add_film(vid, sop_instance_uid="1.2.3", path="/f/a.dcm", region="cervical")
        study.save_measurement(fid, _measurement())
    return target


def _rival_labs(path: str) -> None:
    with Study.open(path, actor="dr_b") as study:
        study.set_labs(1, {"crp": 12.0}, reason="lab report corrected")


def _rival_measurement(path: str) -> None:
    with Study.open(path, actor="dr_b") as study:
        (m,) = study.measurements()
        moved = replace(m, upper=EndplateLine((100.0, 205.0), (160.0, 210.0)))
        study.save_measurement(1, moved, reason="endplate re-read")


def _in_other_process(target: object, path: Path) -> None:
    process = multiprocessing.get_context("spawn").Process(target=target, args=(str(path),))
    process.start()
    process.join(60)
    assert process.exitcode == 0


def test_lab_save_conflicts_with_another_process(path: Path) -> None:
    with Study.open(path, actor="dr_a") as study:
        opened = study.labs(1)  # rater A's form opens: crp 5, esr 20
        _in_other_process(_rival_labs, path)  # rater B saves crp 12
        with pytest.raises(ConflictError) as caught:
            study.set_labs(1, {"crp": 7.0}, "typo", expected={"crp": opened["crp"]})
        assert caught.value.conflicts == [FieldConflict("crp", 5.0, 12.0, 7.0)]
        assert (caught.value.field, caught.value.theirs) == ("crp", 12.0)
        assert "crp" in caught.value.message and "12" not in caught.value.message
        assert study.labs(1)["crp"] == 12.0  # nothing was overwritten
        # a field B did not touch saves alone, and B's CRP stays
        study.set_labs(1, {"esr": 25.0}, "typo", expected={"esr": opened["esr"]})
        assert (study.labs(1)["crp"], study.labs(1)["esr"]) == (12.0, 25.0)
        # "mine": A resends with what it now knows B wrote
        study.set_labs(1, {"crp": 7.0}, "A's value checked", expected={"crp": 12.0})
        assert study.labs(1)["crp"] == 7.0
        assert study.verify_integrity().ok


def test_same_change_by_both_is_no_conflict(path: Path) -> None:
    _in_other_process(_rival_labs, path)
    with Study.open(path) as study:
        study.set_labs(1, {"crp": 12.0}, "same", expected={"crp": 5.0})
        assert study.labs(1)["crp"] == 12.0


def test_every_lab_update_bumps_the_row_version(path: Path) -> None:
    with Study.open(path) as study:
        study.set_labs(1, {"crp": 6.0}, "r1")
        study.set_labs(1, {"crp": 7.0}, "r2")
        with study.engine.connect() as conn:
            version = conn.execute(select(labs.c.version).where(labs.c.name == "crp")).scalar()
    assert version == 3


def test_measurement_save_conflicts_with_another_process(path: Path) -> None:
    with Study.open(path, actor="dr_a") as study:
        (m,) = study.measurements()  # the store remembers what this rater saw
        _in_other_process(_rival_measurement, path)
        mine = replace(m, lower=EndplateLine((100.0, 410.0), (160.0, 380.0)))
        with pytest.raises(ConflictError) as caught:
            study.save_measurement(1, mine, reason="mine")
        fields = {c.field: c for c in caught.value.conflicts}
        assert set(fields) == {"upper_anterior_y", "angle_deg"}
        assert fields["upper_anterior_y"] == FieldConflict("upper_anterior_y", 200.0, 205.0, 200.0)
        with pytest.raises(ConflictError):
            study.delete_measurement(m.id, "wrong film")
        (stored,) = study.measurements()  # reading again makes B's version the baseline
        assert stored.upper.anterior == (100.0, 205.0)
        study.save_measurement(1, replace(stored, lower=mine.lower), reason="mine, on B's")
        with study.engine.connect() as conn:
            version = conn.execute(select(measurements.c.version)).scalar()
        assert version == 3 and study.verify_integrity().ok


def test_explicit_expected_measurement(path: Path) -> None:
    with Study.open(path) as study:
        (m,) = study.measurements()
    _in_other_process(_rival_measurement, path)
    with Study.open(path) as fresh:  # a new study object: the caller says what it saw
        mine = replace(m, lower=EndplateLine((100.0, 410.0), (160.0, 380.0)))
        with pytest.raises(ConflictError):
            fresh.save_measurement(1, mine, reason="x", expected=m)


def test_patient_update_with_expected(path: Path) -> None:
    with Study.open(path) as study:
        study.update_patient(1, "spelling", name="Doe^Janet")
        with pytest.raises(ConflictError) as caught:
            study.update_patient(1, "x", name="Roe^Jane", expected={"name": "Doe^Jane"})
        assert "Doe" not in caught.value.message and "Janet" not in caught.value.message
        with study.engine.connect() as conn:
            row = conn.execute(select(patients.c.name, patients.c.version)).one()
        assert tuple(row) == ("Doe^Janet", 2)
