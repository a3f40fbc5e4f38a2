"""Every JSON document the command line prints passes the one redaction boundary
(:func:`cobbdesk.cli.output.emit_json`), whatever the subcommand.

The study's patient is SMITHERS^WAYLON, MRN MRN4455667, born 1961-02-03; those identifiers
name the film's folder and file, and also sit where a user's free text reaches a report: a
visit label, a plan's name, the rater's name.  ``pacs find`` prints what an archive answers
(a fake DICOMweb answer here: name, patient ID, birth date).  Each report must keep none of
them — and keep what a statistician needs exact (the visit date, see ``MACHINE_FIELDS``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cobbdesk.cli import main
from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
from cobbdesk.core.store import Study
from tests.conftest import make_dataset

PLANTED = ("smithers", "waylon", "mrn4455667", "4455667")
BIRTH = re.compile(r"1961-?02-?03")
UID = "1.2.826.0.1.77.1"
LABEL = "Smithers recall"  # a visit label typed with the patient's name in it
PLAN = "MRN4455667 reliability"
VISIT_DATE = "2026-01-05"


def _clean(text: str) -> None:
    for value in PLANTED:
        assert value not in text.casefold(), f"{value!r} leaked: {text!r}"
    assert BIRTH.search(text) is None, f"the birth date leaked: {text!r}"


@pytest.fixture
def study(tmp_path: Path) -> Path:
    folder = tmp_path / "SMITHERS_WAYLON_MRN4455667" / "19610203"
    folder.mkdir(parents=True)
    film = folder / "SMITHERS^WAYLON_1961-02-03.dcm"
    pixels = (np.arange(400 * 300).reshape(400, 300) % 4096).astype(np.uint16)
    make_dataset(
        pixels, bits_stored=12, SOPInstanceUID=UID, PatientName="SMITHERS^WAYLON",
        PatientID="MRN4455667", PatientBirthDate="19610203",
    ).save_as(film, enforce_file_format=True)  # fmt: skip
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="t") as created:
        pid = created.add_patient(
            "P0001", name="SMITHERS^WAYLON", mrn="MRN4455667", birth_date="1961-02-03"
        )
        vid = created.add_visit(pid, "other", visit_date=VISIT_DATE, label=LABEL)
        fid = created.add_film(vid, sop_instance_uid=UID, path=film, region="cervical",
                               pixel_rows=400, pixel_columns=300)  # fmt: skip
        for rater in ("A", "B"):
            created.save_measurement(fid, CobbMeasurement(
                sop_instance_uid=UID, pixel_sha256="", template="C2-C7", rater=rater,
                upper=EndplateLine((100.0, 100.0), (140.0, 110.0)),
                lower=EndplateLine((100.0, 300.0), (140.0, 290.0)),
                spacing=(0.15, 0.15), spacing_source="PixelSpacing",
            ))  # fmt: skip
    return path


def _fake_archive(monkeypatch: pytest.MonkeyPatch) -> None:
    def found(url: str, query: Any, timeout: float) -> list[dict[str, Any]]:
        return [{
            "PatientID": "MRN4455667", "PatientName": "SMITHERS^WAYLON",
            "PatientBirthDate": "19610203", "StudyInstanceUID": "1.2.3.4",
            "StudyDate": "20260105", "AccessionNumber": "ACC-9", "StudyDescription":
            "C-spine Smithers", "series": [{"SeriesInstanceUID": "1.2.3.4.5", "Modality": "DX"}],
        }]  # fmt: skip

    from cobbdesk.core.pacs import web

    monkeypatch.setattr(web, "find_studies_web", found)


def CREATE(study: str) -> list[str]:  # the plan every plan command here reads
    return ["plan", "create", study, PLAN, "--raters", "A,B", "--seed", "1"]


COMMANDS: dict[str, Callable[[str, Path], list[list[str]]]] = {
    "import": lambda s, d: [["import", s, str(d / "SMITHERS_WAYLON_MRN4455667"), "--json"]],
    "inspect": lambda s, d: [["inspect", str(d / "SMITHERS_WAYLON_MRN4455667"), "--json"]],
    "verify": lambda s, d: [["verify", s, "--json"]],
    "film --list": lambda s, d: [["film", s, "--list", "--json"]],
    "calibrate": lambda s, d: [["calibrate", s, UID, "0", "0", "299", "0", "--length-mm", "45",
                                "--reason", "ruler", "--rater", "Smithers", "--json"]],
    "plan create": lambda s, d: [[*CREATE(s), "--json"]],
    "plan worklist": lambda s, d: [
        CREATE(s),
        ["plan", "worklist", s, PLAN, "--rater", "A", "--round", "1", "--json"],
    ],
    "plan status": lambda s, d: [
        CREATE(s),
        ["plan", "status", s, PLAN, "--json"],
    ],
    "stats": lambda s, d: [["stats", s, "--json"]],
    "stats --plan": lambda s, d: [
        CREATE(s), ["stats", s, "--plan", PLAN, "--json"],
    ],
    "export --stats-json -": lambda s, d: [["export", s, "--format", "wide", "-o",
                                            str(d / "w.csv"), "--stats-json", "-"]],
    "copy": lambda s, d: [["copy", s, str(d / "copy.cobbdesk"), "--json"]],
    "pacs find": lambda s, d: [["pacs", "find", "--dicomweb", "http://127.0.0.1:9"]],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_json_report_is_redacted(
    name: str, study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _fake_archive(monkeypatch)
    *setup, argv = COMMANDS[name](str(study), tmp_path)
    for before in setup:
        assert main(before) == 0, capsys.readouterr().err
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip(), err
    json.loads(out)  # one JSON document
    _clean(out)
    _clean(err)


def test_film_list_keeps_the_visit_date_exact(
    study: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The visit date is the study's own data keyed to its pseudonymous code (as ``import
    --json`` prints ``new_visits``): kept exact, though redaction masks every ISO date."""
    assert main(["film", str(study), "--list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["study_id"], row["visit_date"]) == ("P0001", VISIT_DATE)
    assert row["visit"] == "[redacted] recall"


def test_pacs_find_keeps_the_uids_get_takes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_archive(monkeypatch)
    assert main(["pacs", "find", "--dicomweb", "http://127.0.0.1:9"]) == 0
    (found,) = json.loads(capsys.readouterr().out)
    assert found["StudyInstanceUID"] == "1.2.3.4"
    assert found["series"] == [{"SeriesInstanceUID": "1.2.3.4.5", "Modality": "DX"}]
    assert {found[k] for k in ("PatientID", "PatientName", "PatientBirthDate")} == {"[redacted]"}
    assert found["StudyDescription"] == "C-spine [redacted]"


def test_dicom_uids_stay_whole_in_json_reports() -> None:
    """A UID whose components spell the MRN's digits or the birth date is a film's key for
    scripts (``film --list --json`` → a ``measure`` CSV): kept whole (breaker 9: ``import
    --json`` printed ``1.2.826.0.1.3680043.2.1961.2.3.[redacted]``); the same digits in a
    path are still masked."""
    from cobbdesk.cli.output import redact_files
    from cobbdesk.core import redact

    redact.remember(["MRN4455667", "SMITHERS^WAYLON", "1961-02-03"])
    try:
        uid = "1.2.826.0.1.3680043.2.1961.2.3.4455667"
        keys = ("sop_instance_uid", "study_instance_uid", "series_instance_uid")
        found = redact_files({**dict.fromkeys(keys, uid), "file": f"/in/4455667/{uid}.dcm"})
        assert found["sop_instance_uid"] == found["study_instance_uid"] == uid
        assert found["series_instance_uid"] == uid
        assert "4455667/" not in found["file"]
    finally:
        redact.forget_all()


def test_a_uid_field_holding_other_text_is_redacted() -> None:
    """Kept whole only when it is a UID (digits and full stops, PS3.5 §9.1): breaker 10's film
    carried the patient's name as its SOP Instance UID and it was printed in clear."""
    from cobbdesk.cli.output import redact_files
    from cobbdesk.core import redact

    redact.remember(["Kowalski^Jan", "77889900"])
    try:
        keys = ("sop_instance_uid", "study_instance_uid", "series_instance_uid")
        found = redact_files(dict(zip(keys, ("Kowalski^Jan", "77889900", "1.2.3"), strict=True)))
        assert "Kowalski" not in found["sop_instance_uid"]
        assert "77889900" not in found["study_instance_uid"]  # one number: not a UID
        assert found["series_instance_uid"] == "1.2.3"
    finally:
        redact.forget_all()
