"""An SR export into a folder holding CobbDesk's own earlier SRs of the study leaves the folder
describing the study as it is now: the earlier SR of a measurement deleted since is removed
(audited, listed), so importing the folder elsewhere does not bring it back (breaker 7); only
files provably CobbDesk's SRs of the exported films go.  Any other file at a report's name — a
plain file too — is left untouched and the export refused (README).

Angle by hand (tests/core/sr/test_sr.py): lines (100, 100)→(140, 110) and (100, 300)→(140, 290)
on square pixels, film facing left: 2·atan2(10, 40) = 28.0724869° lordosis."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pydicom
import pytest
from sqlalchemy import select

from cobbdesk.cli.main import main
from cobbdesk.core.errors import ExportError
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.reader import import_report
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import audit
from tests.core.sr.ohif import ohif_cobb_sr
from tests.core.sr.test_sr import _film, _measure

LORDOSIS_DEG = math.degrees(2 * math.atan2(10, 40))


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    """(study, SR folder, films): two films measured by ann, exported once."""
    (tmp_path / "films").mkdir()
    films = [_film(tmp_path / "films") for _ in range(2)]
    study_path = tmp_path / "s.cobbdesk"
    with Study.create(study_path, actor="ann") as study:
        import_paths(study, films)
        for record in study.films():
            study.save_measurement(record.id, _measure(record.sop_instance_uid, "ann"))
        files, problems = export_sr(study, tmp_path / "sr")
    assert problems == [] and len(files) == 2
    return study_path, tmp_path / "sr", films


def _delete_first(study_path: Path) -> str:
    """Delete the first film's measurement; its film's SOP Instance UID."""
    with Study.open(study_path, actor="ann") as study:
        first = study.films()[0]
        (m,) = study.measurements(first.id)
        study.delete_measurement(m.id, reason="wrong endplate")
    return first.sop_instance_uid


def _removal_rows(study_path: Path) -> list[str]:
    with Study.open(study_path) as study, study.engine.connect() as conn:
        rows = conn.execute(select(audit.c.old_value).where(
            audit.c.entity == "export", audit.c.field == "file",
            audit.c.new_value.is_(None))).all()  # fmt: skip
    return [str(v).strip('"') for (v,) in rows]


def test_the_sr_of_a_deleted_measurement_is_removed_and_not_brought_back(
    exported: tuple[Path, Path, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study_path, out, films = exported
    gone = _delete_first(study_path)
    stale = next(p for p in out.iterdir() if p.name.startswith(gone))
    capsys.readouterr()
    assert main(["export", str(study_path), "--format", "sr", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{stale.name}: removed (an earlier SR" in printed
    assert "1 DICOM SR file(s) written" in printed
    assert [p.name for p in out.iterdir()] == [n for n in os.listdir(out) if gone not in n]
    assert len(list(out.iterdir())) == 1 and _removal_rows(study_path) == [stale.name]
    with Study.create(tmp_path / "fresh.cobbdesk", actor="bob") as fresh:
        import_paths(fresh, films)
        reports = [import_report(fresh, p) for p in out.iterdir()]
        assert [r.errors for r in reports] == [[]]
        (m,) = fresh.measurements()
    assert m.sop_instance_uid != gone and m.angle == pytest.approx(LORDOSIS_DEG, abs=1e-9)


def test_only_cobbdesks_own_srs_of_the_exported_films_are_removed(
    exported: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    study_path, out, films = exported
    gone = _delete_first(study_path)
    stale = next(p for p in out.iterdir() if p.name.startswith(gone))
    image = pydicom.dcmread(next(f for f in films if pydicom.dcmread(f).SOPInstanceUID == gone))
    ohif_cobb_sr(image, [(100.5, 100.5), (140.5, 110.5), (100.5, 300.5), (140.5, 290.5)],
                 28.07).save_as(out / "ohif.dcm", enforce_file_format=True)  # fmt: skip
    (out / "link.sr.dcm").symlink_to(stale)
    (out / "notes.txt").write_text("mine")
    kept = {name: (out / name).read_bytes() for name in ("ohif.dcm", "notes.txt")}
    names = sorted(p.name for p in out.iterdir() if p != stale)  # the other film's SR: made again
    with Study.open(study_path, actor="ann") as study:  # only the other film: nothing removed
        other = next(f.id for f in study.films() if f.sop_instance_uid != gone)
        removed: list[Path] = []
        export_sr(study, out, film_ids=[other], removed=removed)
        assert removed == [] and stale.exists()
        export_sr(study, out, removed=removed)
    assert removed == [stale] and not stale.exists()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in kept} == kept
    assert names == sorted(p.name for p in out.iterdir())
    assert (out / "link.sr.dcm").is_symlink()  # a link is never ours to remove


def test_every_measurement_deleted_removes_every_earlier_sr(
    exported: tuple[Path, Path, list[Path]],
) -> None:
    study_path, out, _ = exported
    with Study.open(study_path, actor="ann") as study:
        for m in study.measurements():
            study.delete_measurement(m.id, reason="re-measure")
        removed: list[Path] = []
        files, problems = export_sr(study, out, removed=removed)
    assert (files, problems, len(removed)) == ([], [], 2)
    assert list(out.iterdir()) == []


def test_a_plain_file_at_a_reports_name_is_left_untouched_and_the_export_refused(
    exported: tuple[Path, Path, list[Path]],
) -> None:
    study_path, out, _ = exported
    first, _ = sorted(out.iterdir())
    first.write_text("hello")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with (
        Study.open(study_path, actor="ann") as study,
        pytest.raises(
            ExportError,
            match=r"is a file that is not CobbDesk's SR of film .*"
            r"left untouched\. Choose a new folder",
        ),  # fmt: skip
    ):
        export_sr(study, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
