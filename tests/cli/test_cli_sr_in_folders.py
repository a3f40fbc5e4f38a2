"""``cobbdesk import STUDY FOLDER``: the SRs the folder walk meets (sub-folders included) are
imported as SRs after the films, each with its own line, never skipped silently as non-images;
other files that are no film stay listed as skipped; ``--json`` stays one JSON document."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cobbdesk.cli.main import main
from tests.cli.test_cli_sr_film_geometry import SQUARE_DEG, _angles, _film, _sr, _study


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """given/f.dcm, given/a/b/<sr>, given/notes.txt; the SR measures f.dcm (square 0.2 mm)."""
    made = tmp_path / "made"
    film = _film(made / "films" / "f.dcm", spacing="0.2\\0.2", aspect=None)
    sr = _sr(made, _study(made, film, measured=True))
    given = tmp_path / "given"
    (given / "a" / "b").mkdir(parents=True)
    shutil.copy(film, given / "f.dcm")
    shutil.copy(sr, given / "a" / "b" / "deep.sr.dcm")
    (given / "notes.txt").write_text("not a film")
    return given


def test_an_sr_in_a_sub_folder_is_imported_not_skipped(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "new.cobbdesk"
    capsys.readouterr()
    assert main(["import", str(study), str(folder), "--create"]) == 0
    out = capsys.readouterr().out
    assert "1 film(s) imported from 3 file(s)" in out and "1 non-image file(s) skipped" in out
    assert "deep.sr.dcm: 1 Cobb angle(s): 1 imported, 0 unchanged, 0 refused" in out
    assert "skipped: " in out and "notes.txt" in out and "skipped: " + str(folder / "a") not in out
    assert _angles(study) == [(pytest.approx(SQUARE_DEG, abs=1e-9), (0.2, 0.2), "PixelSpacing")]


def test_json_lists_the_folders_srs_as_reports(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "new.cobbdesk"
    capsys.readouterr()
    assert main(["import", str(study), str(folder), "--create", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [Path(r["file"]).name for r in data["reports"]] == ["deep.sr.dcm"]
    assert len(data["reports"][0]["imported"]) == 1
    assert all("deep.sr.dcm" not in str(s) for s in data["skipped"])


def test_an_sr_given_beside_a_folder_holding_another(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given_sr = tmp_path / "given.sr.dcm"
    shutil.copy(folder / "a" / "b" / "deep.sr.dcm", given_sr)
    study = tmp_path / "new.cobbdesk"
    capsys.readouterr()
    assert main(["import", str(study), str(given_sr), str(folder), "--create", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)  # nothing else on standard output
    names = sorted(Path(r["file"]).name for r in data["reports"])
    assert names == ["deep.sr.dcm", "given.sr.dcm"]
    assert sum(len(r["imported"]) + r["unchanged"] for r in data["reports"]) == 2
    assert len(_angles(study)) == 1  # the same measurement, once
