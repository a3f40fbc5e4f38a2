"""An SR export refusal names each refused film once, not once per rater on the film (breaker 7).

Angle by hand (tests/core/sr/test_sr.py): 2·atan2(10, 40) = 28.0724869° lordosis."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from tests.core.sr.test_sr import _film, _measure


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


def test_a_refused_film_is_named_once_whatever_its_raters(
    exported: tuple[Path, Path, list[Path]], tmp_path: Path
) -> None:
    study_path, _, films = exported
    with Study.open(study_path, actor="ann") as study:
        first = study.films()[0]
        study.save_measurement(first.id, _measure(first.sop_instance_uid, "bob"))
    films[0].rename(tmp_path / "moved.dcm")
    with Study.open(study_path, actor="ann") as study:
        files, problems = export_sr(study, tmp_path / "again")
    assert files == [] and len(problems) == 1 and f"film #{first.id}" in problems[0]
