"""``cobbdesk server init`` and ``cobbdesk copy``: file -> server -> file gives the same rows in
every table (audit included, proved by ``verify --same-as``) and byte-identical exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cobbdesk.cli.main import main
from cobbdesk.core.store import Study, pg_dialect
from cobbdesk.core.store import pg_url as urls
from cobbdesk.core.store.schema import audit
from tests.core.export.conftest import build_fixture_study

pytestmark = pytest.mark.postgres


def test_copy_round_trip_file_server_file(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = build_fixture_study(tmp_path / "source.cobbdesk")
    back = tmp_path / "back.cobbdesk"
    assert main(["copy", str(source), pg_url]) == 0
    assert main(["verify", str(source), "--same-as", pg_url]) == 0
    with Study.open(source) as a, Study.open(pg_url) as s:
        assert a.verify_integrity().head == s.verify_integrity().head
    assert main(["copy", pg_url, str(back)]) == 0  # recorded on the server, then copied
    assert "the copy equals the source" in capsys.readouterr().out
    assert main(["verify", pg_url, "--same-as", str(back)]) == 0
    assert main(["verify", str(source), "--same-as", pg_url]) == 1  # the server's copy row
    assert "every table and the audit head are equal" in capsys.readouterr().out
    with Study.open(back) as b, Study.open(pg_url) as s:
        assert b.verify_integrity().head == s.verify_integrity().head
        assert b.verify_integrity().ok
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


def _copy_rows(location: object) -> list[tuple[str, str, str, str]]:
    """(actor, entity_id, field, new value) of the study's ``copy`` audit rows, in order."""
    with Study.open(location) as study, study.engine.connect() as conn:  # type: ignore[arg-type]
        query = (select(audit.c.actor, audit.c.entity_id, audit.c.field, audit.c.new_value)
                 .where(audit.c.entity == "copy").order_by(audit.c.seq))  # fmt: skip
        return [tuple(r) for r in conn.execute(query)]  # type: ignore[misc]


def test_a_rater_role_copying_the_study_is_audited_on_the_server(
    tmp_path: Path, pg_cluster: Any, pg_url: str
) -> None:
    source = build_fixture_study(tmp_path / "source.cobbdesk")
    assert main(["copy", str(source), pg_url]) == 0  # file -> server: audited in the file
    on_file = _copy_rows(source)
    fields = {f: v for _a, _i, f, v in on_file}
    assert fields["destination"] == urls.parse(pg_url).url  # never a password
    assert fields["identified"] in {"true", "1"} and len({i for _a, i, _f, _v in on_file}) == 1
    loc = urls.parse(pg_url)
    with Study.open(pg_url) as owner, owner.transaction() as conn:
        pg_dialect.create_rater_role(conn, loc.database, loc.schema)
    role = f"carol_{loc.schema}"
    pg_cluster.sql(f"CREATE ROLE {role} LOGIN IN ROLE cobbdesk_rater")
    as_rater = pg_url.replace(f"{loc.user}@", f"{role}@")
    out = tmp_path / "taken.cobbdesk"
    before = len(_copy_rows(pg_url))
    assert main(["copy", as_rater, str(out)]) == 0
    rows = _copy_rows(pg_url)[before:]
    assert {a for a, _i, _f, _v in rows} == {role}  # the rater's own database role
    assert ("destination", str(out.absolute())) in {(f, v) for _a, _i, f, v in rows}
    assert _copy_rows(out) == _copy_rows(pg_url)  # the copy carries the row too
    assert main(["verify", pg_url, "--same-as", str(out)]) == 0


def test_a_file_to_file_copy_is_audited_and_a_refused_copy_is_not(tmp_path: Path) -> None:
    source = build_fixture_study(tmp_path / "source.cobbdesk")
    out = tmp_path / "copy.cobbdesk"
    assert main(["copy", str(source), str(out)]) == 0
    rows = _copy_rows(source)
    assert ("destination", str(out.absolute())) in {(f, v) for _a, _i, f, v in rows}
    assert _copy_rows(out) == rows
    assert main(["verify", str(source), "--same-as", str(out)]) == 0
    assert main(["copy", str(source), str(out)]) == 1  # exists: refused, nothing recorded
    assert _copy_rows(source) == rows
