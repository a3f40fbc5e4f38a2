"""``cobbdesk film STUDY --list`` finds an older study's relative film path as every film of
the study is found (``core.importing.films.study_film_path``: anchored at the study file),
never in the working folder the command runs in."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.cli import main
from cobbdesk.core.store import Study
from tests.conftest import make_dataset

UID = "1.2.840.1.9"


def _film(path: Path, spacing: tuple[float, float]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = (np.arange(32 * 32).reshape(32, 32) % 4096).astype(np.uint16)
    make_dataset(pixels, pixel_spacing=spacing).save_as(path, enforce_file_format=True)


def test_list_reads_the_studys_own_relative_film_not_the_working_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home, elsewhere = tmp_path / "study", tmp_path / "elsewhere"
    _film(home / "films" / "x.dcm", (0.15, 0.15))  # the study's own film
    _film(elsewhere / "films" / "x.dcm", (0.3, 0.3))  # a decoy of another spacing
    path = home / "s.cobbdesk"
    with Study.create(path, actor="t") as study:
        vid = study.add_visit(study.add_patient("P0001"), "admission")
        study.add_film(vid, sop_instance_uid=UID, path=str(home / "films" / "x.dcm"))
    with sqlite3.connect(path) as conn:  # as an older version wrote it: relative
        conn.execute("UPDATE films SET path = 'films/x.dcm'")
    monkeypatch.chdir(elsewhere)
    assert main(["film", str(path), "--list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["spacing_mm"] == [0.15, 0.15]
    assert row["spacing_from"].startswith("header (")
