"""Study > Export study data as a user goes through it: identified behind a confirmation,
the export off the UI thread with progress, the folder opened afterwards (issue #13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.study.export_dialog import ExportDialog
from tests.core.export.conftest import build_fixture_study


@pytest.fixture
def study(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = build_fixture_study(tmp_path / "fixture.cobbdesk")
    with Study.open(path, actor="tester") as opened:
        yield opened


def test_identified_needs_a_confirmation(qtbot, study: Study) -> None:  # type: ignore[no-untyped-def]
    dialog = ExportDialog(None, study)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.loading)  # the raters are read off the UI thread
    asked: list[bool] = []
    dialog.confirm_identified = lambda _parent: (asked.append(True), False)[1]
    dialog.identified.setChecked(True)
    assert asked == [True] and not dialog.identified.isChecked()  # said no: stays de-identified
    dialog.confirm_identified = lambda _parent: True
    dialog.identified.setChecked(True)
    assert dialog.identified.isChecked()


def test_export_runs_in_the_background_then_opens_the_folder(
    qtbot, study: Study, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    dialog = ExportDialog(None, study)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.loading)  # the raters are read off the UI thread
    opened: list[Path] = []
    dialog.reveal = opened.append
    dialog.format.setCurrentText("xlsx")
    target = tmp_path / "out" / "w.xlsx"
    target.parent.mkdir()
    with qtbot.waitSignal(dialog.accepted, timeout=60000):
        dialog.start_export(target)
    assert target.is_file() and opened == [target]
    assert dialog.result_ is not None and dialog.result_.rows == 8
    assert target.stat().st_mode & 0o777 == 0o600


def test_a_failed_export_is_shown_and_leaves_no_file(
    qtbot, study: Study, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda _parent, _title, text: shown.append(text))
    dialog = ExportDialog(None, study)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.loading)  # the raters are read off the UI thread
    dialog.reveal = lambda _path: pytest.fail("no folder is opened after a failure")
    dialog.raters.setCurrentText("consensus")  # the fixture study has no adjudicator
    job = dialog.start_export(tmp_path / "c.csv")
    with qtbot.waitSignal(job.failed, timeout=60000):
        pass
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert "needs an adjudicator" in shown[0] and not (tmp_path / "c.csv").exists()
