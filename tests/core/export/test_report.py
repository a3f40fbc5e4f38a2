"""The HTML report embeds its plots and writes each as PNG and SVG next to it."""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import pytest

from cobbdesk.cli import main
from cobbdesk.core.store import Study


def test_report_files(
    fixture_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.html"
    assert main(["stats", str(fixture_study), "--report", str(report)]) == 0
    assert "report:" in capsys.readouterr().out
    html = report.read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == 5  # 2 regions, VAS/NLR, 2 Bland–Altman
    assert "@media print" in html and "Table 1" in html and "ICC(A,1)" in html
    encoded = html.split('src="data:image/png;base64,')[1].split('"')[0]
    assert base64.b64decode(encoded).startswith(b"\x89PNG")
    for key in ("cervical_paired", "lumbar_paired", "vas_nlr", "cervical_bland_altman"):
        assert (tmp_path / f"report_{key}.png").read_bytes().startswith(b"\x89PNG")
        assert b"<svg" in (tmp_path / f"report_{key}.svg").read_bytes()


def test_report_of_empty_study(tmp_path: Path) -> None:
    Study.create(tmp_path / "e.cobbdesk").close()
    assert main(["stats", str(tmp_path / "e.cobbdesk"), "--report", str(tmp_path / "r.html")]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "not computable: the study has no patients" in html
    assert "No rater measured." in html and "one rater" not in html
    text = re.sub(r"base64,[^\"]*", "", html)
    assert "nan" not in text.lower()
    assert (tmp_path / "r_vas_nlr.svg").exists()


def test_export_cli(
    fixture_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "w.csv"
    assert main(["export", str(fixture_study), "--format", "wide", "-o", str(out)]) == 0
    assert "8 rows, de-identified wide, raters mean, sha256 " in capsys.readouterr().out
    assert main(["export", str(fixture_study), "--format", "wide", "-o", str(out),
                 "--raters", "each"]) == 0  # fmt: skip
    assert "12 rows, de-identified wide, raters each, sha256 " in capsys.readouterr().out
    assert main(["export", str(fixture_study), "--format", "wide", "-o", str(out),
                 "--raters", "Z"]) == 1  # fmt: skip
    assert "rater 'Z' has no measurement in this study (raters: A, B)" in capsys.readouterr().err
    bad = tmp_path / "missing" / "w.csv"
    assert main(["export", str(fixture_study), "--format", "wide", "-o", str(bad)]) == 1
    assert f"cannot write w.csv: the folder {bad.parent} does not exist" in capsys.readouterr().err


def test_core_modules_do_not_import_pyplot_or_qt() -> None:
    import subprocess

    code = ("import sys, cobbdesk.core.export, cobbdesk.core.export.writers; "
            "print(any(m.startswith(('matplotlib', 'PySide6')) for m in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_report_figures_and_stats_json_are_private(
    fixture_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os
    import stat

    out = tmp_path / "out"
    out.mkdir()
    old = os.umask(0o022)  # a umask that would leave 0644 files
    try:
        assert main(["stats", str(fixture_study), "--report", str(out / "r.html")]) == 0
        args = ["export", str(fixture_study), "--format", "long", "-o", str(out / "l.csv")]
        assert main([*args, "--stats-json", str(out / "s.json")]) == 0
    finally:
        os.umask(old)
    names = sorted(p.name for p in out.iterdir())
    assert {"r.html", "r_vas_nlr.png", "r_vas_nlr.svg", "s.json", "l.csv"} <= set(names)
    assert not [n for n in names if n.startswith(".")]  # no temporary file left
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
