"""Paths the user chose — an export's output file or folder, the study's own file name — are
printed redacted once the study is open (a breaker's find: ``export -o .../Smithers_Waylon_x.csv``
named the patient on stdout when written; ``verify`` printed a study file named after a
patient).  An output refused before the study is opened (a missing folder):
tests/cli/test_cli_refused_before_open.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cobbdesk.core.store import Study

SECRETS = ("smithers", "waylon", "4455667")


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cobbdesk", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, check=False)  # fmt: skip


def _clean(text: str) -> None:
    assert not any(s in text.casefold() for s in SECRETS), text


def test_output_paths_and_study_names_are_redacted(tmp_path: Path) -> None:
    study = tmp_path / "Smithers_Waylon_MRN4455667.cobbdesk"
    with Study.create(study, actor="t") as created:
        created.add_patient("P001", name="SMITHERS^WAYLON", mrn="MRN4455667")
    (tmp_path / "out").mkdir()
    written = _run(["export", str(study), "--format", "wide", "-o",
                    str(tmp_path / "out" / "Smithers_Waylon_x.csv")], tmp_path)  # fmt: skip
    assert written.returncode == 0, written.stderr
    assert "[redacted]" in written.stdout and "1 rows" in written.stdout
    _clean(written.stdout + written.stderr)
    assert (tmp_path / "out" / "Smithers_Waylon_x.csv").is_file()  # the file keeps its name
    verified = _run(["verify", str(study)], tmp_path)
    assert verified.returncode == 0 and "database ok" in verified.stdout
    _clean(verified.stdout + verified.stderr)
    as_json = _run(["verify", str(study), "--json"], tmp_path)
    assert json.loads(as_json.stdout)["patients"] == 1
    _clean(as_json.stdout + as_json.stderr)
