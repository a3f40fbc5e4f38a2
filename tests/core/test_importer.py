"""DICOM import: header scan, region guessing, visit assignment, duplicates, bulk writes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.fileset import FileSet

from cobbdesk.core.importing.importer import (
    ImportReport,
    assign_visits,
    guess_region,
    import_paths,
)
from cobbdesk.core.importing.scan import HeaderInfo, read_header, scan_headers
from cobbdesk.core.store import Region, Study, VisitKind
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import SyntheticSpine, make_lateral_spine

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def write_fileset(paths: list[Path], folder: Path) -> Path:
    """A DICOMDIR File-set of ``paths`` in ``folder``; returns the DICOMDIR path."""
    fs = FileSet()
    for path in paths:
        fs.add(path)
    fs.write(folder)
    fs._stage["t"].cleanup()  # pydicom keeps its staging TemporaryDirectory until GC
    return folder / "DICOMDIR"


@cache
def _spine(region: str) -> SyntheticSpine:
    return make_lateral_spine(
        region,  # type: ignore[arg-type]
        25.0,
        rows=400,
        columns=320,
        spacing_mm=(0.6, 0.6),
        seed=3,
    )


def film(
    folder: Path,
    name: str,
    *,
    patient: str = "MRN-1",
    day: str = "20260105",
    region: str = "cervical",
    **kwargs: object,
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    kwargs.setdefault("sop_instance_uid", f"1.2.826.0.1.3680043.10.9999.{abs(hash(name)) % 10**12}")
    return write_dicom(
        _spine(region),
        folder / name,
        patient_id=patient,
        study_date=day,
        **kwargs,  # type: ignore[arg-type]
    )


def shifted(day: str, days: int) -> str:
    return (date.fromisoformat(f"{day[:4]}-{day[4:6]}-{day[6:]}") + timedelta(days)).strftime(
        "%Y%m%d"
    )


@pytest.fixture
def study(tmp_path: Path) -> Study:
    s = Study.create(tmp_path / "study.cobbdesk", actor="tester")
    yield s  # type: ignore[misc]
    s.close()


# --- region --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body_part", "description", "expected"),
    [
        ("CSPINE", "", Region.CERVICAL),
        ("C-SPINE", "", Region.CERVICAL),
        ("c spine", "", Region.CERVICAL),
        ("NECK", "", Region.CERVICAL),
        ("CTSPINE", "", Region.CERVICAL),
        ("", "Lateral cervical spine", Region.CERVICAL),
        ("", "COLONNE CERVICALE PROFIL", Region.CERVICAL),
        ("HWS", "", Region.CERVICAL),
        ("LSPINE", "", Region.LUMBAR),
        ("L-SPINE", "", Region.LUMBAR),
        ("LSSPINE", "", Region.LUMBAR),
        ("LUMBAR", "", Region.LUMBAR),
        ("", "lumbar spine lat", Region.LUMBAR),
        ("", "LS lateral", Region.LUMBAR),
        ("", "Lumbosacral junction", Region.LUMBAR),
        ("LWS", "", Region.LUMBAR),
        ("SPINE", "LWS seitlich", Region.LUMBAR),
        ("CHEST", "", Region.UNKNOWN),
        ("SPINE", "", Region.UNKNOWN),
        ("TSPINE", "", Region.UNKNOWN),
        ("TLSPINE", "", Region.UNKNOWN),
        ("", "Thoracolumbar spine", Region.UNKNOWN),
        ("", "C-spine and L-spine", Region.UNKNOWN),
        ("", "", Region.UNKNOWN),
        ("HIP", "PELVIS", Region.UNKNOWN),
        ("CLAVICLE", "", Region.UNKNOWN),
        ("ELBOW", "", Region.UNKNOWN),
    ],
)
def test_guess_region_spellings(body_part: str, description: str, expected: Region) -> None:
    assert guess_region(body_part, description, "LL") is expected


def test_body_part_wins_over_series_description() -> None:
    assert guess_region("LSPINE", "cervical protocol") is Region.LUMBAR


# --- visits --------------------------------------------------------------------------------
def test_assign_visits_admission_month3_other() -> None:
    base = date(2026, 1, 5)
    days = [base + timedelta(d) for d in (0, 70, 95, 200)]
    kinds = assign_visits(reversed(days))
    assert kinds == {
        days[0]: VisitKind.ADMISSION,
        days[1]: VisitKind.OTHER,
        days[2]: VisitKind.MONTH3,  # 95 is closer to 91 than 70
        days[3]: VisitKind.OTHER,
    }


@pytest.mark.parametrize(
    ("offset", "kind"),
    [
        (59, VisitKind.OTHER),
        (60, VisitKind.MONTH3),
        (120, VisitKind.MONTH3),
        (121, VisitKind.OTHER),
    ],
)
def test_month3_window_is_60_to_120_days(offset: int, kind: VisitKind) -> None:
    base = date(2026, 1, 1)
    assert assign_visits([base, base + timedelta(offset)])[base + timedelta(offset)] is kind


def test_month3_tie_takes_the_earlier_date_and_empty_input() -> None:
    base = date(2026, 1, 1)
    kinds = assign_visits([base, base + timedelta(81), base + timedelta(101)])
    assert kinds[base + timedelta(81)] is VisitKind.MONTH3
    assert assign_visits([]) == {}


# --- scanning ------------------------------------------------------------------------------
def test_scan_reports_non_dicom_as_skipped_and_corrupt_as_error(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    film(folder, "a.dcm")
    film(folder / "sub", "b.dcm", patient="MRN-2")
    (folder / "notes.txt").write_text("not a film")
    (folder / "corrupt.dcm").write_bytes(film(tmp_path, "whole.dcm").read_bytes()[:700])
    calls: list[tuple[int, int]] = []
    result = scan_headers([folder], progress=lambda d, t: calls.append((d, t)))
    assert result.total == 4
    assert sorted(h.path.name for h in result.headers) == ["a.dcm", "b.dcm"]
    assert [i.path.name for i in result.errors] == ["corrupt.dcm"]
    assert [i.path.name for i in result.skipped] == ["notes.txt"]
    assert "not DICOM" in result.skipped[0].message
    assert calls[-1] == (4, 4)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_header_fields_and_privacy(tmp_path: Path) -> None:
    path = film(tmp_path, "a.dcm", patient_name="Doe^Jane", body_part="C-SPINE")
    info = read_header(path)
    assert isinstance(info, HeaderInfo)
    assert (info.patient_id, info.study_date, info.body_part) == ("MRN-1", "20260105", "C-SPINE")
    assert (info.rows, info.columns, info.modality, info.view_position) == (400, 320, "DX", "LL")
    assert info.patient_name == "Doe^Jane"
    assert "Doe" not in repr(info)


def test_image_without_rows_is_skipped_and_missing_path_is_an_error(
    tmp_path: Path, make_ds: Callable[..., pydicom.Dataset]
) -> None:
    ds = make_ds(np.zeros((4, 4), np.uint16))
    del ds.Rows, ds.Columns
    ds.save_as(tmp_path / "norows.dcm", enforce_file_format=True)
    result = scan_headers([tmp_path / "norows.dcm", tmp_path / "nowhere"])
    assert "not an image" in result.skipped[0].message
    assert result.errors[0].message == "no such file or folder"


def test_header_longer_than_the_read_ahead_is_read_from_the_file(
    tmp_path: Path, make_ds: Callable[..., pydicom.Dataset]
) -> None:
    ds = make_ds(np.zeros((8, 6), np.uint16))
    ds.ImageComments = "x" * 40_000  # (0020,4000): before Rows, and longer than HEAD_BYTES
    ds.save_as(tmp_path / "long.dcm", enforce_file_format=True)
    info = read_header(tmp_path / "long.dcm")
    assert isinstance(info, HeaderInfo)
    assert (info.rows, info.columns, info.patient_id) == (8, 6, "SYN-001")


def test_dicomdir_expands_to_its_files_once(tmp_path: Path) -> None:
    source = tmp_path / "src"
    paths = [film(source, f"f{i}.dcm", patient=f"MRN-{i}") for i in range(3)]
    media = tmp_path / "cd"
    write_fileset(paths, media)
    only_dir = scan_headers([media / "DICOMDIR"])
    assert len(only_dir.headers) == 3 and not only_dir.errors and not only_dir.skipped
    assert all(h.path.parent != media for h in only_dir.headers)  # under the File-set folders
    both = scan_headers([media, media / "DICOMDIR"])
    assert sorted(h.patient_id for h in both.headers) == ["MRN-0", "MRN-1", "MRN-2"]
    assert not both.errors and not both.skipped


def test_dicomdir_reports_a_missing_referenced_file(tmp_path: Path) -> None:
    sources = [film(tmp_path / "src", "a.dcm"), film(tmp_path / "src", "b.dcm", patient="MRN-2")]
    write_fileset(sources, tmp_path / "cd")
    victim = next(p for p in (tmp_path / "cd").rglob("*") if p.is_file() and p.name != "DICOMDIR")
    victim.unlink()
    result = scan_headers([tmp_path / "cd" / "DICOMDIR"])
    assert len(result.headers) == 1
    assert "missing" in result.errors[0].message


def test_scan_can_be_cancelled(tmp_path: Path) -> None:
    for i in range(20):
        film(tmp_path, f"f{i:02d}.dcm")
    seen: list[int] = []
    result = scan_headers(
        [tmp_path], workers=2, progress=lambda d, t: seen.append(d), cancel=lambda: len(seen) >= 3
    )
    assert result.cancelled
    assert len(result.headers) == 3


# --- import --------------------------------------------------------------------------------
def _three_patients(folder: Path) -> None:
    for n, start in enumerate(("20260105", "20260210", "20260301"), start=1):
        patient = f"MRN-{n}"
        for label, offset in (("adm", 0), ("m3", 88 + n), ("late", 200)):
            day = shifted(start, offset)
            film(folder, f"p{n}-{label}-c.dcm", patient=patient, day=day, patient_name="Doe^Jane",
                 region="cervical")  # fmt: skip
            film(folder, f"p{n}-{label}-l.dcm", patient=patient, day=day, region="lumbar")


def test_import_three_patients_with_admission_month3_and_other(
    study: Study, tmp_path: Path
) -> None:
    _three_patients(tmp_path / "in")
    report = import_paths(study, [tmp_path / "in"])
    assert report.ok and len(report.imported) == 18 and not report.duplicates
    assert report.new_patients == ["P0001", "P0002", "P0003"]
    assert len(report.new_visits) == 9
    for pid in (study.patient_by_dicom_id(f"MRN-{n}") for n in (1, 2, 3)):
        assert pid is not None
        visits = study.visits(pid)
        assert [v.kind for v in visits] == [VisitKind.ADMISSION, VisitKind.MONTH3, VisitKind.OTHER]
        assert visits[2].label == visits[2].visit_date
        for visit in visits:
            regions = sorted(f.region.value for f in study.films(visit.id))
            assert regions == ["cervical", "lumbar"]
    patient = next(p for p in study.patients() if p.study_id == "P0001")
    assert (patient.dicom_patient_id, patient.name) == ("MRN-1", "Doe^Jane")
    films = study.films()
    assert all(
        f.pixel_sha256 is None and (f.pixel_rows, f.pixel_columns) == (400, 320) for f in films
    )
    assert {f.view for f in films} == {"LL"}
    assert study.verify_audit().ok


def test_duplicates_in_one_import_and_against_the_study(study: Study, tmp_path: Path) -> None:
    first = film(tmp_path / "in", "a.dcm")
    film(tmp_path / "in", "b.dcm", day="20260406")
    shutil.copy(first, tmp_path / "in" / "a-copy.dcm")
    report = import_paths(study, [tmp_path / "in"])
    assert len(report.imported) == 2
    assert [(Path(d.path).name, "earlier in this import" in d.duplicate_of)
            for d in report.duplicates] == [("a.dcm", True)]  # fmt: skip
    assert report.ok
    again = import_paths(study, [tmp_path / "in"])
    assert not again.imported and len(again.duplicates) == 3
    ids = {f.id for f in study.films()}
    assert all(any(f"film {i} " in d.duplicate_of for i in ids) for d in again.duplicates)
    assert len(study.films()) == 2


def test_later_imports_extend_the_existing_visits(study: Study, tmp_path: Path) -> None:
    import_paths(study, [film(tmp_path / "a", "adm.dcm", day="20260105")])
    month3 = import_paths(study, [film(tmp_path / "b", "m3.dcm", day="20260406")])
    assert month3.new_visits == ["P0001 month3 2026-04-06"] and not month3.new_patients
    early = import_paths(study, [film(tmp_path / "c", "early.dcm", day="20251201")])
    assert early.new_visits == ["P0001 other 2025-12-01"]
    assert "already exists dated 2026-01-05" in early.warnings[0]
    same = import_paths(study, [film(tmp_path / "d", "adm2.dcm", day="20260105", region="lumbar")])
    assert not same.new_visits
    pid = study.patient_by_dicom_id("MRN-1")
    assert pid is not None
    kinds = {v.kind: v for v in study.visits(pid) if v.label == ""}
    assert len(study.films(kinds[VisitKind.ADMISSION].id)) == 2


def test_undated_visit_from_labs_gets_the_film_date(study: Study, tmp_path: Path) -> None:
    pid = study.add_patient(dicom_patient_id="MRN-1")
    study.add_visit(pid, "admission", visit_date="20260105")
    undated = study.add_visit(pid, "month3")
    report = import_paths(study, [film(tmp_path, "m3.dcm", day="20260403")])
    assert report.new_visits == ["P0001 month3 2026-04-03 (dated)"]
    visit = study.visit(pid, "month3")
    assert visit is not None and visit.id == undated and visit.visit_date == "2026-04-03"
    assert study.verify_audit().ok


def test_missing_patient_id_and_missing_date(study: Study, tmp_path: Path) -> None:
    nobody = film(tmp_path, "nobody.dcm", patient="")
    undated = film(tmp_path, "undated.dcm", day="")
    report = import_paths(study, [nobody, undated])
    assert [Path(e.path).name for e in report.errors] == ["nobody.dcm"]
    assert "Patient ID" in report.errors[0].message and not report.ok
    assert [i.visit for i in report.imported] == ["other undated"]


def test_cancelled_import_writes_nothing(study: Study, tmp_path: Path) -> None:
    for i in range(5):
        film(tmp_path, f"f{i}.dcm", patient=f"MRN-{i}")
    report = import_paths(study, [tmp_path], cancel=lambda: True)
    assert report.cancelled and not report.ok
    assert study.films() == [] and study.patients() == []


def test_report_to_dict_names_patients_by_study_id_only(study: Study, tmp_path: Path) -> None:
    path = film(tmp_path, "a.dcm", patient="SECRET-MRN", patient_name="Secret^Name")
    data = import_paths(study, [path]).to_dict()
    text = repr(data)
    assert "SECRET" not in text and "Secret" not in text
    assert data["new_patients"] == ["P0001"] and data["ok"] is True


@pytest.mark.shared
def test_shared_radiographs_import_without_crash(study: Study) -> None:
    folder = SHARED / "radiographs"
    if not folder.is_dir():
        pytest.skip(f"shared test data not found at {folder}")
    report: ImportReport = import_paths(study, [folder])
    files = sorted(folder.glob("*.dcm"))
    accounted = len(report.imported) + len(report.errors) + len(report.duplicates)
    assert accounted + len(report.skipped) == len(files) == report.files
    assert len(report.imported) >= len(files) - 2
    assert all("Patient ID" in e.message for e in report.errors)  # all headers are readable
    assert {f.region for f in study.films()} == {Region.UNKNOWN}  # none of them is a spine film
    assert study.verify_audit().ok
