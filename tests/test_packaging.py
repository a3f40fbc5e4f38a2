"""The installation self-test, and the frozen bundle smoke test (when PyInstaller is installed)."""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cobbdesk.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_selftest_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["selftest", "--output", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.strip().endswith("selftest: OK")
    with (tmp_path / "selftest.csv").open(encoding="utf-8-sig") as handle:
        (row,) = csv.DictReader(handle)
    assert float(row["angle_deg"]) == pytest.approx(17.5, abs=0.01)


def test_demo_command_writes_a_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", str(tmp_path / "demo")]) == 0
    assert (tmp_path / "demo" / "demo.cobbdesk").is_file()
    assert len(list((tmp_path / "demo" / "films").glob("*.dcm"))) == 48


def test_spec_never_collects_test_data() -> None:
    lines = (ROOT / "packaging" / "cobbdesk.spec").read_text(encoding="utf-8").splitlines()
    code = "\n".join(line.split("#")[0] for line in lines)
    assert "shared/data" not in code and "../shared" not in code and ".dcm" not in code
    (datas,) = [line for line in code.splitlines() if "datas=" in line]
    assert '"resources" / "cobbdesk.svg"' in datas and "tests" not in datas


@pytest.mark.skipif(
    importlib.util.find_spec("PyInstaller") is None,
    reason="PyInstaller is not installed (bash packaging/build_bundle.sh installs it)",
)
def test_frozen_bundle_smoke(tmp_path: Path) -> None:
    dist, work = tmp_path / "dist", tmp_path / "build"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "ERROR",
            "--distpath",
            str(dist),
            "--workpath",
            str(work),
            str(ROOT / "packaging" / "cobbdesk.spec"),
        ],
        check=True,
        cwd=ROOT,
        timeout=1800,
    )
    exe = dist / "cobbdesk" / ("cobbdesk.exe" if os.name == "nt" else "cobbdesk")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    version = subprocess.run(
        [str(exe), "--version"], capture_output=True, text=True, env=env, check=True, timeout=120
    )
    assert version.stdout.startswith("cobbdesk ")
    selftest = subprocess.run(
        [str(exe), "selftest", "--output", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert selftest.returncode == 0, selftest.stderr
    shipped = [p for p in (dist / "cobbdesk").rglob("*.dcm") if "palettes" not in p.parts]
    assert shipped == [], "DICOM test data must never ship (pydicom's palettes are library data)"
    shared_names = {p.name for p in (ROOT.parent / "shared" / "data").rglob("*") if p.is_file()}
    bundled_names = {p.name for p in (dist / "cobbdesk").rglob("*") if p.is_file()}
    assert not (shared_names - {"README.md", "LICENSE"}) & bundled_names
