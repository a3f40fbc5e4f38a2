"""One definition of the measurements the study checks look at (checks.live_measurement_query):
a live measurement of a live film.  ``verify``'s pixel-shape checks (geometry_checks) and the
angle/region checks (StudyChecks) see the same rows: a deleted measurement and any measurement
of a deleted film are left out of both."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import select

from cobbdesk.core.dicom.film import SpacingSource
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine, Template
from cobbdesk.core.store import Study
from cobbdesk.core.store.checks import live_measurement_query
from cobbdesk.core.store.geometry_checks import measured_rows
from cobbdesk.core.store.schema import measurements


def _lumbar_on(uid: str, rater: str) -> CobbMeasurement:
    return CobbMeasurement(
        sop_instance_uid=uid, pixel_sha256="", template=Template.L1_S1,
        upper=EndplateLine((100.0, 100.0), (160.0, 110.0)),
        lower=EndplateLine((100.0, 200.0), (160.0, 180.0)),
        spacing=(0.2, 0.2), spacing_source=SpacingSource.PIXEL_SPACING, rater=rater,
    )  # fmt: skip


def test_both_checks_see_only_live_measurements_of_live_films(tmp_path: Path) -> None:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="t") as study:
        visit = study.add_visit(study.add_patient("P0003"), "admission")
        kept_film = study.add_film(visit, sop_instance_uid="1.2.3.1", path=tmp_path / "a.dcm",
                                   region="cervical")  # fmt: skip
        gone_film = study.add_film(visit, sop_instance_uid="1.2.3.2", path=tmp_path / "b.dcm",
                                   region="cervical")  # fmt: skip
        live = _lumbar_on("1.2.3.1", "dr_a")  # on a cervical film: a region mismatch
        deleted = _lumbar_on("1.2.3.1", "dr_b")
        on_gone = _lumbar_on("1.2.3.2", "dr_c")
        for film, m in ((kept_film, live), (kept_film, deleted), (gone_film, on_gone)):
            study.save_measurement(film, m)
        study.delete_measurement(deleted.id, reason="slip")
    with sqlite3.connect(path) as conn:  # a soft-deleted film (no API removes films)
        conn.execute("UPDATE films SET deleted_utc = '2026-01-02T00:00:00Z' WHERE id = ?",
                     (gone_film,))  # fmt: skip
    with Study.open(path) as study:
        with study.engine.connect() as conn:
            every = [r[0] for r in conn.execute(select(measurements.c.id))]
            chosen = [r[0] for r in conn.execute(live_measurement_query(measurements.c.id))]
        assert sorted(every) == sorted([live.id, deleted.id, on_gone.id])
        assert chosen == [live.id]
        assert [r["id"] for r in measured_rows(study)] == [live.id]
        assert [r["study_id"] for r in measured_rows(study)] == ["P0003"]
        assert [r.measurement_id for r in study.region_mismatches()] == [live.id]
