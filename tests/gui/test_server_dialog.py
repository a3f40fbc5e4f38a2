"""Study ▸ Open server study…: the dialog opens a study on the test session's PostgreSQL
cluster; the window names the database, and neither it nor the settings file holds the password."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import Study, pg_url
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.settings import settings_path
from cobbdesk.gui.study.server_dialog import ServerStudyDialog, server_url
from cobbdesk.gui.workers import FilmLoader

SECRET = "Zq9-not-a-real-password"


def test_server_url_forms() -> None:
    assert server_url("db.example", 5433, "trial", "rater_a") == (
        "postgresql://rater_a@db.example:5433/trial"
    )
    assert server_url("/run/pg", 5432, "trial", "rater_a", "s1") == (
        "postgresql://rater_a@/trial?unix_sock=/run/pg/.s.PGSQL.5432&schema=s1"
    )
    with pytest.raises(StoreError):
        server_url("db.example", 5432, "", "rater_a")


def test_dialog_opens_the_server_study_without_keeping_the_password(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_cluster: Any
) -> None:
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    url = pg_cluster.new_study_url()
    Study.create(url, actor="dr_a").close()
    loc = pg_url.parse(url)
    assert loc.unix_sock is not None
    win = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    qtbot.addWidget(win)
    dialog = ServerStudyDialog(win)
    qtbot.addWidget(dialog)
    dialog.host.setText(os.path.dirname(loc.unix_sock))
    dialog.port.setValue(int(loc.unix_sock.rsplit(".", 1)[1]))
    dialog.database.setText(loc.database)
    dialog.user.setText(loc.user)
    dialog.schema.setText(loc.schema)
    dialog.password.setText(SECRET)
    try:
        assert dialog.open_in(win.session)
        assert win.session.study is not None
        assert win.session.study.patients() == []
        title = win.windowTitle()
        assert f"database {loc.database}" in title and SECRET not in title
        assert dialog.password.text() == ""
        stored = settings_path().read_text(encoding="utf-8")
        assert loc.database in stored and loc.user in stored
        assert SECRET not in stored
        assert all(SECRET not in r for r in [*map(str, Path(tmp_path).rglob("*"))])
    finally:
        win.session.close_study()
        win.close()
