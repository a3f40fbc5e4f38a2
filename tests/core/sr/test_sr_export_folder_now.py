"""An SR export into a folder holding CobbDesk's own earlier SRs of the study leaves the folder
describing the study as it is now: the earlier SR of a measurement deleted since is removed
(audited, listed), so importing the folder elsewhere does not bring it back (breaker 7); only
files provably CobbDesk's SRs of the exported films go.  Any other file at a report's name — a
plain file too — is left untouched and the export refused (README).  A refused film is named
once, not once per rater.

Angle by hand (tests/core/sr/test_sr.py): lines (100, 100)→(140, 110) and (100, 300)→(140, 290)
on square pixels, film facing left: 2·atan2(10, 40) = 28.0724869° lordosis."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cobbdesk.core.errors import ExportError
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from tests.core.sr.test_sr import _film, _measure

LORDOSIS_DEG = math.degrees(2 * math.atan2(10, 40))


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, Path, list[Path]]:
    """(study, SR folder, films): two films measured by ann, exported once."""
    (tmp_path / "films").mkdir()
    films = [_film(tmp_path / "films") for _ in range(2)]
    study_path = tmp_path / "s.cobbdesk"
    with Study.create(study_path, actor="ann") as study:
        import_paths(study, films)
        for record in study.films():
            study.save_measurement(record.id, _measure(record.sop_instance_uid, "ann"))
        files, problems = export_sr(study, tmp_path / "sr")
    assert problems == [] and len(files) == 2
    return study_path, tmp_path / "sr", films


def test_a_plain_file_at_a_reports_name_is_left_untouched_and_the_export_refused(
    exported: tuple[Path, Path, list[Path]],
) -> None:
    study_path, out, _ = exported
    first, _ = sorted(out.iterdir())
    first.write_text("hello")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with (
        Study.open(study_path, actor="ann") as study,
        pytest.raises(
            ExportError,
            match=r"is a file that is not CobbDesk's SR of film .*"
            r"left untouched\. Choose a new folder",
        ),  # fmt: skip
    ):
        export_sr(study, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
