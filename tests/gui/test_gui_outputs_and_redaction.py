"""GUI outputs never replace a study, and the film-error dialog is redacted (tester's finds).

Statistics ▸ Save report as PDF wrote over whatever file was chosen (a study became a PDF);
a failed film open showed its message raw (a file name carrying an MRN and a name).  Outputs
go through :func:`cobbdesk.core.private.check_target`; dialogs through ``redact``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cobbdesk.core import redact
from cobbdesk.core.errors import ExportError
from cobbdesk.core.private import check_target
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.study.report_print import pdf_printer
from cobbdesk.gui.workers import FilmLoader


def test_the_pdf_report_is_never_written_over_a_study(tmp_path: Path) -> None:
    study = tmp_path / "s.cobbdesk"
    Study.create(study, actor="t").close()
    before = study.read_bytes()
    with pytest.raises(ExportError, match="is a study"):
        pdf_printer(study, "A4")
    assert study.read_bytes() == before
    with pytest.raises(ExportError, match="companion file"):  # not existing yet: by its name
        check_target(tmp_path / "s.cobbdesk-journal")
    assert pdf_printer(tmp_path / "report.pdf", "A4") is not None  # a new name is fine


def test_a_failed_film_open_is_shown_redacted(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    redact.remember_patients(["Smithers^Waylon"], ["MRN4455667"])
    try:
        win = MainWindow(rater="t", loader=FilmLoader(isolated=False))
        qtbot.addWidget(win)
        path = tmp_path / "xMRN4455667Smithers_lat.dcm"
        path.write_bytes(b"not a film")
        win.open_paths([path])
        qtbot.waitUntil(lambda: bool(shown), timeout=10_000)
        text = " ".join([*shown, win.film_list.item(0).toolTip()])
        assert "MRN4455667" not in text and "Smithers" not in text
        assert "[redacted]" in shown[0]
    finally:
        redact.forget_all()
