"""Golden Table 1 and report of the fixture study; the paper conventions they must keep."""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.cli import main
from cobbdesk.core.export import analyse, load_long
from cobbdesk.core.export.figures import box_stats
from cobbdesk.core.export.policy import MEAN
from cobbdesk.core.export.report import table1, write_report
from cobbdesk.core.store import Study

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden"


def _golden(name: str, text: str) -> None:
    if os.environ.get("COBBDESK_UPDATE_GOLDEN"):
        (GOLDEN / name).write_text(text, encoding="utf-8")
    assert text == (GOLDEN / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def analysis(fixture_study: Path):  # type: ignore[no-untyped-def]
    with Study.open(fixture_study) as study:
        return analyse(load_long(study), MEAN)


def test_table1_golden_and_layout(analysis) -> None:  # type: ignore[no-untyped-def]
    text = table1(analysis)
    _golden("table1.html", text + "\n")
    header = re.findall(r"<th[^>]*>([^<]*)</th>", text)
    assert header == ["Variable", "Visit", "n", "Max", "Min", "Mean", "SD", "r vs VAS", "p"]
    assert text.count("<table>") == 1
    # VAS is an integer score: max/min without decimals, mean/SD with one (9 and 4, 6.6)
    vas = text.split("VAS pain score")[1].split("</tr>")[0]
    assert "<td>9</td><td>4</td><td>6.6</td>" in vas
    assert "<td>&lt;0.001</td>" in text and "0.000<" not in text
    assert "* p &lt; 0.05; ** p &lt; 0.01" in text or "* p < 0.05; ** p < 0.01" in text
    assert "rmcorr" in text and "0.94**" in text  # neutrophils over both visits


def test_report_golden_without_images(analysis, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "report.html"
    written = write_report(analysis, report, title="Fixture study")
    html = report.read_text(encoding="utf-8")
    stripped = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,…", html)
    _golden("report.html", stripped + "\n")
    assert "p = &lt;" not in html and "p = <" not in html
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", html)
    assert [c.split(".")[0] for c in captions] == [f"Figure {i}" for i in range(1, 6)]
    assert all("n = " in c for c in captions)
    assert "Wilcoxon signed-rank p = 0.046" in captions[0]
    assert "Rater policy mean" in html and "rounded to 9 decimals before ranking" in html
    assert "Several raters" not in html
    png = next(p for p in written if p.name == "report_cervical_paired.png").read_bytes()
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1800, 1350)  # 6 x 4.5 inches at 300 dpi
    ppm = struct.unpack(">II", png[png.index(b"pHYs") + 4 : png.index(b"pHYs") + 12])
    assert ppm == (11811, 11811)  # 300 dpi in pixels per metre


def test_box_quartiles_follow_the_tables() -> None:
    # 1..8: weighted average at p(n+1) gives Q1 = 2.25, Q3 = 6.75 (linear interpolation,
    # matplotlib's default, would give 2.75 and 6.25)
    stats = box_stats(np.arange(1.0, 9.0), "x")
    assert (stats["q1"], stats["med"], stats["q3"]) == (2.25, 4.5, 6.75)
    assert (stats["whislo"], stats["whishi"]) == (1.0, 8.0)


def test_one_rater_report_does_not_claim_several(tmp_path: Path, fixture_study: Path) -> None:
    with Study.open(fixture_study) as study:
        long = load_long(study)
    one = analyse(long[long["rater"] != "B"], MEAN)
    write_report(one, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "one rater measured" in html and "Several raters" not in html


def test_cli_uses_the_paper_p_format(
    fixture_study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["stats", str(fixture_study)]) == 0
    out = capsys.readouterr().out
    assert "p = 0.0000" not in out and "p = <" not in out
    assert "p < 0.001" in out  # neutrophils vs VAS over both visits
    assert "cervical_cobb: n = 7 pairs (1 zero), W = 1, Z = -1.992, p = 0.046" in out
