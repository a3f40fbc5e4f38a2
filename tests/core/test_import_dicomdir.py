"""DICOMDIR references: kept inside the file-set's folder, found under a ``.dcm`` name.

File-sets are written by pydicom's :class:`~pydicom.fileset.FileSet`; hostile records are made
by editing a record's Referenced File ID (0004,1500) by hand afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.fileset import FileSet

from cobbdesk.core.importing.dicomdir import dicomdir_references, resolve_reference
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.importing.scan import scan_headers
from cobbdesk.core.store import Study

MakeDs = Callable[..., pydicom.Dataset]


def _films(folder: Path, make_ds: MakeDs, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(count):
        ds = make_ds(np.zeros((8, 8), np.uint16), PatientID=f"MRN-{n}", StudyTime="120000")
        ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 1, n + 1  # FileSet records
        paths.append(folder / f"f{n}.dcm")
        ds.save_as(paths[-1], enforce_file_format=True)
    return paths


def _fileset(tmp_path: Path, make_ds: MakeDs, count: int = 3) -> tuple[Path, list[list[str]]]:
    """A file-set of ``count`` films in ``tmp_path/cd``; its DICOMDIR and the IMAGE records'
    Referenced File IDs, in record order."""
    fs = FileSet()
    for path in _films(tmp_path / "src", make_ds, count):
        fs.add(path)
    fs.write(tmp_path / "cd")
    fs._stage["t"].cleanup()  # pydicom keeps its staging TemporaryDirectory until GC
    dicomdir = tmp_path / "cd" / "DICOMDIR"
    return dicomdir, _image_ids(dicomdir)


def _image_ids(dicomdir: Path) -> list[list[str]]:
    ds = pydicom.dcmread(dicomdir)
    return [
        list(r.ReferencedFileID)
        for r in ds.DirectoryRecordSequence
        if r.DirectoryRecordType == "IMAGE"
    ]


def _edit(dicomdir: Path, image: int, file_id: str | list[str]) -> int:
    """Set the Referenced File ID of the ``image``-th IMAGE record; returns its 1-based
    position in the Directory Record Sequence."""
    ds = pydicom.dcmread(dicomdir)
    records = ds.DirectoryRecordSequence
    position = [i for i, r in enumerate(records) if r.DirectoryRecordType == "IMAGE"][image]
    records[position].ReferencedFileID = file_id
    ds.save_as(dicomdir)
    return position + 1


def _outside_film(tmp_path: Path, make_ds: MakeDs) -> Path:
    ds = make_ds(np.zeros((8, 8), np.uint16), PatientID="OUTSIDE")
    path = tmp_path / "outside" / "secret.dcm"
    path.parent.mkdir()
    ds.save_as(path, enforce_file_format=True)
    return path


def _refusals(result_errors: list, dicomdir: Path) -> list[str]:
    return [e.message for e in result_errors if e.path == dicomdir and "refused" in e.message]


@pytest.mark.parametrize(
    "file_id",
    [
        ["..", "outside", "secret.dcm"],  # ..\outside\secret.dcm
        ["IMAGES", "..", "..", "outside", "secret.dcm"],
        "../outside/secret.dcm",  # written with '/', one value
        "ABSOLUTE",  # replaced by the outside file's absolute POSIX path below
        ["", "outside", "secret.dcm"],  # \outside\secret.dcm: rooted
        ["C:", "outside", "secret.dcm"],  # a Windows drive
    ],
)
def test_references_leaving_the_file_set_are_refused_and_reported(
    tmp_path: Path, make_ds: MakeDs, file_id: str | list[str]
) -> None:
    dicomdir, _ = _fileset(tmp_path, make_ds)
    outside = _outside_film(tmp_path, make_ds)
    file_id = str(outside) if file_id == "ABSOLUTE" else file_id
    record = _edit(dicomdir, 1, file_id)
    result = scan_headers([dicomdir])
    assert len(result.headers) == 2 and "OUTSIDE" not in {h.patient_id for h in result.headers}
    (message,) = _refusals(result.errors, dicomdir)
    assert message.startswith(f"record {record} (IMAGE): Referenced File ID (0004,1500) ")
    assert "\n" not in message and str(dicomdir) in str(result.errors[0])


def test_a_symbolic_link_out_of_the_file_set_is_refused(tmp_path: Path, make_ds: MakeDs) -> None:
    dicomdir, ids = _fileset(tmp_path, make_ds)
    outside = _outside_film(tmp_path, make_ds)
    target = dicomdir.parent.joinpath(*ids[0])
    target.unlink()
    target.symlink_to(outside)  # a file link
    (dicomdir.parent / "LINKDIR").symlink_to(outside.parent, target_is_directory=True)
    record = _edit(dicomdir, 1, ["LINKDIR", "SECRET.DCM"])  # a folder link, other case
    result = scan_headers([dicomdir])
    assert len(result.headers) == 1 and "OUTSIDE" not in {h.patient_id for h in result.headers}
    messages = _refusals(result.errors, dicomdir)
    assert len(messages) == 2
    assert any(m.startswith(f"record {record} (IMAGE)") for m in messages)
    assert all("symbolic link" in m for m in messages)


def test_a_symbolic_link_inside_the_file_set_is_followed(tmp_path: Path, make_ds: MakeDs) -> None:
    dicomdir, ids = _fileset(tmp_path, make_ds)
    real = dicomdir.parent.joinpath(*ids[0])
    moved = dicomdir.parent / "STORE" / "REAL0001"
    moved.parent.mkdir()
    real.rename(moved)
    real.symlink_to(moved)
    result = scan_headers([dicomdir])
    assert len(result.headers) == 3 and not result.errors


def test_a_symbolic_link_loop_is_refused_not_a_crash(tmp_path: Path, make_ds: MakeDs) -> None:
    dicomdir, ids = _fileset(tmp_path, make_ds)
    loop = dicomdir.parent.joinpath(*ids[0])
    loop.unlink()
    loop.symlink_to(loop)
    result = scan_headers([dicomdir])
    assert len(result.headers) == 2
    (error,) = result.errors  # Python 3.11: "… is a symbolic-link loop; refused"
    assert str(dicomdir) in str(error) and "\n" not in str(error)


@pytest.mark.parametrize("disk_name", ["{name}.dcm", "{lower}.DCM", "{lower}.dcm", "{name}.Dcm"])
def test_the_dcm_suffixed_file_name_is_found(
    tmp_path: Path, make_ds: MakeDs, disk_name: str
) -> None:
    dicomdir, ids = _fileset(tmp_path, make_ds)
    for file_id in ids:
        path = dicomdir.parent.joinpath(*file_id)
        name = disk_name.format(name=path.name, lower=path.name.lower())
        path.rename(path.with_name(name))
    result = scan_headers([dicomdir])
    assert not result.errors and sorted(h.patient_id for h in result.headers) == [
        "MRN-0", "MRN-1", "MRN-2",
    ]  # fmt: skip
    assert all(h.path.suffix.lower() == ".dcm" for h in result.headers)


def test_hand_made_record_finds_images_im0001_dcm_in_any_case(tmp_path: Path) -> None:
    """A record ``IMAGES\\IM0001`` whose file is ``images/im0001.DCM``."""
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "im0001.DCM").write_bytes(b"x")
    found = resolve_reference(tmp_path, ["IMAGES", "IM0001"])
    assert found == tmp_path / "images" / "im0001.DCM"
    # the name as written wins over the suffixed one when both exist
    (tmp_path / "images" / "IM0001").write_bytes(b"y")
    assert resolve_reference(tmp_path, ["IMAGES", "IM0001"]) == tmp_path / "images" / "IM0001"


@pytest.mark.parametrize(
    ("parts", "why"),
    [
        ([".."], "'..'"),
        (["A", "..", "B"], "'..'"),
        (["/etc/passwd"], "absolute"),
        (["", "etc", "passwd"], "absolute"),
        (["C:", "x"], "absolute"),
        (["\\\\server\\share\\x"], "absolute"),
        (["."], "names no file"),
        (["A\x00B"], "control character"),
    ],
)
def test_resolve_reference_refusals(tmp_path: Path, parts: list[str], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        resolve_reference(tmp_path, parts)


def test_a_missing_file_still_names_the_dicomdir_and_record(
    tmp_path: Path, make_ds: MakeDs
) -> None:
    dicomdir, ids = _fileset(tmp_path, make_ds)
    dicomdir.parent.joinpath(*ids[2]).unlink()
    result = scan_headers([dicomdir])
    assert len(result.headers) == 2
    (error,) = result.errors
    assert "missing" in error.message and str(dicomdir) in error.message
    assert "(IMAGE)" in error.message


def test_import_report_lists_the_refused_record_and_imports_the_rest(
    tmp_path: Path, make_ds: MakeDs
) -> None:
    dicomdir, _ = _fileset(tmp_path, make_ds)
    _outside_film(tmp_path, make_ds)
    record = _edit(dicomdir, 0, ["..", "outside", "secret.dcm"])
    with Study.create(tmp_path / "study.cobbdesk", actor="tester") as study:
        report = import_paths(study, [dicomdir])
        assert len(report.imported) == 2 and not report.ok
        assert {p.dicom_patient_id for p in study.patients()} == {"MRN-1", "MRN-2"}
    (error,) = report.errors
    assert error.path == dicomdir
    assert error.message == (
        f"record {record} (IMAGE): Referenced File ID (0004,1500) "
        "'..\\outside\\secret.dcm' climbs out of the file-set's folder with '..'; refused"
    )
    assert report.to_dict()["errors"][0]["path"] == str(dicomdir)


def test_records_in_order_and_non_file_records_ignored(tmp_path: Path, make_ds: MakeDs) -> None:
    dicomdir, ids = _fileset(tmp_path, make_ds, count=2)
    refs = dicomdir_references(dicomdir)
    assert [r.file_id.split("\\") for r in refs] == ids
    assert all(r.path is not None and r.path.is_file() and not r.problem for r in refs)
    assert all(r.record.endswith("(IMAGE)") for r in refs)


def test_folder_and_dicomdir_together_scan_each_file_once(tmp_path: Path, make_ds: MakeDs) -> None:
    dicomdir, ids = _fileset(tmp_path, make_ds)
    for file_id in ids:
        path = dicomdir.parent.joinpath(*file_id)
        path.rename(path.with_name(path.name.lower() + ".dcm"))
    result = scan_headers([dicomdir.parent, dicomdir])
    assert len(result.headers) == 3 and not result.errors
