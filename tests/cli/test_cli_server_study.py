"""A server study given by URL to the study subcommands (a tester's find: ``import URL films/``
said "no such study file" — the URL was taken for a file name, its ``//`` folded by Path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.cli import main
from cobbdesk.cli.locations import study_location
from cobbdesk.core.store import Study
from cobbdesk.synth.dicom import write_dicom
from cobbdesk.synth.spine import make_lateral_spine

pytestmark = pytest.mark.postgres


@pytest.fixture
def films(tmp_path: Path) -> Path:
    folder = tmp_path / "films"
    folder.mkdir()
    spine = make_lateral_spine("lumbar", 40.0, rows=400, columns=320, spacing_mm=(0.6, 0.6))
    for n, day in enumerate(("20260105", "20260407"), start=1):
        write_dicom(spine, folder / f"f{n}.dcm", patient_id="MRN-1", study_date=day,
                    sop_instance_uid=f"1.2.3.{n}")  # fmt: skip
    return folder


def test_a_url_stays_as_written() -> None:
    url = "postgresql://rater_a@/trial?unix_sock=/run/pg/.s.PGSQL.5432"
    assert study_location(url) == url and isinstance(study_location(url), str)
    assert study_location("a/b.cobbdesk") == Path("a/b.cobbdesk")


def test_import_into_an_existing_server_study(
    pg_url: str, films: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Study.create(pg_url, actor="admin").close()
    assert main(["import", pg_url, str(films)]) == 0
    out, err = capsys.readouterr()
    assert "2 film(s) imported" in out and err == ""
    # --create on a database that already holds the study opens it (as for a file)
    assert main(["import", pg_url, str(films), "--create"]) == 0
    out, _ = capsys.readouterr()
    assert "duplicate" in out.lower() or "already" in out.lower()
    assert main(["verify", pg_url]) == 0
    with Study.open(pg_url) as study:
        assert len(study.films()) == 2


def test_import_create_makes_the_server_study(pg_url: str, films: Path) -> None:
    assert main(["import", pg_url, str(films), "--create"]) == 0
    with Study.open(pg_url) as study:
        assert len(study.films()) == 2
