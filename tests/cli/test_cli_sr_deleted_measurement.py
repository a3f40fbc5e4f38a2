"""An SR holding a measurement the study has since soft-deleted does not bring it back, and
says so: the import reported "1 imported" (and ``--json`` ``imported``) though nothing was
written (breaker 7).  A neurosurgeon who deleted an angle expects it to stay deleted."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.store import Study
from tests.cli.test_cli_sr_film_geometry import SQUARE_DEG, _angles, _film, _sr, _study


@pytest.fixture
def deleted(tmp_path: Path) -> tuple[Path, Path]:
    """(study, SR): the SR exported while the study held its one measurement, since deleted."""
    study = _study(tmp_path, _film(tmp_path / "films" / "f.dcm", spacing="0.2\\0.2",
                                   aspect=None), measured=True)  # fmt: skip
    assert _angles(study) == [(pytest.approx(SQUARE_DEG, abs=1e-9), (0.2, 0.2), "PixelSpacing")]
    sr = _sr(tmp_path, study)
    with Study.open(study) as opened:
        (m,) = opened.measurements()
        opened.delete_measurement(m.id, reason="wrong endplate")
    return study, sr


def test_the_deleted_measurement_stays_deleted_and_the_line_says_so(
    deleted: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    study, sr = deleted
    capsys.readouterr()
    assert main(["import", str(study), str(sr)]) == 0
    captured = capsys.readouterr()
    assert (": 1 Cobb angle(s): 0 imported, 0 unchanged, 1 deleted in the study (not "
            "imported), 0 refused") in captured.out  # fmt: skip
    assert re.search(r"group 1: measurement [0-9a-f-]+ was deleted from the study on \d\d? "
                     r"[A-Z][a-z]{2} \d{4} \d\d:\d\d UTC; not imported", captured.err)  # fmt: skip
    assert _angles(study) == []


def test_json_lists_it_as_deleted_not_imported(
    deleted: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    study, sr = deleted
    capsys.readouterr()
    assert main(["import", str(study), str(sr), "--json"]) == 0
    (report,) = json.loads(capsys.readouterr().out)["reports"]
    assert report["imported"] == [] and report["unchanged"] == 0
    (gone,) = report["deleted"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", gone["deleted_utc"])
    assert _angles(study) == []
