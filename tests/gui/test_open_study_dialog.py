"""Study ▸ Open study…: one dialog, a File tab and a Server tab (#15).  Files open from the
recent list or Browse…; server studies open on the test session's PostgreSQL cluster, the typed
password reaches the driver, goes to the keyring only when asked and after the study opened,
and neither the settings, the logs nor the window ever hold it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import Study, os_keyring, pg_dialect, pg_url
from cobbdesk.gui import errors, settings
from cobbdesk.gui.main_window import MainWindow
from cobbdesk.gui.settings import settings_path
from cobbdesk.gui.study import open_dialog
from cobbdesk.gui.study.open_dialog import FILE_TAB, SERVER_TAB, OpenStudyDialog, server_url
from cobbdesk.gui.workers import FilmLoader
from tests.keyring_double import MemoryKeyring, use_keyring
from tests.pgcluster import PW_SECRET, PW_USER, SUPERUSER

SECRET = "Zq9-not-a-real-password"


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Private settings; errors captured; an in-memory keyring; no other password source;
    every log record (any logger, DEBUG) written to tmp_path/logs/all.log."""
    monkeypatch.setenv("COBBDESK_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))
    monkeypatch.setattr(pg_url, "_passwords", {})
    shown: list[str] = []
    monkeypatch.setattr(errors, "present", lambda parent, title, text: shown.append(text))
    before = keyring.get_keyring()
    use_keyring(MemoryKeyring())
    (tmp_path / "logs").mkdir()
    handler = logging.FileHandler(tmp_path / "logs" / "all.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield shown
    root.removeHandler(handler)
    root.setLevel(level)
    handler.close()
    keyring.set_keyring(before)
    os_keyring.reset()


@pytest.fixture
def win(qtbot: Any) -> Iterator[MainWindow]:
    window = MainWindow(rater="tester", loader=FilmLoader(isolated=False))
    qtbot.addWidget(window)
    yield window
    window.session.close_study()
    window.close()


def _nothing_holds(secret: str, root: Path, win: MainWindow) -> None:
    """No file under ``root`` (settings, logs) and no window text contains ``secret``."""
    for path in root.rglob("*"):
        assert secret not in path.name
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
    assert secret not in win.windowTitle()


def _in_dialog(act: Callable[[OpenStudyDialog], None]) -> None:
    """Run ``act`` on the Open study dialog once it is shown (it is modal)."""
    def run() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, OpenStudyDialog):
            QTimer.singleShot(20, run)
            return
        act(dialog)

    QTimer.singleShot(0, run)


def _press(dialog: OpenStudyDialog, which: QDialogButtonBox.StandardButton) -> None:
    dialog.findChild(QDialogButtonBox).button(which).click()


def test_server_url_forms() -> None:
    assert server_url("db.example", 5433, "trial", "rater_a") == (
        "postgresql://rater_a@db.example:5433/trial"
    )
    assert server_url("/run/pg", 5432, "trial", "rater_a", "s1") == (
        "postgresql://rater_a@/trial?unix_sock=/run/pg/.s.PGSQL.5432&schema=s1"
    )
    with pytest.raises(StoreError):
        server_url("db.example", 5432, "", "rater_a")


def test_two_tabs_and_the_recent_study_files(qtbot: Any, tmp_path: Path) -> None:
    kept = tmp_path / "kept.cobbdesk"
    Study.create(kept).close()
    settings.add_recent_study(tmp_path / "gone.cobbdesk")
    settings.add_recent_study("postgresql://alice@db.example/trial")  # type: ignore[arg-type]
    settings.add_recent_study(kept)
    dialog = OpenStudyDialog(None)
    qtbot.addWidget(dialog)
    tabs = dialog.tabs
    assert [tabs.tabText(i) for i in range(tabs.count())] == ["File", "Server"]
    assert tabs.currentIndex() == FILE_TAB
    items = [dialog.file.recent.item(i) for i in range(dialog.file.recent.count())]
    assert [i.text() for i in items] == ["kept.cobbdesk", "gone.cobbdesk (not found)"]
    assert items[0].toolTip() == str(kept)
    dialog.file.recent.setCurrentRow(0)
    assert dialog.file.path.text() == str(kept)
    server = OpenStudyDialog(None, SERVER_TAB)
    qtbot.addWidget(server)
    assert server.tabs.currentIndex() == SERVER_TAB
    assert server.server.password.echoMode() == server.server.password.EchoMode.Password
    assert not server.server.keyring.isChecked()


def test_open_a_file_study_from_the_recent_list_and_by_browse(
    win: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = tmp_path / "first.cobbdesk", tmp_path / "second.cobbdesk"
    for path in (first, second):
        Study.create(path).close()
    settings.add_recent_study(first)

    def pick_recent(dialog: OpenStudyDialog) -> None:
        dialog.file.recent.setCurrentRow(0)
        _press(dialog, QDialogButtonBox.StandardButton.Open)

    _in_dialog(pick_recent)
    assert win.session.open_study_dialog()
    assert win.session.study is not None and win.session.study.path == first
    assert "first.cobbdesk" in win.windowTitle()
    asked: list[str] = []
    monkeypatch.setattr(open_dialog, "choose_file",
                        lambda parent, start: asked.append(start) or str(second))  # fmt: skip
    _in_dialog(lambda dialog: dialog.file.browse.click())  # the chosen file opens at once
    assert win.session.open_study_dialog()
    assert win.session.study.path == second
    assert asked == [""]


def test_cancel_opens_nothing(win: MainWindow, tmp_path: Path) -> None:
    path = tmp_path / "study.cobbdesk"
    Study.create(path).close()

    def cancel(dialog: OpenStudyDialog) -> None:
        dialog.file.path.setText(str(path))
        _press(dialog, QDialogButtonBox.StandardButton.Cancel)

    _in_dialog(cancel)
    assert not win.session.open_study_dialog()
    assert win.session.study is None

    def cancel_server(dialog: OpenStudyDialog) -> None:
        assert dialog.tabs.currentIndex() == SERVER_TAB  # Study ▸ Open server study…
        _press(dialog, QDialogButtonBox.StandardButton.Cancel)

    _in_dialog(cancel_server)
    assert not win.session.open_study_dialog(server=True)
    assert win.session.study is None


def _rater_url(pg_cluster: Any) -> str:
    """A server study the password role ``pw_user`` may open (cobbdesk_rater)."""
    base = pg_cluster.new_study_url()
    loc = pg_url.parse(base)
    with Study.create(base, actor="dr_a") as study, study.transaction() as conn:
        pg_dialect.create_rater_role(conn, loc.database, loc.schema)
    pg_cluster.sql(f"GRANT cobbdesk_rater TO {PW_USER}")
    return base.replace(f"{SUPERUSER}@", f"{PW_USER}@")


def _fill(dialog: OpenStudyDialog, url: str, password: str, remember: bool) -> None:
    loc = pg_url.parse(url)
    assert loc.unix_sock is not None
    tab = dialog.server
    dialog.tabs.setCurrentIndex(SERVER_TAB)
    tab.host.setText(os.path.dirname(loc.unix_sock))
    tab.port.setValue(int(loc.unix_sock.rsplit(".", 1)[1]))
    tab.database.setText(loc.database)
    tab.user.setText(loc.user)
    tab.schema.setText(loc.schema)
    tab.password.setText(password)
    tab.keyring.setChecked(remember)


@pytest.mark.postgres
def test_server_tab_password_reaches_the_server_and_the_keyring_only_when_asked(
    qtbot: Any, win: MainWindow, tmp_path: Path, pg_cluster: Any, _env: list[str]
) -> None:
    url = _rater_url(pg_cluster)
    loc = pg_url.parse(url)
    memory = keyring.get_keyring()
    assert isinstance(memory, MemoryKeyring)

    def wrong(dialog: OpenStudyDialog) -> None:
        _fill(dialog, url, "wrong-" + PW_SECRET, remember=True)
        _press(dialog, QDialogButtonBox.StandardButton.Open)

    _in_dialog(wrong)
    assert not win.session.open_study_dialog()
    assert "refused the login" in _env[-1]
    assert memory.entries == {}  # a password that did not open the study is not stored
    assert pg_url.password(loc, ask_keyring=False) is None  # nor kept in memory

    def right(dialog: OpenStudyDialog) -> None:
        assert dialog.tabs.currentIndex() == SERVER_TAB
        assert dialog.server.database.text() == loc.database  # remembered fields
        assert dialog.server.keyring.isChecked() and dialog.server.password.text() == ""
        _fill(dialog, url, PW_SECRET, remember=True)
        _press(dialog, QDialogButtonBox.StandardButton.Open)

    _in_dialog(right)
    assert win.session.open_study_dialog(server=True)
    study = win.session.study
    assert study is not None and study.actor.user == PW_USER  # the password reached pg8000
    assert f"database {loc.database}" in win.windowTitle()
    assert memory.entries == {("cobbdesk", pg_url.keyring_username(loc)): PW_SECRET}
    qtbot.waitUntil(lambda: not win.session.jobs, timeout=30_000)  # the browser's checks
    win.session.close_study()

    pg_url._passwords.clear()  # a new CobbDesk: nothing typed, the keyring has it
    os_keyring.reset()

    def no_password(dialog: OpenStudyDialog) -> None:
        _fill(dialog, url, "", remember=False)
        _press(dialog, QDialogButtonBox.StandardButton.Open)

    _in_dialog(no_password)
    assert win.session.open_study_dialog(server=True)
    assert win.session.study is not None and win.session.study.actor.user == PW_USER
    assert memory.lookups >= 1
    stored = settings_path().read_text(encoding="utf-8")
    assert loc.database in stored and PW_USER in stored
    assert (tmp_path / "logs" / "all.log").stat().st_size > 0  # the check below saw records
    _nothing_holds(PW_SECRET, tmp_path, win)


@pytest.mark.postgres
def test_no_keyring_says_so_and_the_study_opens(
    win: MainWindow, tmp_path: Path, pg_cluster: Any, _env: list[str]
) -> None:
    use_keyring(fail.Keyring())
    url = pg_cluster.new_study_url()
    Study.create(url, actor="dr_a").close()

    def remember(dialog: OpenStudyDialog) -> None:
        _fill(dialog, url, SECRET, remember=True)
        _press(dialog, QDialogButtonBox.StandardButton.Open)

    _in_dialog(remember)
    assert win.session.open_study_dialog(server=True)
    assert win.session.study is not None and win.session.study.patients() == []
    assert _env == ["No system keyring is available: the password was not stored "
                    "(it is kept until CobbDesk closes)."]  # fmt: skip
    _nothing_holds(SECRET, tmp_path, win)
