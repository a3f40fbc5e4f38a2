"""``plan status`` and ``plan worklist`` apply the Raters panel's blinding (#15): a participant
of a plan blinding other raters sees only their own rounds ("other raters' progress hidden by
plan X") and may not list another rater's worklist; a coordinator sees every round.  The
viewer is the ``--actor`` name on a file, and the database role on a server whatever name is
typed.  Study: tests/core/reading/helpers.make_study (4 patients × 2 visits, cervical: 8
films per worklist)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.reading.plan import PlanSpec, create_plan, get_plan
from cobbdesk.core.reading.readings import save_reading
from cobbdesk.core.reading.rounds import open_round, worklist
from cobbdesk.core.store import Study, pg_dialect, pg_url
from tests.core.reading.helpers import make_study, reading


def _plan_read(where: Any, a: str, b: str) -> None:
    """Plan ``rel`` (raters a, b; blinded) on ``where``; b reads 5 films of round 1, a 2."""
    with Study.open(where, actor="coordinator") as study:
        plan = create_plan(study, PlanSpec("rel", (a, b), rounds=1, washout_days=0, seed=5,
                                           region="cervical"))  # fmt: skip
    for who, count in ((b, 5), (a, 2)):
        with Study.open(_as(where, who), actor=who) as study:
            open_round(study, plan, who, 1)
            for item in worklist(study, plan, who, 1)[:count]:
                save_reading(study, plan, 1, item.film_id,
                             reading(10.0, who, item.sop_instance_uid))  # fmt: skip


def _as(where: Any, role: str) -> Any:
    """The location a rater opens: the same file, or the URL with the rater's role."""
    if not isinstance(where, str):
        return where
    return where.replace(f"{pg_url.parse(where).user}@", f"{role}@")


def _status(where: Any, actor: str, capsys: Any) -> tuple[list[tuple[str, int, int]], str]:
    assert main(["plan", "status", str(where), "rel", "--actor", actor]) == 0
    out = capsys.readouterr().out
    assert main(["plan", "status", str(where), "rel", "--actor", actor, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["hidden"] == bool(data["note"]) and (data["note"] in out)
    return [(r["rater"], r["round"], r["done"]) for r in data["rounds"]], data["note"]


def _worklist(where: Any, actor: str, rater: str, capsys: Any) -> tuple[int, str]:
    code = main(["plan", "worklist", str(where), "rel", "--actor", actor, "--rater", rater,
                 "--round", "1"])  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_the_command_line_is_blinded_on_a_file(tmp_path: Path, capsys: Any) -> None:
    where = tmp_path / "s.cobbdesk"
    make_study(where).close()
    _plan_read(where, "A", "B")
    rows, note = _status(where, "A", capsys)
    assert rows == [("A", 1, 2)] and note == "other raters' progress hidden by plan rel"
    rows, note = _status(where, "coordinator", capsys)
    assert rows == [("A", 1, 2), ("B", 1, 5)] and note == ""
    code, text = _worklist(where, "A", "B", capsys)
    assert code == 1 and text.count("\n") == 1
    assert "plan rel blinds other raters: A may open only their own worklist, not B's" in text
    code, text = _worklist(where, "A", "A", capsys)
    assert code == 0 and len(text.splitlines()) == 8
    assert _worklist(where, "coordinator", "B", capsys)[0] == 0


@pytest.mark.postgres
def test_the_database_role_is_blinded_whatever_name_it_types(pg_cluster: Any, capsys: Any) -> None:
    url = pg_cluster.new_study_url()
    make_study(url).close()
    loc = pg_url.parse(url)
    with Study.open(url) as owner, owner.transaction() as conn:
        pg_dialect.create_rater_role(conn, loc.database, loc.schema)
    alice, bob = (f"{n}_{loc.schema}" for n in ("alice", "bob"))
    for role in (alice, bob):
        pg_cluster.sql(f"CREATE ROLE {role} LOGIN IN ROLE cobbdesk_rater")
    _plan_read(url, alice, bob)
    as_alice = _as(url, alice)
    rows, note = _status(as_alice, "coordinator", capsys)  # typing another name changes nothing
    assert rows == [(alice, 1, 2)] and note == "other raters' progress hidden by plan rel"
    code, text = _worklist(as_alice, "coordinator", bob, capsys)
    assert code == 1 and f"not {bob}'s" in text
    rows, note = _status(url, "coordinator", capsys)  # the administrator sees every round
    assert rows == [(alice, 1, 2), (bob, 1, 5)] and note == ""
    assert _worklist(url, "coordinator", bob, capsys)[0] == 0


def test_skipping_again_keeps_the_first_reason(tmp_path: Path, capsys: Any) -> None:
    """``plan skip`` of a film already skipped writes nothing and says which reason stands
    (it printed the new reason as if recorded)."""
    where = tmp_path / "s.cobbdesk"
    make_study(where).close()
    _plan_read(where, "A", "B")
    with Study.open(where, actor="A") as study:
        item = worklist(study, get_plan(study, "rel"), "A", 1)[4]
    base = ["plan", "skip", str(where), "rel", "--actor", "A", "--rater", "A", "--round", "1",
            "--sop", item.sop_instance_uid]  # fmt: skip
    assert main([*base, "--reason", "C7 not visible"]) == 0
    assert capsys.readouterr().out.strip() == f"skipped position {item.position}: C7 not visible"
    assert main([*base, "--reason", "motion blur"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"position {item.position} was already skipped: C7 not visible (reason kept)"
    )
    assert main(["plan", "status", str(where), "rel", "--actor", "A", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["rounds"]
    assert row["skipped"] == 1
