"""Film ▸ Export as DICOM SR: an export refused because the film's file is missing says so in
the dialog, not "This film has no measurements to export" (breaker 7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.store import Study
from cobbdesk.gui import errors
from cobbdesk.gui.pacs.sr_dialog import SrExportDialog
from tests.core.sr.test_sr import _film, _measure


def test_a_missing_film_file_is_the_reason_shown(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(errors, "present", lambda _p, title, text: shown.append((title, text)))
    film_path = _film(tmp_path)
    with Study.create(tmp_path / "s.cobbdesk", actor="ann") as study:
        import_paths(study, [film_path])
        (film,) = study.films()
        study.save_measurement(film.id, _measure(film.sop_instance_uid, "ann"))
        film_path.rename(tmp_path / "moved.dcm")
        dialog = SrExportDialog(study, film)
        qtbot.addWidget(dialog)
        dialog.folder.setText(str(tmp_path / "sr"))
        dialog.export_button.click()
        qtbot.waitUntil(lambda: dialog.result_ is not None, timeout=30000)
        files, problems, _, _ = dialog.result_  # type: ignore[misc]
        dialog.done(0)
    status = dialog.status.text()
    assert files == [] and len(problems) == 1
    assert status.startswith("Nothing was written: ") and f"film #{film.id}" in status
    assert "missing" in status, status
    assert "no measurements" not in status
    assert shown and shown[0][0] == "Export as DICOM SR"
