"""``cobbdesk server init`` and ``cobbdesk copy``: file -> server -> file gives the same rows in
every table (audit included, proved by ``verify --same-as``) and byte-identical exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.store import Study
from tests.core.export.conftest import build_fixture_study

pytestmark = pytest.mark.postgres


def test_copy_round_trip_file_server_file(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = build_fixture_study(tmp_path / "source.cobbdesk")
    back = tmp_path / "back.cobbdesk"
    assert main(["copy", str(source), pg_url]) == 0
    assert main(["copy", pg_url, str(back)]) == 0
    assert "the copy equals the source" in capsys.readouterr().out
    assert main(["verify", str(source), "--same-as", pg_url]) == 0
    assert main(["verify", pg_url, "--same-as", str(back)]) == 0
    assert "every table and the audit head are equal" in capsys.readouterr().out
    with Study.open(source) as a, Study.open(back) as b, Study.open(pg_url) as s:
        assert a.verify_integrity().head == b.verify_integrity().head == s.verify_integrity().head
    outputs = {}
    for name, where in (("file", source), ("server", pg_url), ("back", back)):
        out = tmp_path / f"{name}.csv"
        assert main(["export", str(where), "--format", "wide", "-o", str(out)]) == 0
        outputs[name] = out.read_bytes()
    assert outputs["file"] == outputs["server"] == outputs["back"]
    assert b"Doe" not in outputs["server"]  # de-identified by default, on the server too


def test_copy_refuses_a_destination_holding_a_study(tmp_path: Path, pg_url: str) -> None:
    assert main(["server", "init", pg_url, "--rater-role"]) == 0
    source = build_fixture_study(tmp_path / "source.cobbdesk")
    assert main(["copy", str(source), pg_url]) == 1
    assert main(["copy", pg_url, str(source)]) == 1  # an existing file is never overwritten


def test_verify_names_what_differs(tmp_path: Path, pg_url: str, capsys: Any) -> None:
    source = build_fixture_study(tmp_path / "source.cobbdesk")
    assert main(["copy", str(source), pg_url]) == 0
    with Study.open(pg_url) as study:
        study.add_patient("P0999")
    assert main(["verify", str(source), "--same-as", pg_url]) == 1
    err = capsys.readouterr().err
    assert "patients: 6 rows vs 7" in err or "patients:" in err
    assert "audit head" in err
