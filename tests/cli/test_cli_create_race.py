"""Two ``cobbdesk import STUDY --create`` started together on a new study (a tester's find):
creation is atomic, so one creates the study and the other opens it — neither meets an empty
or half-made file ("the file is empty", "no 'meta' table"); the import that writes second
plans again from what the first stored (it met a UNIQUE constraint: "internal error
(IntegrityError)"), so the films are in once and both succeed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import Study, dialect
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("film")
    spine = make_lateral_spine("lumbar", 40.0, rows=400, columns=320, spacing_mm=(0.6, 0.6))
    write_dicom(spine, folder / "f1.dcm", patient_id="MRN-1", study_date="20260105",
                sop_instance_uid="1.2.3.1")  # fmt: skip
    return folder / "f1.dcm"


@pytest.mark.parametrize("round_", range(4))
def test_two_creating_imports_at_once(tmp_path: Path, film: Path, round_: int) -> None:
    study = tmp_path / f"race{round_}.cobbdesk"
    command = [sys.executable, "-m", "cobbdesk", "import", str(study), str(film), "--create"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env) for _ in range(2)]  # fmt: skip
    results = [run.communicate(timeout=120) for run in runs]
    for run, (_out, err) in zip(runs, results, strict=True):
        assert run.returncode == 0, err
        assert "empty" not in err and "meta" not in err
    with Study.open(study) as opened:
        assert len(opened.films()) == 1
    own = {study.name, f"{study.name}-wal", f"{study.name}-shm"}
    left = {p.name for p in tmp_path.iterdir()} - own
    assert left == set()  # no temporary file of the creation is left


def test_a_failed_build_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "s.cobbdesk"

    def build(_tmp: Path) -> None:
        raise OSError("disk full while writing")

    with pytest.raises(OSError, match="disk full"):
        dialect.publish_new_file(target, build)
    assert list(tmp_path.iterdir()) == []


def test_create_refuses_an_existing_name_and_keeps_it(tmp_path: Path) -> None:
    target = tmp_path / "s.cobbdesk"
    target.write_bytes(b"someone else's file")
    with pytest.raises(StoreError, match="already exists"):
        Study.create(target)
    assert target.read_bytes() == b"someone else's file"
    assert [p.name for p in tmp_path.iterdir()] == ["s.cobbdesk"]


def test_a_created_study_is_private_and_complete(tmp_path: Path) -> None:
    target = tmp_path / "s.cobbdesk"
    Study.create(target, actor="dr_a").close()
    assert target.stat().st_mode & 0o777 == 0o600
    with Study.open(target) as opened:
        assert opened.verify_integrity().ok
        assert opened.patients() == []
