"""An SR's own header identifiers (Patient's Name, Patient ID, Birth Date) are taught to
redaction before any line names it (:func:`cobbdesk.core.sr.identifiers.learn_identifiers`):
an SR of a patient not in the study, in a file named after them, printed
``Smithers_Waylon.sr.dcm: 1 Cobb angle(s)…`` and its error lines unredacted (breaker 7)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.redact import MASK
from tests.conftest import make_dataset
from tests.core.sr.ohif import ohif_cobb_sr

IDENTIFIERS = ("Smithers", "Waylon", "778899", "19610203", "1961-02-03")


def _sr(folder: Path) -> Path:
    """An OHIF SR of Smithers^Waylon on a film no study holds, named after him."""
    image = make_dataset(np.zeros((40, 30), np.uint16))
    ds = ohif_cobb_sr(image, [(10.5, 10.5), (20.5, 11.5), (10.5, 30.5), (20.5, 29.5)], 11.4)
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Smithers^Waylon", "778899", "19610203"
    path = folder / "778899 1961-02-03" / "Smithers_Waylon.sr.dcm"
    path.parent.mkdir(parents=True)
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("json_out", [False, True])
def test_the_srs_own_patient_is_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], json_out: bool
) -> None:
    sr = _sr(tmp_path)
    study = tmp_path / "s.cobbdesk"
    capsys.readouterr()
    assert main(["import", str(study), str(sr), "--create", *(["--json"] * json_out)]) == 1
    captured = capsys.readouterr()
    assert "no film with SOP Instance UID" in captured.err
    assert f"{MASK}.sr.dcm" in captured.err
    if json_out:
        (report,) = json.loads(captured.out)["reports"]
        assert report["file"].endswith(f"{MASK}/{MASK}.sr.dcm")
    else:
        assert f"{MASK}.sr.dcm: 1 Cobb angle(s): 0 imported" in captured.out
    assert not [word for word in IDENTIFIERS if word in captured.out + captured.err]
