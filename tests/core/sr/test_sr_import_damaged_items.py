"""A damaged SR — a content item absent, empty or of the wrong type where the Cobb angle's
parser reads it — is refused alone, in one line naming the file; the valid SRs in the same
folder are imported (breaker 9: an SCOORD with empty Graphic Data crashed the whole import
with an internal error, exit 70, and no SR of the folder was read).

Angle by hand (tests/core/sr/test_sr.py): lines (100, 100)→(140, 110) and (100, 300)→(140, 290)
on square pixels, film facing left: 2·atan2(10, 40) = 28.0724869° lordosis."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from cobbdesk.cli.main import main
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.reader import import_report
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from tests.core.sr.test_sr import _film, _measure

LORDOSIS_DEG = math.degrees(2 * math.atan2(10, 40))


def _group(ds: Dataset) -> Dataset:
    """The first TID 1501 measurement group (container DCM 125007) of the SR."""
    found = [i for i in _walk(ds) if i.get("ValueType") == "CONTAINER"
             and i.ConceptNameCodeSequence[0].CodeValue == "125007"]  # fmt: skip
    return found[0]


def _walk(item: Dataset):  # type: ignore[no-untyped-def]
    for child in item.get("ContentSequence", []):
        yield child
        yield from _walk(child)


def _num(ds: Dataset) -> Dataset:
    return next(i for i in _group(ds).ContentSequence if i.ValueType == "NUM")


def _scoord(ds: Dataset) -> Dataset:
    return _num(ds).ContentSequence[0]


def _set(item: Dataset, keyword: str, value: object) -> None:
    setattr(item, keyword, value)


DAMAGE: dict[str, Callable[[Dataset], None]] = {
    "empty GraphicData": lambda ds: _set(_scoord(ds), "GraphicData", None),
    "absent GraphicData": lambda ds: delattr(_scoord(ds), "GraphicData"),
    "NaN in GraphicData": lambda ds: _set(_scoord(ds), "GraphicData", [math.nan] * 8),
    "absent SCOORD ContentSequence": lambda ds: delattr(_scoord(ds), "ContentSequence"),
    "two NumericValues": lambda ds: _set(
        _num(ds).MeasuredValueSequence[0], "NumericValue", ["1.5", "2.5"]),
    "IMAGE without ReferencedSOPInstanceUID": lambda ds: delattr(
        _scoord(ds).ContentSequence[0].ReferencedSOPSequence[0], "ReferencedSOPInstanceUID"),
    "UIDREF without UID": lambda ds: delattr(next(
        i for i in _group(ds).ContentSequence if i.ValueType == "UIDREF"), "UID"),
    "observer PNAME without PersonName": lambda ds: delattr(next(
        i for i in ds.ContentSequence if i.ValueType == "PNAME"), "PersonName"),
    "absent SOPInstanceUID": lambda ds: delattr(ds, "SOPInstanceUID"),
    "absent root ContentSequence": lambda ds: delattr(ds, "ContentSequence"),
}  # fmt: skip


@pytest.fixture
def exported(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    """(films, their two CobbDesk SRs): two films measured by ann, exported once."""
    (tmp_path / "films").mkdir()
    films = [_film(tmp_path / "films") for _ in range(2)]
    with Study.create(tmp_path / "s.cobbdesk", actor="ann") as study:
        import_paths(study, films)
        for record in study.films():
            study.save_measurement(record.id, _measure(record.sop_instance_uid, "ann"))
        files, problems = export_sr(study, tmp_path / "sr")
    assert problems == [] and len(files) == 2
    return films, sorted(f.path for f in files)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_sr_is_refused_alone(
    damage: str, exported: tuple[list[Path], list[Path]], tmp_path: Path
) -> None:
    films, (bad, good) = exported
    ds = pydicom.dcmread(bad)
    DAMAGE[damage](ds)
    ds.save_as(bad, enforce_file_format=False)
    with Study.create(tmp_path / "fresh.cobbdesk", actor="bob") as fresh:
        import_paths(fresh, films)
        refused = import_report(fresh, bad)
        assert len(refused.errors) == 1 and refused.imported == []
        assert "\n" not in refused.errors[0]
        ok = import_report(fresh, good)
        assert ok.errors == [] and len(ok.imported) == 1
        (m,) = fresh.measurements()
    assert m.angle == pytest.approx(LORDOSIS_DEG, abs=1e-9)


def test_the_cli_imports_the_folder_and_refuses_the_empty_scoord_in_one_line(
    exported: tuple[list[Path], list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, (bad, good) = exported
    ds = pydicom.dcmread(bad)
    _scoord(ds).GraphicData = None
    ds.save_as(bad, enforce_file_format=False)
    study = tmp_path / "fresh.cobbdesk"
    assert main(["import", str(study), str(tmp_path / "films"), "--create"]) == 0
    capsys.readouterr()
    assert main(["import", str(study), str(bad.parent)]) == 1  # one refused: not 70
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if "error" in line]
    assert len(errors) == 1 and bad.name in errors[0] and "POLYLINE" in errors[0]
    assert f"{good.name}: 1 Cobb angle(s): 1 imported" in captured.out
    with Study.open(study) as opened:
        (m,) = opened.measurements()
    assert m.angle == pytest.approx(LORDOSIS_DEG, abs=1e-9)


@pytest.mark.parametrize("empty", [Sequence([]), Sequence([Dataset()])])
def test_a_num_without_a_value_is_no_damage_the_points_give_the_angle(
    empty: Sequence, exported: tuple[list[Path], list[Path]], tmp_path: Path
) -> None:
    """An empty Measured Value Sequence (or item) is a NUM with no value (PS3.3 C.18.1): the
    angle is computed from the points as always, nothing to compare."""
    films, (bad, _) = exported
    ds = pydicom.dcmread(bad)
    _num(ds).MeasuredValueSequence = empty
    ds.save_as(bad, enforce_file_format=False)
    with Study.create(tmp_path / "fresh.cobbdesk", actor="bob") as fresh:
        import_paths(fresh, films)
        report = import_report(fresh, bad)
        assert (report.errors, report.warnings, len(report.imported)) == ([], [], 1)
        (m,) = fresh.measurements()
    assert m.angle == pytest.approx(LORDOSIS_DEG, abs=1e-9)
