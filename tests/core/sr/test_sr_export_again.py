"""An SR export into a folder holding an earlier SR export of the same films replaces those
reports (they are outputs made again from the study); any other SR at the name — OHIF's, or
another film's — is refused with a message asking for a new folder, and a DICOM film or a study
at the name stays refused (:func:`cobbdesk.core.private.check_target`'s rule)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.errors import ExportError
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.deleted import measurement_ids
from cobbdesk.core.sr.outputs import check_target
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from tests.core.sr.ohif import ohif_cobb_sr
from tests.core.sr.test_sr import _film, _measure


@pytest.fixture
def study_path(tmp_path: Path) -> Path:
    (tmp_path / "films").mkdir()
    films = [_film(tmp_path / "films") for _ in range(2)]
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="ann") as study:
        import_paths(study, films)
        for record in study.films():
            study.save_measurement(record.id, _measure(record.sop_instance_uid, "ann"))
    return path


def test_a_second_export_into_the_same_folder_replaces_the_earlier_reports(
    study_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sr"
    assert main(["export", str(study_path), "--format", "sr", "-o", str(out)]) == 0
    first = {p.name: pydicom.dcmread(p).SOPInstanceUID for p in out.iterdir()}
    assert main(["export", str(study_path), "--format", "sr", "-o", str(out)]) == 0
    assert "2 DICOM SR file(s) written" in capsys.readouterr().out
    second = {p.name: pydicom.dcmread(p).SOPInstanceUID for p in out.iterdir()}
    assert sorted(second) == sorted(first)  # the same names, new reports
    assert all(second[name] != first[name] for name in first)


def test_an_sr_not_written_by_cobbdesk_is_refused_asking_for_a_new_folder(
    study_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sr"
    with Study.open(study_path, actor="ann") as study:
        files, _ = export_sr(study, out)
    uid = files[0].film_sop_instance_uid
    film = next(pydicom.dcmread(p) for p in (tmp_path / "films").iterdir()
                if pydicom.dcmread(p).SOPInstanceUID == uid)  # fmt: skip
    ohif = ohif_cobb_sr(film, [(100, 100), (140, 110), (100, 300), (140, 290)], 28.07)
    ohif.save_as(files[0].path, enforce_file_format=True)  # someone else's report at the name
    kept = files[0].path.read_bytes()
    with (
        Study.open(study_path, actor="ann") as study,
        pytest.raises(
            ExportError, match=r"is a DICOM SR that CobbDesk did not write .*Choose a new folder"
        ),
    ):
        export_sr(study, out)
    assert files[0].path.read_bytes() == kept


def test_cobbdesks_sr_of_another_film_is_refused(study_path: Path, tmp_path: Path) -> None:
    with Study.open(study_path, actor="ann") as study:
        files, _ = export_sr(study, tmp_path / "sr")
        ours = measurement_ids(study)
    first, second = files
    with pytest.raises(ExportError, match="did not write for film"):
        check_target(first.path, second.film_sop_instance_uid, ours)
    check_target(first.path, first.film_sop_instance_uid, ours)  # its own film: replaceable


def test_a_film_or_a_study_at_the_name_stays_refused(study_path: Path, tmp_path: Path) -> None:
    film = next((tmp_path / "films").iterdir())
    uid = pydicom.dcmread(film).SOPInstanceUID
    target = tmp_path / "t.sr.dcm"
    shutil.copy(film, target)
    with pytest.raises(ExportError, match="is a DICOM film"):
        check_target(target, uid, frozenset())
    shutil.copy(study_path, target)
    with pytest.raises(ExportError, match="is a study"):
        check_target(target, uid, frozenset())


def test_a_link_to_an_earlier_report_is_refused(study_path: Path, tmp_path: Path) -> None:
    with Study.open(study_path, actor="ann") as study:
        (f, _), _ = export_sr(study, tmp_path / "sr")
    link = tmp_path / "link.sr.dcm"
    link.symlink_to(f.path)
    with pytest.raises(ExportError, match="symbolic link"):
        check_target(link, f.film_sop_instance_uid, frozenset())
