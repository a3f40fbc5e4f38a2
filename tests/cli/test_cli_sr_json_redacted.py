"""Every string of a ``--json`` document passes redaction, whatever its key
(:func:`cobbdesk.cli.output.redact_files`): ``cobbdesk import STUDY SR --json`` listed its
``errors`` (the missing film's path, in a folder named after the patient) unredacted while
stderr was redacted (breaker 7)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cobbdesk.cli.main import main
from cobbdesk.cli.output import redact_files
from cobbdesk.core.redact import MASK, remember
from tests.cli.test_cli_sr_film_geometry import _film, _sr, _study

IDENTIFIERS = ("Burns", "Montgomery", "1945-03-15")  # the films' patient (_film)


def test_the_sr_imports_json_errors_are_redacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "Burns Montgomery 1945-03-15"
    film = _film(folder / "p.dcm", spacing="0.2\\0.2", aspect=None)
    study = _study(tmp_path, film, measured=True)
    sr = _sr(tmp_path, study)
    shutil.move(folder, tmp_path / "moved")
    capsys.readouterr()
    assert main(["import", str(study), str(sr), "--json"]) == 1
    captured = capsys.readouterr()
    (report,) = json.loads(captured.out)["reports"]
    (error,) = report["errors"]
    assert "is missing" in error and MASK in error
    assert not [word for word in IDENTIFIERS if word in captured.out + captured.err]


def test_every_string_at_any_depth_is_redacted_numbers_and_keys_kept() -> None:
    remember(["Doe^Jane", "MRN4455667"])
    data = {"reports": [{"errors": ["a/Doe Jane/f.dcm: missing"], "notes": {"x": "MRN4455667"},
                         "angle": 12.5, "ok": False, "id": None, "pair": ("Jane Doe", 2)}],
            "audit_head": "12:ab20201231cd"}  # fmt: skip
    assert redact_files(data) == {
        "reports": [{"errors": [f"a/{MASK}/f.dcm: missing"], "notes": {"x": MASK},
                     "angle": 12.5, "ok": False, "id": None, "pair": [MASK, 2]}],
        "audit_head": "12:ab20201231cd",
    }  # fmt: skip


def test_the_new_visits_dates_are_kept() -> None:
    # a visit date is no identifier: masking it would make the report wrong (before the
    # structural rule it was not redacted either)
    data = {"new_visits": ["P0001 admission 2026-01-05"], "audit_head": "3:20260105ab"}
    assert redact_files(data) == data
