"""CSV imports: lab values per visit, and measurement points whose angles CobbDesk computes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

import cobbdesk
from cobbdesk.core.errors import ValidationError
from cobbdesk.core.importing.csv_import import import_labs, import_points, read_table
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.store import Study
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

LABS_HEADER = "patient_id,visit,vas,neutrophil,lymphocyte,crp,ana"


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    s = Study.create(tmp_path / "study.cobbdesk", actor="tester")
    p1 = s.add_patient(dicom_patient_id="MRN-1")
    s.add_visit(p1, "admission", visit_date="20260105")
    s.add_visit(p1, "month3", visit_date="20260406")
    p2 = s.add_patient(dicom_patient_id="MRN-2")
    s.add_visit(p2, "admission", visit_date="20260110")
    yield s
    s.close()


def write(tmp_path: Path, text: str, name: str = "in.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def labs_of(study: Study, dicom_id: str, kind: str) -> dict[str, float | str | None]:
    pid = study.patient_by_dicom_id(dicom_id)
    assert pid is not None
    visit = study.visit(pid, kind)
    assert visit is not None
    return study.labs(visit.id)


# --- reading ----------------------------------------------------------------------------------
def test_bom_semicolons_and_decimal_commas(study: Study, tmp_path: Path) -> None:
    text = (
        "\ufeffPatient ID;Visit;VAS;Neutrophil;Lymphocyte;CRP\nMRN-1;admission;3,5;4,2;2,1;12,5\n"
    )
    report = import_labs(study, write(tmp_path, text))
    assert report.ok and report.imported == 1 and report.values == 4
    saved = labs_of(study, "MRN-1", "admission")
    assert saved["vas"] == 3.5 and saved["crp"] == 12.5
    assert saved["nlr"] == pytest.approx(2.0)


def test_windows_1252_file_is_read_with_a_note(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, "patient_id,visit\nMÜLLER,admission\n", encoding="cp1252"))
    assert table.rows == [(2, {"patient_id": "MÜLLER", "visit": "admission"})]
    assert "Windows-1252" in table.notes[0]


def test_unknown_column_rejects_the_file_listing_known_ones(study: Study, tmp_path: Path) -> None:
    path = write(tmp_path, "patient_id,visit,vas,hba1c\nMRN-1,admission,3,6\n")
    with pytest.raises(ValidationError) as info:
        import_labs(study, path)
    assert "'hba1c'" in info.value.message and "neutrophil" in info.value.message
    assert info.value.path == path
    assert labs_of(study, "MRN-1", "admission") == {"nlr": None}


# --- labs -------------------------------------------------------------------------------------
def test_rows_are_rejected_one_by_one_with_spreadsheet_row_numbers(
    study: Study, tmp_path: Path
) -> None:
    text = "\n".join(
        [
            LABS_HEADER,
            "MRN-1,admission,4,5.0,2.5,10,positive",  # row 2: fine
            "MRN-1,month3,12,5.0,2.5,10,",  # row 3: VAS 12
            "MRN-2,admission,3,-1,2,5,",  # row 4: negative neutrophils
            "",  # row 5: blank, ignored
            "MRN-2,admission,3,4,two,5,",  # row 6: text in a number column
            "MRN-9,admission,3,4,2,5,",  # row 7: unknown patient
            "MRN-2,week2,3,4,2,5,",  # row 8: unknown visit kind
        ]
    )
    report = import_labs(study, write(tmp_path, text))
    assert report.rows == 6 and report.imported == 1 and not report.ok
    by_row = {e.row: e.message for e in report.errors}
    assert sorted(by_row) == [3, 4, 6, 7, 8]
    assert "vas = 12 is impossible" in by_row[3]
    assert "neutrophil = -1 is impossible" in by_row[4]
    assert "lymphocyte = 'two' is not a number" in by_row[6]
    assert "unknown patient" in by_row[7] and "MRN-9" not in by_row[7]
    assert "admission or month3" in by_row[8]
    # nothing partial: the rejected rows' valid values (VAS 3, CRP 5...) were not saved
    assert labs_of(study, "MRN-1", "month3") == {"nlr": None}
    assert labs_of(study, "MRN-2", "admission") == {"nlr": None}
    assert labs_of(study, "MRN-1", "admission")["ana"] == "positive"


def test_nlr_column_is_ignored_and_derived(study: Study, tmp_path: Path) -> None:
    text = "patient_id,visit,neutrophil,lymphocyte,nlr\nMRN-1,admission,6,2,99\n"
    report = import_labs(study, write(tmp_path, text))
    assert report.ok and any("nlr" in n for n in report.notes)
    assert labs_of(study, "MRN-1", "admission")["nlr"] == pytest.approx(3.0)


def test_changing_saved_values_needs_a_reason(study: Study, tmp_path: Path) -> None:
    import_labs(study, write(tmp_path, "patient_id,visit,crp\nMRN-1,admission,10\n", "a.csv"))
    changed = write(tmp_path, "patient_id,visit,crp,esr\nMRN-1,admission,20,30\n", "b.csv")
    refused = import_labs(study, changed)
    assert refused.errors[0].row == 2 and "needs a reason" in refused.errors[0].message
    assert labs_of(study, "MRN-1", "admission")["crp"] == 10.0
    assert "esr" not in labs_of(study, "MRN-1", "admission")  # nothing partial
    accepted = import_labs(study, changed, reason="lab re-checked the sample")
    assert accepted.ok and labs_of(study, "MRN-1", "admission")["crp"] == 20.0


def test_empty_cells_never_clear_saved_values(study: Study, tmp_path: Path) -> None:
    import_labs(study, write(tmp_path, "patient_id,visit,crp\nMRN-1,admission,10\n", "a.csv"))
    report = import_labs(
        study, write(tmp_path, "patient_id,visit,crp,esr\nMRN-1,admission,,40\n", "b.csv")
    )
    assert report.ok
    assert labs_of(study, "MRN-1", "admission")["crp"] == 10.0


def test_study_id_column_missing_visit_is_created_and_warnings_listed(
    study: Study, tmp_path: Path
) -> None:
    text = "study_id,visit,cpk\nP0002,month3,9000\nP0002,admission,\n"
    report = import_labs(study, write(tmp_path, text))
    assert report.ok and report.visits_created == ["P0002 month3 (undated)"]
    assert report.warnings[0].row == 2 and "unusual" in report.warnings[0].message
    assert report.warnings[1].row == 3 and "nothing to import" in report.warnings[1].message
    assert labs_of(study, "MRN-2", "month3")["cpk"] == 9000.0


def test_patient_id_and_study_id_must_agree(study: Study, tmp_path: Path) -> None:
    text = "patient_id,study_id,visit,vas\nMRN-1,P0002,admission,3\n"
    report = import_labs(study, write(tmp_path, text))
    assert "different patients" in report.errors[0].message


# --- points -----------------------------------------------------------------------------------
POINTS_HEADER = (
    "sop_instance_uid,template,rater,upper_anterior_x,upper_anterior_y,upper_posterior_x,"
    "upper_posterior_y,lower_anterior_x,lower_anterior_y,lower_posterior_x,lower_posterior_y"
)
UPPER = ((100.0, 100.0), (140.0, 110.0))
LOWER = ((100.0, 300.0), (140.0, 290.0))


@pytest.fixture
def anisotropic(study: Study, tmp_path: Path) -> Path:
    """A film with spacing (0.5, 0.8) mm imported into the study; returns its path."""
    spine = make_lateral_spine("cervical", 20.0, rows=400, columns=320, spacing_mm=(0.5, 0.8))
    (tmp_path / "films").mkdir()
    path = write_dicom(spine, tmp_path / "films" / "aniso.dcm", sop_instance_uid="1.2.3.4.5",
                       patient_id="MRN-1", study_date="20260105")  # fmt: skip
    assert import_paths(study, [path]).ok
    return path


def points_row(sop: str = "1.2.3.4.5", template: str = "C2-C7", rater: str = "ab") -> str:
    coords = [c for p in (*UPPER, *LOWER) for c in p]
    return ",".join([sop, template, rater, *(f"{c:g}" for c in coords)])


def test_angle_is_computed_with_the_film_spacing(
    study: Study, tmp_path: Path, anisotropic: Path
) -> None:
    text = f"{POINTS_HEADER},angle\n{points_row()},99.9\n"
    report = import_points(study, write(tmp_path, text))
    assert report.ok and report.imported == 1
    assert any("angle" in note for note in report.notes)
    (saved,) = study.measurements()
    expected = cobbdesk.cobb_angle(UPPER, LOWER, (0.5, 0.8))
    assert saved.angle == pytest.approx(expected)
    assert report.measurements[0]["angle"] == pytest.approx(expected)
    assert not math.isclose(expected, cobbdesk.cobb_angle(UPPER, LOWER), abs_tol=0.5)
    assert saved.spacing == (0.5, 0.8) and saved.spacing_source.value == "PixelSpacing"
    assert (saved.rater, saved.template.value) == ("ab", "C2-C7")


def test_unknown_film_bad_template_and_points_outside_are_rejected(
    study: Study, tmp_path: Path, anisotropic: Path
) -> None:
    outside = points_row().replace(",140,290", ",400,290")  # lower posterior x beyond 320 columns
    text = "\n".join(
        [POINTS_HEADER, points_row(sop="9.9.9"), points_row(template="T1-T12"), outside]
    )
    report = import_points(study, write(tmp_path, text))
    messages = {e.row: e.message for e in report.errors}
    assert "no film with SOP Instance UID '9.9.9'" in messages[2]
    assert "template 'T1-T12'" in messages[3]
    assert "lower_posterior_x = 400 is outside the image (320 columns)" in messages[4]
    assert study.measurements() == []


def test_missing_film_file_rejects_the_row(study: Study, tmp_path: Path, anisotropic: Path) -> None:
    anisotropic.unlink()
    report = import_points(study, write(tmp_path, f"{POINTS_HEADER}\n{points_row()}\n"))
    assert "is missing" in report.errors[0].message and report.imported == 0


def test_reimporting_the_same_points_changes_nothing(
    study: Study, tmp_path: Path, anisotropic: Path
) -> None:
    path = write(tmp_path, f"{POINTS_HEADER}\n{points_row()}\n{points_row(rater='cd')}\n")
    assert import_points(study, path).imported == 2
    again = import_points(study, path)
    assert again.ok and again.imported == 0 and again.unchanged == 2
    assert len(study.measurements()) == 2


def test_replacing_a_saved_measurement_by_id_needs_a_reason(
    study: Study, tmp_path: Path, anisotropic: Path
) -> None:
    first = write(tmp_path, f"id,{POINTS_HEADER}\nm-1,{points_row()}\n", "a.csv")
    assert import_points(study, first).imported == 1
    moved = points_row().replace("100,300", "100,310")
    second = write(tmp_path, f"id,{POINTS_HEADER}\nm-1,{moved}\n", "b.csv")
    refused = import_points(study, second)
    assert "needs a reason" in refused.errors[0].message
    assert import_points(study, second, reason="re-measured").imported == 1
    (saved,) = study.measurements()
    assert saved.lower.anterior == (100.0, 310.0)


def test_points_file_needs_its_columns(study: Study, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="missing column"):
        import_points(study, write(tmp_path, "sop_instance_uid,template\n1.2,C2-C7\n"))


def test_long_export_reads_back_as_labs(tmp_path: Path) -> None:
    """What the long export writes, the labs import reads back (issue: round trip)."""
    from cobbdesk.core.export.writers import export_study

    def study_with_visits(path: Path) -> tuple[Study, list[int]]:
        study = Study.create(path, actor="t")
        visit_ids = []
        for sid in ("P0001", "P0002"):
            patient = study.add_patient(sid, sex="F")
            visit_ids += [study.add_visit(patient, "admission", visit_date="2026-01-05"),
                          study.add_visit(patient, "month3", visit_date="2026-04-06")]  # fmt: skip
        return study, visit_ids

    source, visits = study_with_visits(tmp_path / "a.cobbdesk")
    entered = [{"vas": 7, "neutrophil": 6.4, "lymphocyte": 3.2, "crp": 12.5, "ana": "positive"},
               {"vas": 3, "neutrophil": 4.0, "rf": "negative"}, {"esr": 30}, {}]  # fmt: skip
    for visit, labs in zip(visits, entered, strict=True):
        if labs:
            source.set_labs(visit, labs)
    export_study(source, "long", tmp_path / "long.csv")
    target, target_visits = study_with_visits(tmp_path / "b.cobbdesk")
    report = import_labs(target, tmp_path / "long.csv")
    assert not report.errors and report.imported == 3
    for a, b in zip(visits, target_visits, strict=True):
        assert target.labs(b) == source.labs(a)
    again = import_labs(target, tmp_path / "long.csv")
    assert (again.imported, again.values) == (0, 0)  # the same values: nothing written
    source.close()
    target.close()
