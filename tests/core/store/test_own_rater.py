"""Each rater measures as themselves (#15): on a server, a role in the ``cobbdesk_rater`` group
saves measurements, readings and skips only under its own role name — refused first by the
core (one-line ValidationError naming both names, nothing written) and by the server's trigger
(raw SQL that bypasses the core); the administrator may still enter another rater's
measurement (a transcribed paper form); a file keeps accepting any rater name."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text

from cobbdesk.core.errors import StudyReadOnlyError, ValidationError
from cobbdesk.core.reading.plan import PlanSpec, create_plan
from cobbdesk.core.reading.readings import save_reading, skip_film
from cobbdesk.core.reading.rounds import open_round, worklist
from cobbdesk.core.store import Study, pg_dialect, pg_url
from cobbdesk.core.store.clinical import measurement_row
from cobbdesk.core.store.schema import measurements, reading_skips, readings
from tests.core.reading.helpers import make_study, reading


def _server_with_alice(cluster: Any, film: Any = None) -> tuple[str, str, str]:
    """(owner URL, alice's URL, alice's role) on a fresh study with the rater group: the plan
    helpers' 2 patients, or (``film``: a DICOM file) one patient with that film."""
    url = cluster.new_study_url()
    if film is None:
        make_study(url, patients=2).close()  # type: ignore[arg-type]
    else:
        with Study.create(url, actor="tester") as study:
            visit = study.add_visit(study.add_patient("P001"), "admission")
            study.add_film(visit, sop_instance_uid="1.2.826.0.1.1.1", path=film,
                           region="cervical", pixel_rows=400, pixel_columns=300)  # fmt: skip
    loc = pg_url.parse(url)
    with Study.open(url) as owner, owner.transaction() as conn:
        pg_dialect.create_rater_role(conn, loc.database, loc.schema)
    role = f"alice_{loc.schema}"
    cluster.sql(f"CREATE ROLE {role} LOGIN IN ROLE cobbdesk_rater")
    return url, url.replace(f"{loc.user}@", f"{role}@"), role


def _count(study: Study, table: Any) -> int:
    with study.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_a_rater_role_measures_only_as_itself(pg_cluster: Any) -> None:
    owner, as_alice, role = _server_with_alice(pg_cluster)
    with Study.open(as_alice) as study:
        assert study.actor.rater == role  # the default rater on a server is the role
        film = study.film(1)
        with pytest.raises(ValidationError) as refused:
            study.save_measurement(1, reading(20.0, "bob", film.sop_instance_uid))
        assert str(refused.value).count("\n") == 0
        assert role in str(refused.value) and "'bob'" in str(refused.value)
        assert _count(study, measurements) == 0
        mine = reading(20.0, role, film.sop_instance_uid)
        study.save_measurement(1, mine)  # as itself: saved
        assert [m.rater for m in study.measurements(1)] == [role]
    with Study.open(owner, actor="coordinator") as admin:  # transcribing bob's paper form
        admin.save_measurement(2, reading(15.0, "bob", admin.film(2).sop_instance_uid))
        assert {m.rater for m in admin.measurements()} == {role, "bob"}
        bobs = next(m for m in admin.measurements() if m.rater == "bob")
    with Study.open(as_alice) as study, pytest.raises(ValidationError, match="'bob'"):
        study.delete_measurement(bobs.id, "not mine")  # bob's measurement stays bob's


def test_the_server_refuses_raw_sql_naming_another_rater(pg_cluster: Any) -> None:
    _owner, as_alice, role = _server_with_alice(pg_cluster)
    with Study.open(as_alice) as study:
        film = study.film(1)
        bob = {**measurement_row(reading(20.0, "bob", film.sop_instance_uid)), "film_id": 1}
        with pytest.raises(StudyReadOnlyError), study.transaction() as conn:
            conn.execute(measurements.insert().values(**bob))  # bypasses the core check
        own = {**bob, "rater": role}
        with study.transaction() as conn:
            conn.execute(measurements.insert().values(**own))
        with pytest.raises(StudyReadOnlyError), study.transaction() as conn:
            conn.execute(text("UPDATE measurements SET rater = 'bob'"))
        with pytest.raises(StudyReadOnlyError), study.transaction() as conn:
            conn.execute(reading_skips.insert().values(
                plan_id=1, rater="bob", round=1, film_id=1, reason="x", created_utc="x"))
        assert _count(study, measurements) == 1
    raw = pg_dialect.connect(pg_url.parse(as_alice))
    try:
        with pytest.raises(Exception, match=f"role {role} may save only its own readings"):
            raw.cursor().execute("UPDATE measurements SET rater = 'bob'")
    finally:
        raw.close()


def test_plan_readings_and_skips_of_another_rater_are_refused(pg_cluster: Any) -> None:
    owner, as_alice, role = _server_with_alice(pg_cluster)
    with Study.open(owner, actor="coordinator") as admin:
        plan = create_plan(admin, PlanSpec("p", (role, "bob"), rounds=1, washout_days=0, seed=3,
                                           region="cervical"))  # fmt: skip
        open_round(admin, plan, "bob", 1)
    with Study.open(as_alice) as study:
        open_round(study, plan, role, 1)
        item = worklist(study, plan, "bob", 1)[0]
        with pytest.raises(ValidationError, match="'bob'"):
            save_reading(study, plan, 1, item.film_id, reading(10.0, "bob", item.sop_instance_uid))
        with pytest.raises(ValidationError, match="'bob'"):
            skip_film(study, plan, "bob", 1, item.film_id, "C7 not visible")
        own = worklist(study, plan, role, 1)[0]
        assert save_reading(study, plan, 1, own.film_id,
                            reading(10.0, role, own.sop_instance_uid))  # fmt: skip
        assert _count(study, readings) == 1 and _count(study, reading_skips) == 0


def test_a_file_accepts_any_rater_name(tmp_path: Any) -> None:
    with make_study(tmp_path / "f.cobbdesk", patients=1) as study:
        study.set_rater("alice")
        study.save_measurement(1, reading(20.0, "bob", study.film(1).sop_instance_uid))
        assert [m.rater for m in study.measurements(1)] == ["bob"]



def test_a_points_file_naming_another_rater_is_refused_for_a_rater_role(
    pg_cluster: Any, tmp_path: Any, capsys: Any, dicom_factory: Any
) -> None:
    import numpy as np

    from cobbdesk.cli.main import main
    from tests.cli.test_plan_cli import _points

    film = dicom_factory(np.zeros((400, 300), dtype=np.uint16), "f.dcm",
                         SOPInstanceUID="1.2.826.0.1.1.1")  # the film the study records
    _owner, as_alice, role = _server_with_alice(pg_cluster, film)
    with Study.open(as_alice) as study:
        sops = [study.film(1).sop_instance_uid]
    code = main(["measure", as_alice, str(_points(tmp_path / "bob.csv", "bob", (20.0,), sops))])
    assert code == 1 and f"database role {role} may save only its own readings, not rater " \
        "'bob'" in capsys.readouterr().err  # fmt: skip
    assert main(["measure", as_alice, str(_points(tmp_path / "a.csv", role, (20.0,), sops))]) == 0
    with Study.open(as_alice) as study:
        assert [m.rater for m in study.measurements()] == [role]
