"""A damaged CobbDesk record in one SR refuses that SR alone (one line naming the SR file, no
patient identifier); the other SRs of the same ``cobbdesk import`` are imported, exit 1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset

from cobbdesk.cli.main import main
from cobbdesk.core.sr import codes
from cobbdesk.core.sr.reader import import_report
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from tests.core.sr.test_sr import measured  # noqa: F401  (fixture)


def _walk(item: Dataset) -> Iterator[Dataset]:
    for child in item.get("ContentSequence", []):
        yield child
        yield from _walk(child)


def _damage(src: Path, dst: Path, kind: str) -> None:
    ds = pydicom.dcmread(src)
    ds.PatientName = "Mueller^Juergen"
    for item in _walk(ds):
        concept = item.ConceptNameCodeSequence[0]
        name = (concept.CodeValue, concept.CodingSchemeDesignator)
        if item.get("ValueType") == "TEXT" and name == (codes.RECORD.value, codes.PRIVATE_SCHEME):
            record = json.loads(item.TextValue)
            if kind == "badjson":
                item.TextValue = item.TextValue[:-5]
            elif kind == "aspectstr":
                item.TextValue = json.dumps({**record, "spacing": None, "spacing_source": "none",
                                             "pixel_aspect": "2:1"})  # fmt: skip
            else:
                item.TextValue = json.dumps([1, 2])
    ds.save_as(dst)


@pytest.mark.parametrize(
    ("kind", "says"),
    [("badjson", "not valid JSON (JSONDecodeError"), ("aspectstr", "wrong type (ValueError)"),
     ("reclist", "is a JSON list, not an object")],
)  # fmt: skip
def test_one_damaged_sr_is_refused_and_the_others_imported(
    measured: tuple[Path, Path, list[object]],  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    says: str,
) -> None:
    study_path, film, _ = measured
    with Study.open(study_path, actor="ann") as study:
        files, _ = export_sr(study, tmp_path / "out")
    good1, good2 = sorted(f.path for f in files)  # ann (2 angles), Bøb (1 angle)
    bad = tmp_path / "bad.dcm"
    _damage(good1, bad, kind)
    fresh = tmp_path / "fresh.cobbdesk"
    assert main(["import", str(fresh), str(film), "--create", "--rater", "x"]) == 0
    capsys.readouterr()
    with Study.open(fresh, actor="x") as study:
        report = import_report(study, bad)
    assert not report.ok and report.groups == 0 and len(report.errors) == 1
    assert report.errors[0].startswith("group 1: the CobbDesk measurement record")
    assert main(["import", str(fresh), str(good1), str(bad), str(good2)]) == 1
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if "bad.dcm" in line]
    assert len(lines) == 1 and says in lines[0], captured.err
    assert "Mueller" not in captured.err + captured.out and "internal error" not in captured.err
    with Study.open(fresh) as study:
        assert len(study.measurements()) == 3  # good1's two and good2's one
