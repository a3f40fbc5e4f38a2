"""A rater role opening a server study in the app measures under its own role name (#15): the
panel's rater becomes the role (a role in ``cobbdesk_rater`` may save only as itself), while
the administrator keeps the name typed (it may transcribe another rater's paper form)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cobbdesk.core.store import Study, pg_dialect, pg_url
from cobbdesk.gui import errors
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.workers import FilmLoader
from tests.core.reading.helpers import make_study

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("COBBDESK_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr(errors, "present", lambda *_a: None)


def test_a_rater_role_measures_as_itself_in_the_app(qtbot: Any, pg_cluster: Any) -> None:
    url = pg_cluster.new_study_url()
    make_study(url, patients=1).close()  # type: ignore[arg-type]
    loc = pg_url.parse(url)
    with Study.open(url) as owner, owner.transaction() as conn:
        pg_dialect.create_rater_role(conn, loc.database, loc.schema)
    role = f"carol_{loc.schema}"
    pg_cluster.sql(f"CREATE ROLE {role} LOGIN IN ROLE cobbdesk_rater")
    for where, expected in ((url, "Dr Carol"), (url.replace(f"{loc.user}@", f"{role}@"), role)):
        win = MainWindow(rater="Dr Carol", loader=FilmLoader(isolated=False))
        qtbot.addWidget(win)
        try:
            assert win.session.open_study(where)
            assert win.rater == expected and win.panel.rater.text() == expected
            assert win.session.study is not None
            assert win.session.study.actor.rater == expected
        finally:
            win.session.shutdown()
