"""CSV imports (#12): decimal and thousands separators decided per column, encodings detected
or refused in words, and a large labs file written in chunks with progress."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cobbdesk.core.errors import ValidationError
from cobbdesk.core.importing.csv_import import import_labs, read_table
from cobbdesk.core.importing.csv_text import parse, shown_decimal
from cobbdesk.core.store import Study, VisitKind
from cobbdesk.core.store.bulk_labs import LabWrite, write_labs


@pytest.fixture
def study(tmp_path: Path) -> Iterator[Study]:
    s = Study.create(tmp_path / "study.cobbdesk", actor="tester")
    p1 = s.add_patient("P0001", dicom_patient_id="MÜ-1")
    s.add_visit(p1, "admission", visit_date="20260105")
    s.add_patient("P0002", dicom_patient_id="MRN-2")
    yield s
    s.close()


def write(tmp_path: Path, data: bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def labs(study: Study, kind: str = "admission", sid: str = "P0001") -> dict[str, object]:
    pid = study.patient_by_study_id(sid)
    assert pid is not None
    visit = study.visit(pid, kind)
    assert visit is not None
    return study.labs(visit.id)


@pytest.mark.parametrize(
    ("text", "shown", "read"),
    [("3,5", ",", "3.5"), ("12,500", "?", None), ("1.234,5", ",", "1234.5"),
     ("1,234,567", ".", "1234567"), ("0,500", ",", "0.500"), ("1234,567", ",", "1234.567"),
     ("12,5000", ",", "12.5000"), ("-3.25", ".", "-3.25"), ("17", "", "17")],
)  # fmt: skip
def test_what_a_value_shows(text: str, shown: str, read: str | None) -> None:
    assert shown_decimal(text) == shown
    if read is not None:
        assert parse(text, shown or ".") == read


def test_bad_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="not a thousands separator"):
        parse("1,23,456", ".")


def test_comma_file_reads_12_500_as_twelve_thousand_with_a_note(
    study: Study, tmp_path: Path
) -> None:
    path = write(tmp_path, b'study_id,visit,cpk,crp\nP0001,admission,"12,500",3\n')
    report = import_labs(study, path)
    assert report.ok, report.errors
    assert labs(study)["cpk"] == 12500.0
    assert any("'12,500' (row 2) read as 12500" in n and "comma-separated" in n
               for n in report.notes)  # fmt: skip


def test_the_column_decides_before_the_delimiter(study: Study, tmp_path: Path) -> None:
    # the crp column shows decimal commas (row 3): its '12,500' is twelve and a half
    text = 'study_id,visit,crp\nP0001,admission,"12,500"\nP0002,admission,"3,5"\n'
    report = import_labs(study, write(tmp_path, text.encode()))
    assert report.ok and labs(study)["crp"] == 12.5
    assert labs(study, sid="P0002")["crp"] == 3.5


def test_semicolon_file_uses_decimal_commas(study: Study, tmp_path: Path) -> None:
    text = "study_id;visit;cpk;creatinine\nP0001;admission;1.234,5;1,2\n"
    report = import_labs(study, write(tmp_path, text.encode()))
    assert report.ok and (labs(study)["cpk"], labs(study)["creatinine"]) == (1234.5, 1.2)


def test_a_column_mixing_separators_is_refused(study: Study, tmp_path: Path) -> None:
    text = "study_id;visit;crp\nP0001;admission;3,5\nP0002;admission;4.5\n"
    report = import_labs(study, write(tmp_path, text.encode()))
    assert report.imported == 0
    assert [i.row for i in report.errors] == [2, 3]
    assert "mixes decimal commas (rows 2) and decimal points (rows 3)" in report.errors[0].message


def test_ambiguous_value_in_a_tab_file_is_refused(study: Study, tmp_path: Path) -> None:
    text = "study_id\tvisit\tcpk\nP0001\tadmission\t1.500\nP0002\tadmission\t900\n"
    report = import_labs(study, write(tmp_path, text.encode()))
    (error,) = report.errors
    assert error.row == 2 and "'1.500' is ambiguous" in error.message
    assert report.imported == 1 and "cpk" not in labs(study)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"])
def test_encodings_are_detected(study: Study, tmp_path: Path, encoding: str) -> None:
    text = "patient_id\tvisit\tcrp\nMÜ-1\tadmission\t7\n"  # Excel's "Unicode text" is tab + UTF-16
    report = import_labs(study, write(tmp_path, text.encode(encoding)))
    assert report.ok, report.errors
    assert labs(study)["crp"] == 7.0
    assert read_table(tmp_path / "in.csv").columns == ["patient_id", "visit", "crp"]


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"PK\x03\x04rest of a workbook", "spreadsheet workbook"),
     (b"study_id,visit\nP\x81\x8d,admission\n", "neither UTF-8 nor Windows-1252"),
     (b"\xff\xfes\x00t\x00\x00\xd8", "not valid UTF-16"),
     (b"\x01\x02\x03,visit\n", "header has unreadable characters")],
)  # fmt: skip
def test_unreadable_encodings_are_refused_in_words(
    study: Study, tmp_path: Path, data: bytes, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        import_labs(study, write(tmp_path, data))
    assert 'save it from the spreadsheet as "CSV UTF-8"' in caught.value.message


def test_large_file_in_chunks_with_progress(study: Study, tmp_path: Path) -> None:
    lines = ["study_id,visit,crp,esr"]
    for n in range(3, 1203):
        study.add_patient(f"P{n:04d}")
    lines += [f"P{n:04d},admission,{n % 90}.5,{n % 100}" for n in range(1, 1203)]
    lines += ["P0001,admission,2.5,"]  # changes a value the file set before: needs a reason
    seen: list[tuple[int, int]] = []
    from cobbdesk.core.importing import labs_csv

    chunk, labs_csv.LAB_CHUNK = labs_csv.LAB_CHUNK, 500
    try:
        report = import_labs(study, write(tmp_path, "\n".join(lines).encode()),
                             progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    finally:
        labs_csv.LAB_CHUNK = chunk
    assert report.imported == 1202 and report.values == 2404
    assert [e.row for e in report.errors] == [1204]
    assert "needs a reason" in report.errors[0].message
    assert seen == [(500, 1203), (1000, 1203), (1203, 1203)]
    assert len(report.visits_created) == 1201  # P0001 had its admission visit
    assert labs(study, sid="P0777") == {"crp": 57.5, "esr": 77.0, "nlr": None}
    integrity = study.verify_integrity()
    assert integrity.ok, integrity.problems[:3]


def test_bulk_write_refuses_a_row_changed_since_it_was_read(study: Study) -> None:
    study.set_labs(1, {"crp": 5.0})
    stale = LabWrite(2, 1, VisitKind.ADMISSION, {"crp": (4.0, 6.0)})  # the importer read 4
    fresh = LabWrite(3, 1, VisitKind.ADMISSION, {"esr": (None, 10.0)})
    done = write_labs(study, [stale, fresh], reason="import")
    assert done.rows == 1 and [row for row, _ in done.conflicts] == [2]
    assert done.conflicts[0][1].conflicts[0].theirs == 5.0
    assert labs(study)["crp"] == 5.0 and labs(study)["esr"] == 10.0
