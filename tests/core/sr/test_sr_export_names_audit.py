"""SR export names every report uniquely (raters whose names clean up to the same file name)
and audits only files that are in place: a failed move leaves no audit row, a failed audit
undoes the moves."""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
import pytest
from sqlalchemy import select

from cobbdesk.core.errors import StoreError
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import audit
from tests.core.sr.test_sr import _measure
from tests.core.sr.test_sr_export_all_or_nothing import two_films  # noqa: F401  (fixture)


def _audited_files(study_path: Path) -> list[str]:
    with Study.open(study_path) as study, study.engine.connect() as conn:
        rows = conn.execute(select(audit.c.new_value).where(
            audit.c.entity == "export", audit.c.field == "file")).all()  # fmt: skip
    return sorted(str(value).strip('"') for (value,) in rows if ".sr.dcm" in str(value))


def test_raters_with_the_same_clean_name_get_two_files_both_audited(
    two_films: tuple[Path, list[Path]],  # noqa: F811
    tmp_path: Path,
) -> None:
    study_path, _ = two_films
    with Study.open(study_path, actor="ann") as study:
        first = study.films()[0]
        for rater in ("dr a", "dr_a"):
            study.save_measurement(first.id, _measure(first.sop_instance_uid, rater))
        files, problems = export_sr(study, tmp_path / "sr", film_ids=[first.id])
    assert problems == []
    stem = f"{first.sop_instance_uid}_"
    names = sorted(f.path.name for f in files)
    assert names == sorted([f"{stem}ann.sr.dcm", f"{stem}dr_a.sr.dcm", f"{stem}dr_a_2.sr.dcm"])
    assert sorted(p.name for p in (tmp_path / "sr").iterdir()) == names
    raters = {f.path.name: f.rater for f in files}
    assert {raters[f"{stem}dr_a.sr.dcm"], raters[f"{stem}dr_a_2.sr.dcm"]} == {"dr a", "dr_a"}
    for f in files:  # each file holds its own rater's report, as its SrFile says
        observer = [i for i in pydicom.dcmread(f.path).ContentSequence if i.ValueType == "PNAME"]
        assert str(observer[0].PersonName) == f"{f.rater}^"
    assert _audited_files(study_path) == names


def test_a_failed_move_leaves_no_audit_row(
    two_films: tuple[Path, list[Path]],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    study_path, _ = two_films
    out = tmp_path / "sr"
    real, calls = os.replace, []

    def failing(src: object, dst: object) -> None:
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr("cobbdesk.core.sr.outputs.os.replace", failing)
    with (
        Study.open(study_path, actor="ann") as study,
        pytest.raises(Exception, match="Input/output error"),
    ):
        export_sr(study, out)
    assert len(calls) == 2  # the second move was reached
    assert not out.exists() and _audited_files(study_path) == []  # the folder it made: gone


def test_a_failed_audit_undoes_the_moves(
    two_films: tuple[Path, list[Path]],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    study_path, _ = two_films
    out = tmp_path / "sr"
    with Study.open(study_path, actor="ann") as study:
        export_sr(study, out)  # the earlier export: one replaced, one removed (stale) below
        study.delete_measurement(study.measurements()[0].id, reason="wrong endplate")
    (out / "keep.txt").write_text("unrelated")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    audited = _audited_files(study_path)
    assert len(before) == 3 and len(audited) == 2

    def refuse(*_: object, **__: object) -> None:
        raise StoreError(study_path, "the audit could not be written (disk full)")

    monkeypatch.setattr("cobbdesk.core.sr.outputs.audit_log.record", refuse)
    with Study.open(study_path, actor="ann") as study, pytest.raises(StoreError, match="audit"):
        export_sr(study, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _audited_files(study_path) == audited
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".sr.")] == []
