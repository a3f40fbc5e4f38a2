"""PACS query/retrieve against a real Orthanc on loopback (issue #16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cobbdesk.core.dicom.reader import read_film
from cobbdesk.core.pacs.node import Node, PacsError, echo
from cobbdesk.core.pacs.query import Query, find_studies
from cobbdesk.core.pacs.retrieve import retrieve
from cobbdesk.core.store import Study
from tests.pacs.archive import AET, Archive, free_port
from tests.pacs.conftest import PATIENT


def _node(archive: Archive, **kw: object) -> Node:
    return Node("127.0.0.1", archive.dicom_port, called_aet=AET, timeout=10, **kw)  # type: ignore[arg-type]


def test_echo(archive: Archive) -> None:
    assert echo(_node(archive)) == 0


def test_a_wrong_called_ae_title_is_a_one_line_rejection(archive: Archive) -> None:
    node = Node("127.0.0.1", archive.dicom_port, called_aet="NOT-ORTHANC", timeout=5)
    with pytest.raises(PacsError, match="rejected the association") as info:
        echo(node)
    assert "\n" not in info.value.message


def test_an_unreachable_node_is_a_one_line_fault() -> None:
    node = Node("127.0.0.1", free_port(), called_aet=AET, timeout=2)
    with pytest.raises(PacsError, match="unreachable"):
        echo(node)


def test_find_lists_studies_with_their_cr_dx_series_only(archive: Archive) -> None:
    studies = find_studies(_node(archive), Query(patient_id=PATIENT))
    assert sorted(s["StudyDate"] for s in studies) == ["20260105", "20260406"]
    modalities = sorted(se["Modality"] for s in studies for se in s["series"])
    assert modalities == ["CR", "DX", "DX", "DX"]  # the MR series is left out
    dated = find_studies(_node(archive), Query(patient_id=PATIENT, date_from="20260301"))
    assert [s["StudyDate"] for s in dated] == ["20260406"]


@pytest.mark.parametrize("how", ["get", "move"])
def test_retrieve_imports_every_film_decodable_and_a_retry_fetches_nothing(
    archive: Archive, tmp_path: Path, how: str
) -> None:
    node = _node(archive)
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        report = retrieve(study, node, Query(patient_id=PATIENT), how=how,
                          move_port=archive.move_port)  # fmt: skip
        assert report.ok, report.fault
        assert (report.wanted, report.arrived) == (4, 4)
        films = study.films()
        again = retrieve(study, node, Query(patient_id=PATIENT), how=how,
                         move_port=archive.move_port)  # fmt: skip
    assert len(films) == 4 and (again.wanted, again.already, again.arrived) == (0, 4, 0)
    syntaxes = {read_film(f.path).transfer_syntax for f in films}
    assert {"1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80"} <= syntaxes  # kept compressed
    assert not list((tmp_path / "s-pacs").glob(".staging-*/*"))


def test_cancel_imports_exactly_what_arrived_and_a_retry_completes(
    archive: Archive, tmp_path: Path
) -> None:
    node = _node(archive)
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        report = retrieve(study, node, Query(patient_id=PATIENT), cancel=lambda: True)
        assert report.cancelled and not report.ok
        assert len(study.films()) == report.arrived < 4
        rest = retrieve(study, node, Query(patient_id=PATIENT))
        assert rest.ok and len(study.films()) == 4
        assert rest.already == report.arrived


def test_cli_pacs_echo_find_get(archive: Archive, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    from cobbdesk.cli.main import main

    base = ["--host", "127.0.0.1", "--port", str(archive.dicom_port), "--called-aet", AET]
    assert main(["pacs", "echo", *base]) == 0
    capsys.readouterr()
    assert main(["pacs", "find", *base, "--patient-id", PATIENT]) == 0
    found = json.loads(capsys.readouterr().out)
    assert len(found) == 2 and all(s["PatientID"] == "[redacted]" for s in found)  # stdout JSON
    assert PATIENT not in json.dumps(found)  # is redacted (cobbdesk.cli.pacs._emit_found)
    study = tmp_path / "s.cobbdesk"
    Study.create(study, actor="t").close()
    assert main(["pacs", "get", str(study), *base, "--patient-id", PATIENT]) == 0
    assert "4 film(s) arrived" in capsys.readouterr().out
    assert main(["pacs", "echo", "--host", "127.0.0.1", "--port", str(free_port())]) == 6
    assert "unreachable" in capsys.readouterr().err


def test_dicomweb_find_and_get(archive: Archive, tmp_path: Path) -> None:
    from cobbdesk.core.pacs.web import find_studies_web, retrieve_web

    if not archive.dicomweb:
        pytest.skip("the orthanc-dicomweb plugin is not installed")
    url = f"{archive.url}/dicom-web"
    studies = find_studies_web(url, Query(patient_id=PATIENT))
    assert sorted(len(s["series"]) for s in studies) == [1, 3]
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        report = retrieve_web(study, url, Query(patient_id=PATIENT))
        again = retrieve_web(study, url, Query(patient_id=PATIENT))
        assert report.ok and report.arrived == 4 and len(study.films()) == 4
    assert (again.wanted, again.already) == (0, 4)


def test_srs_are_stored_back(archive: Archive, tmp_path: Path) -> None:
    from cobbdesk.core.measure.measurement import CobbMeasurement, EndplateLine
    from cobbdesk.core.pacs.store import store_files
    from cobbdesk.core.sr.writer import export_sr

    node = _node(archive)
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        retrieve(study, node, Query(patient_id=PATIENT))
        film = study.films()[0]
        m = CobbMeasurement(
            sop_instance_uid=film.sop_instance_uid, pixel_sha256="", template="FREE",
            upper=EndplateLine((10, 10), (50, 20)), lower=EndplateLine((10, 100), (50, 90)),
            rater="t",
        )  # fmt: skip
        study.save_measurement(film.id, m)
        files, _ = export_sr(study, tmp_path / "sr")
    assert store_files(node, [f.path for f in files]) == 1
    found = find_studies(node, Query(patient_id=PATIENT, modalities=("SR",)))
    assert sum(len(s["series"]) for s in found) == 1
    # the command line's send is audited in the study when --study is given
    from sqlalchemy import select

    from cobbdesk.cli import main
    from cobbdesk.core.store.schema import audit

    args = ["--host", "127.0.0.1", "--port", str(archive.dicom_port), "--called-aet", AET]
    sent = main(["pacs", "store", *args, "--study", str(tmp_path / "s.cobbdesk"),
                 "--reason", "for the radiologists", *(str(f.path) for f in files)])  # fmt: skip
    assert sent == 0
    with Study.open(tmp_path / "s.cobbdesk") as study, study.engine.connect() as conn:
        rows = conn.execute(select(audit.c.entity, audit.c.reason)).all()
    assert ("pacs_store", "for the radiologists") in rows
