"""The browser's first-paint list and the identifiers Study.open remembers, on both back ends."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import update

from cobbdesk.core import redact
from cobbdesk.core.store import Study
from cobbdesk.core.store.overview import PatientRow, patient_identifiers, patient_list
from cobbdesk.core.store.schema import patients


def test_patient_list_and_identifiers(study_location: Callable[[str], object]) -> None:
    location = study_location("lists.cobbdesk")
    with Study.create(location, actor="t") as study:
        study.add_patient("P0002", name="Quixote^Alonso", mrn="H-1", birth_date="1950-02-03")
        study.add_patient("P0001", name="Panza^Sancho", dicom_patient_id="DP-9")
        gone = study.add_patient("P0003", name="Carrasco^Sanson", mrn="H-3")
        with study.transaction() as conn:  # no API deletes a patient: as a soft delete would
            conn.execute(update(patients).where(patients.c.id == gone).values(deleted_utc="x"))
        rows = patient_list(study)
        names, values = patient_identifiers(study)
    assert rows == [PatientRow(rows[0].id, "P0001", "Panza^Sancho", None),
                    PatientRow(rows[1].id, "P0002", "Quixote^Alonso", None)]  # fmt: skip
    assert all(isinstance(r, PatientRow) and isinstance(r.id, int) for r in rows)
    assert sorted(names.split("\n")) == ["Carrasco^Sanson", "Panza^Sancho", "Quixote^Alonso"]
    assert sorted(values.split("\n")) == ["1950-02-03", "DP-9", "H-1", "H-3"]
    redact.forget_all()
    with Study.open(location, actor="t"):  # a deleted patient's identifiers are hidden too
        text = "Sanson (H-3), sancho, DP-9, born 1950-02-03, alonso quixote"
        masked = "[redacted] ([redacted]), [redacted], [redacted], born [redacted], [redacted]"
        assert redact.redact(text) == masked
