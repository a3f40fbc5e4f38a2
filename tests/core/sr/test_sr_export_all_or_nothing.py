"""``export --format sr`` is all or nothing: one refused film writes no SR at all (the others
neither), nothing is audited, and a move that fails half-way puts back what the folder held."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from cobbdesk.cli.main import main
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import audit
from tests.core.sr.test_sr import _film, _measure


@pytest.fixture
def two_films(tmp_path: Path) -> tuple[Path, list[Path]]:
    (tmp_path / "films").mkdir()
    films = [_film(tmp_path / "films") for _ in range(2)]
    study_path = tmp_path / "s.cobbdesk"
    with Study.create(study_path, actor="ann") as study:
        import_paths(study, films)
        for record in study.films():
            study.save_measurement(record.id, _measure(record.sop_instance_uid, "ann"))
    return study_path, films


def _sr_exports(study_path: Path) -> int:
    with Study.open(study_path) as study, study.engine.connect() as conn:
        rows = conn.execute(select(audit.c.new_value).where(
            audit.c.entity == "export", audit.c.field == "format")).all()  # fmt: skip
    return sum(1 for (value,) in rows if "sr" in str(value))


def test_one_refused_film_writes_no_sr_at_all(
    two_films: tuple[Path, list[Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study_path, films = two_films
    shutil.copy(_film(tmp_path), films[1])  # another film (SOP Instance UID) under its name
    out = tmp_path / "sr"
    assert main(["export", str(study_path), "--format", "sr", "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "another SOP Instance UID" in captured.err
    assert "0 DICOM SR file(s) written" in captured.out
    assert not out.exists()  # the folder it created is removed again
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".sr.")] == []
    assert _sr_exports(study_path) == 0


def test_a_refused_export_removes_the_folders_it_created_and_keeps_one_given(
    two_films: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    study_path, films = two_films
    shutil.copy(_film(tmp_path), films[1])  # film #2 is refused
    with Study.open(study_path, actor="ann") as study:
        assert export_sr(study, tmp_path / "a" / "b" / "sr")[1] != []
        assert not (tmp_path / "a").exists()  # sr, b and a were made by the export
        (tmp_path / "given").mkdir()
        assert export_sr(study, tmp_path / "given" / "new" / "sr")[1] != []
        assert [p.name for p in (tmp_path / "given").iterdir()] == []  # "given" stays
        assert export_sr(study, tmp_path / "given")[1] != []
        assert (tmp_path / "given").is_dir()


def test_an_export_that_fails_or_has_nothing_to_write_leaves_no_new_folder(
    two_films: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    study_path, _ = two_films
    with Study.create(tmp_path / "empty.cobbdesk", actor="ann") as empty:
        assert export_sr(empty, tmp_path / "none" / "sr") == ([], [])
    assert not (tmp_path / "none").exists()

    def full(*_: object, **__: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("cobbdesk.core.sr.writer.tempfile.mkdtemp", full)
    with Study.open(study_path, actor="ann") as study, pytest.raises(Exception, match="space"):
        export_sr(study, tmp_path / "full" / "sr")
    assert not (tmp_path / "full").exists()


def test_the_whole_study_is_written_when_every_film_is_its_file(
    two_films: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    study_path, _ = two_films
    with Study.open(study_path, actor="ann") as study:
        files, problems = export_sr(study, tmp_path / "sr")
    assert problems == [] and len(files) == 2
    assert sorted(p.name for p in (tmp_path / "sr").iterdir()) == sorted(f.path.name for f in files)
    assert all(f.path.stat().st_mode & 0o777 == 0o600 for f in files)
    assert _sr_exports(study_path) == 2
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".sr.")] == []


def test_a_move_failing_half_way_puts_back_what_the_folder_held(
    two_films: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second export replaces the first's two reports (CobbDesk's own SRs of the same
    films): the first move replaces a report, the second fails, and the first report must be
    put back.  The test checks that the failing move was reached with a report already
    replaced (an export refused before any move would also leave the folder as it was)."""
    study_path, _ = two_films
    out = tmp_path / "sr"
    with Study.open(study_path, actor="ann") as study:
        assert len(export_sr(study, out)[0]) == 2
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real, moves_in, at_failure = os.replace, [], []

    def failing(src: object, dst: object) -> None:
        if Path(str(dst)).parent == out:
            moves_in.append(dst)
            if len(moves_in) == 2:
                at_failure.append({p.name: p.read_bytes() for p in out.iterdir()})
                raise OSError(5, "Input/output error")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr("cobbdesk.core.sr.outputs.os.replace", failing)
    with (
        Study.open(study_path, actor="ann") as study,
        pytest.raises(Exception, match="Input/output error"),
    ):
        export_sr(study, out)
    assert len(moves_in) >= 2 and len(at_failure) == 1  # the second move was reached...
    replaced = [name for name in before if at_failure[0][name] != before[name]]
    assert len(replaced) == 1  # ...with the first report already replaced
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # and put back
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".sr.")] == []
    assert _sr_exports(study_path) == 2  # the first export's audit rows only
