"""One walker for open, drop, import and relink: core.importing.films."""

from __future__ import annotations

from pathlib import Path

from cobbdesk.core.importing.films import film_files, may_be_dicom
from cobbdesk.core.importing.scan import collect_files

PREAMBLE = bytes(128) + b"DICM" + bytes(64)
NO_PREAMBLE = b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100" + bytes(32)  # (0008,0005) first


def test_the_walker_takes_what_the_import_takes(tmp_path: Path) -> None:
    folder = tmp_path / "moved" / "deep"
    folder.mkdir(parents=True)
    (folder / "IM000001.IMA").write_bytes(PREAMBLE)
    (folder / "1.2.840.113619.2.55.3.604688").write_bytes(PREAMBLE)  # a UID-named file
    (folder / "legacy").write_bytes(NO_PREAMBLE)
    (folder / "viewer.exe").write_bytes(b"MZ" + bytes(200))
    (folder / "notes.txt").write_text("not a film")
    (folder / ".hidden.dcm").write_bytes(PREAMBLE)
    found, issues = film_files([tmp_path / "moved"])
    assert sorted(p.name for p in found) == ["1.2.840.113619.2.55.3.604688", "IM000001.IMA",
                                             "legacy"]  # fmt: skip
    assert issues == []
    every, _ = collect_files([tmp_path / "moved"])  # the import's own walk sees them all
    assert set(found) <= set(every)


def test_a_file_named_by_the_user_is_kept_and_missing_paths_are_reported(tmp_path: Path) -> None:
    chosen = tmp_path / "scan.txt"
    chosen.write_text("the user picked it: opening it says what is wrong")
    found, issues = film_files([chosen, tmp_path / "gone"])
    assert found == [chosen.resolve()]
    assert [i.message for i in issues] == ["no such file or folder"]
    assert not may_be_dicom(tmp_path / "gone") and not may_be_dicom(chosen)


def test_study_film_path_anchors_relative_paths_at_a_file_study_only(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from cobbdesk.core.importing.films import study_film_path

    made = tmp_path / "made"
    (made / "demo" / "films").mkdir(parents=True)
    film = made / "demo" / "films" / "a.dcm"
    film.write_bytes(PREAMBLE)
    study_file = made / "demo" / "s.cobbdesk"  # an older study: paths relative to made/
    file_study = SimpleNamespace(server=None, path=study_file)
    assert study_film_path(file_study, "demo/films/a.dcm") == film  # type: ignore[arg-type]
    assert study_film_path(file_study, "films/a.dcm") == film  # type: ignore[arg-type]
    assert study_film_path(file_study, str(film)) == film  # type: ignore[arg-type]
    # a server study has no folder: a relative path is taken as it is (from the working folder)
    server = SimpleNamespace(server=object(), path=study_file)
    assert study_film_path(server, "films/a.dcm") == Path("films/a.dcm").resolve()  # type: ignore[arg-type]
