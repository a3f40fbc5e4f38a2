"""OHIF Cobb angles name no endplates: their template — the column a number lands in — is the
one the user names (``--sr-template``), never guessed on a cervical or lumbar film
(:mod:`cobbdesk.core.sr.template`).

Angle by hand: lines (100, 100)→(140, 110) and (100, 300)→(140, 290) on square pixels, film
facing left: 2·atan(10/40) = 28.0724869° lordosis (tests/core/sr/test_sr.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from cobbdesk.cli.main import main
from cobbdesk.cli.study import SR_TEMPLATES
from cobbdesk.core.importing.importer import import_paths
from cobbdesk.core.sr.reader import SrImportReport, import_report
from cobbdesk.core.sr.template import CHOICES
from cobbdesk.core.sr.writer import export_sr
from cobbdesk.core.store import Study
from tests.conftest import make_dataset
from tests.core.sr.ohif import ohif_cobb_sr
from tests.core.sr.test_sr import LORDOSIS_DEG, _measure

POINTS = [(140.5, 290.5), (100.5, 300.5), (140.5, 110.5), (100.5, 100.5)]  # SCOORD


def _case(folder: Path, body_part: str) -> tuple[Path, Path]:
    ds = make_dataset(np.zeros((400, 300), np.uint16), PatientOrientation=["P", "F"],
                      BodyPartExamined=body_part)  # fmt: skip
    film = folder / f"{body_part or 'none'}.dcm"
    ds.save_as(film, enforce_file_format=True)
    sr = folder / f"{body_part or 'none'}.sr.dcm"
    ohif_cobb_sr(pydicom.dcmread(film), POINTS, LORDOSIS_DEG).save_as(sr, enforce_file_format=True)
    return film, sr


def _imported(
    tmp_path: Path, body_part: str, template: str | None
) -> tuple[list[tuple[str, float]], SrImportReport]:
    film, sr = _case(tmp_path, body_part)
    with Study.create(tmp_path / f"s{body_part}{template}.cobbdesk", actor="ann") as study:
        import_paths(study, [film])
        report = import_report(study, sr, template=template)
        found = [(m.template.value, round(m.angle, 7)) for m in study.measurements()]
    return found, report


def test_not_named_on_a_cervical_film_is_refused_naming_the_option(tmp_path: Path) -> None:
    found, report = _imported(tmp_path, "CSPINE", None)
    assert found == []
    (error,) = report.errors
    assert "film #1 is a cervical film and this OHIF Cobb angle names no endplates" in error
    assert "--sr-template C2-C7 (or region)" in error and "--sr-template FREE" in error


@pytest.mark.parametrize(("body_part", "template"), [("CSPINE", "C2-C7"), ("LSPINE", "L1-S1")])
def test_region_takes_each_films_region_template(
    tmp_path: Path, body_part: str, template: str
) -> None:
    found, report = _imported(tmp_path, body_part, "region")
    assert found == [(template, round(LORDOSIS_DEG, 7))]
    assert not [w for w in report.warnings if "recorded as" in w]


def test_a_template_of_the_other_region_is_refused(tmp_path: Path) -> None:
    found, report = _imported(tmp_path, "CSPINE", "L1-S1")
    assert found == []
    assert "recorded as cervical; --sr-template L1-S1 is a lumbar template" in report.errors[0]


def test_free_named_on_a_cervical_film_is_imported_with_the_region_warning(
    tmp_path: Path,
) -> None:
    found, report = _imported(tmp_path, "CSPINE", "FREE")
    assert found == [("FREE", round(LORDOSIS_DEG, 7))]
    assert any("a FREE (no region) measurement on a film recorded as cervical" in w
               for w in report.warnings)  # fmt: skip


@pytest.mark.parametrize("template", [None, "region"])
def test_a_film_of_unknown_region_takes_free(tmp_path: Path, template: str | None) -> None:
    found, report = _imported(tmp_path, "", template)
    assert found == [("FREE", round(LORDOSIS_DEG, 7))] and report.ok


def test_cobbdesks_own_sr_keeps_its_recorded_template(tmp_path: Path) -> None:
    film, _ = _case(tmp_path, "LSPINE")
    with Study.create(tmp_path / "a.cobbdesk", actor="ann") as study:
        import_paths(study, [film])
        (record,) = study.films()
        study.save_measurement(record.id, _measure(record.sop_instance_uid, "ann"))  # C2-C7
        (written,), _ = export_sr(study, tmp_path / "out")
    with Study.create(tmp_path / "b.cobbdesk", actor="ann") as fresh:
        import_paths(fresh, [film])
        report = import_report(fresh, written.path, template="L1-S1")
        assert [m.template.value for m in fresh.measurements()] == ["C2-C7"]
    assert any("C2-C7 (cervical) measurement on a film recorded as lumbar" in w
               for w in report.warnings)  # fmt: skip


def test_the_cli_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert SR_TEMPLATES == CHOICES
    film, sr = _case(tmp_path, "CSPINE")
    study = tmp_path / "s.cobbdesk"
    assert main(["import", str(study), str(film), str(sr), "--create"]) == 1
    assert "--sr-template C2-C7" in capsys.readouterr().err
    assert main(["import", str(study), str(sr), "--sr-template", "region"]) == 0
    with Study.open(study) as opened:
        assert [m.template.value for m in opened.measurements()] == ["C2-C7"]
