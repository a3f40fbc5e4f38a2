"""The same OHIF SR imported again gives "unchanged", as CobbDesk's own SR does (breaker 9:
the second import was refused "already in the study with other values", exit 1 — the
measurement read from points took the import's time as its created/updated time, so it never
equalled the one saved).  A group whose Tracking Unique Identifier is no ``2.25`` UUID gets
an id derived from that UID, so importing it again neither duplicates it nor is refused; a
group repeated in one SR is the same measurement: imported once, then unchanged.

Angle by hand (tests/core/sr/test_sr.py): lines (100, 100)→(140, 110) and (100, 300)→(140, 290)
on square pixels, film facing left: 2·atan2(10, 40) = 28.0724869° lordosis."""

from __future__ import annotations

import math
import uuid
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from cobbdesk.cli.main import main
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.reader import import_report
from cobbdesk.core.store import Study
from tests.core.sr.ohif import ohif_cobb_sr
from tests.core.sr.test_sr import _film

LORDOSIS_DEG = math.degrees(2 * math.atan2(10, 40))
POINTS = [(140.5, 290.5), (100.5, 300.5), (140.5, 110.5), (100.5, 100.5)]


def _tracking(ds: Dataset) -> Dataset:
    group = ds.ContentSequence[0].ContentSequence[0]
    return next(i for i in group.ContentSequence if i.ValueType == "UIDREF")


@pytest.fixture(params=["2.25 UUID", "other UID"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    film = _film(tmp_path)
    sr = ohif_cobb_sr(pydicom.dcmread(film), POINTS, LORDOSIS_DEG)
    if request.param == "2.25 UUID":  # as OHIF writes it
        _tracking(sr).UID = f"2.25.{uuid.uuid4().int}"
    sr.save_as(tmp_path / "ohif.dcm", enforce_file_format=True)
    return film, tmp_path / "ohif.dcm"


def test_the_same_ohif_sr_imported_again_is_unchanged(
    case: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    film, sr = case
    study = tmp_path / "s.cobbdesk"
    assert main(["import", str(study), str(film), "--create"]) == 0
    args = ["import", str(study), str(sr), "--sr-template", "C2-C7"]
    assert main(args) == 0
    assert "1 imported, 0 unchanged, 0 refused" in capsys.readouterr().out
    assert main(args) == 0
    assert "0 imported, 1 unchanged, 0 refused" in capsys.readouterr().out
    with Study.open(study) as opened:
        (m,) = opened.measurements()
    assert m.angle == pytest.approx(LORDOSIS_DEG, abs=1e-9)


def test_a_group_repeated_in_one_sr_is_imported_once(
    case: tuple[Path, Path], tmp_path: Path
) -> None:
    film, sr = case
    ds = pydicom.dcmread(sr)
    container = ds.ContentSequence[0].ContentSequence
    container.append(container[0])
    ds.save_as(sr, enforce_file_format=True)
    with Study.create(tmp_path / "s.cobbdesk", actor="ann") as study:
        import_paths(study, [film])
        report = import_report(study, sr, template="C2-C7")
        assert (report.errors, len(report.imported), report.unchanged) == ([], 1, 1)
        (m,) = study.measurements()
    assert m.angle == pytest.approx(LORDOSIS_DEG, abs=1e-9)
