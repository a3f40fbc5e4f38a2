"""Server fault messages say what is true: a read (``film --list``, ``verify``, ``stats``)
with the server down does not say "nothing was saved" (only a failed write does), and a
rater running an administrator's command (``server grant``/``init``) is told it needs the
administrator, not to ask for the cobbdesk_rater role they already have."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cobbdesk.cli import main
from cobbdesk.core.errors import ServerUnavailableError
from cobbdesk.core.store import Study, pg_dialect, pg_faults
from cobbdesk.core.store import pg_url as urls


@pytest.mark.parametrize(
    "command", [["film", "{url}", "--list"], ["verify", "{url}"], ["stats", "{url}"]]
)
def test_a_read_with_the_server_down_saves_nothing_to_mention(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://u@/db?unix_sock={tmp_path}/.s.PGSQL.5432"  # no server there
    assert main([part.format(url=url) for part in command]) == 6
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "the database server cannot be reached" in err[0]
    assert "saved" not in err[0]


def test_a_failed_write_still_says_nothing_was_saved() -> None:
    lost = ConnectionResetError(104, "Connection reset by peer")
    write = pg_faults.translate(lost, Path("db"), write=True)
    read = pg_faults.translate(lost, Path("db"))
    assert isinstance(write, ServerUnavailableError) and isinstance(read, ServerUnavailableError)
    assert write.problem == (
        "the database server cannot be reached (connection reset by peer); nothing was saved. "
        "Check that the server is running and the address is right, then try again"
    )
    assert read.problem == write.problem.replace("; nothing was saved", "")
    timeout = {"C": "57014", "M": "canceling statement due to statement timeout"}
    assert "nothing was saved" not in pg_faults.translate(_db_error(timeout), Path("db")).problem


def _db_error(fields: dict[str, str]) -> BaseException:
    from pg8000.exceptions import DatabaseError

    return DatabaseError(fields)


@pytest.mark.postgres
def test_a_rater_running_grant_is_told_it_needs_the_administrator(
    pg_cluster: Any, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    loc = urls.parse(pg_url)
    with Study.create(pg_url) as owner, owner.transaction() as conn:
        pg_dialect.create_rater_role(conn, loc.database, loc.schema)
    role = f"dora_{loc.schema}"
    pg_cluster.sql(f"CREATE ROLE {role} LOGIN IN ROLE cobbdesk_rater")
    as_rater = pg_url.replace(f"{loc.user}@", f"{role}@")
    capsys.readouterr()
    assert main(["server", "grant", as_rater]) == 4
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert "your database role may not create the cobbdesk_rater role's grants: that needs " \
        "the study's administrator" in err[0]
    assert "Ask the study's administrator for the cobbdesk_rater role" not in err[0]
