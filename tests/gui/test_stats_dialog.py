"""Study > Statistics: the full report in a QTextBrowser, printed to PDF on A4 and Letter."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import pytest

from cobbdesk.core.store import Study
from cobbdesk.gui.study.stats_dialog import StatsDialog
from tests.core.export.conftest import build_fixture_study

# ISO 216 A4 210 × 297 mm and ANSI Letter 8.5 × 11 in, in PostScript points (1/72 in).
A4_PT = (210 / 25.4 * 72, 297 / 25.4 * 72)  # 595.3 × 841.9
LETTER_PT = (8.5 * 72, 11 * 72)  # 612 × 792


@pytest.fixture
def dialog(qtbot, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = build_fixture_study(tmp_path / "fixture.cobbdesk")
    with Study.open(path, actor="tester") as study:
        shown = StatsDialog(None, study)
        qtbot.addWidget(shown)
        qtbot.waitUntil(lambda: not shown.computing, timeout=30_000)  # off the UI thread
        yield shown


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    """Width and height (pt) of every page's MediaBox, from the PDF's objects (Qt writes
    them uncompressed; compressed object streams are inflated to be sure)."""
    text = pdf.decode("latin-1")
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            text += zlib.decompress(stream).decode("latin-1")
        except zlib.error:
            continue
    boxes = re.findall(r"/Type\s*/Page\b.*?/MediaBox\s*\[([^\]]*)\]", text, re.S)
    sizes = []
    for box in boxes:
        x0, y0, x1, y1 = (float(v) for v in box.split())
        sizes.append((x1 - x0, y1 - y0))
    return sizes


def test_browser_shows_table1_and_the_wilcoxon_table(dialog: StatsDialog) -> None:
    text = dialog.browser.toPlainText()
    assert "Table 1. Variables and their correlation with VAS" in text
    assert "Table 2. Admission vs month 3 (Wilcoxon signed-rank)" in text
    # the Wilcoxon row of the cervical angle as the summary states it (n 7, W 1, Z -1.99)
    assert "Cervical Cobb angle C2–C7: n = 7 pairs, W = 1, Z = -1.99, p = 0.046" in (
        dialog.text.toPlainText()
    )
    table2 = text.split("Table 2.")[1].split("Table 3.")[0]
    assert "7 (0)" in table2 and "-1.99" in table2 and "0.046" in table2
    # the figures are decoded from their data: URIs and sized for the screen
    assert dialog.browser.document().toHtml().count("<img") == 5
    assert 'width="640"' in dialog.browser.document().toHtml()


def test_refused_policy_empties_the_report(qtbot, dialog: StatsDialog, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog.raters.setCurrentText("consensus")
    qtbot.waitUntil(lambda: not dialog.computing, timeout=30_000)
    assert "needs an adjudicator" in dialog.text.toPlainText()
    assert dialog.browser.toPlainText() == ""
    assert dialog.save_pdf_to(tmp_path / "none.pdf") == 0
    assert not (tmp_path / "none.pdf").exists()


@pytest.mark.parametrize(("page", "size"), [("A4", A4_PT), ("Letter", LETTER_PT)])
def test_save_as_pdf_page_size(
    dialog: StatsDialog, tmp_path: Path, page: str, size: tuple[float, float]
) -> None:
    target = tmp_path / f"report_{page}.pdf"
    dialog.page.setCurrentText(page)
    pages = dialog.save_pdf_to(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = _pages(data)
    assert pages >= 1 and len(boxes) == pages
    for width, height in boxes:
        assert width == pytest.approx(size[0], abs=1.0)
        assert height == pytest.approx(size[1], abs=1.0)
