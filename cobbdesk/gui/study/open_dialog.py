"""Study ▸ Open study…: one dialog for both kinds of study (#15) — a **File** tab (recent study
files, a path, Browse…) and a **Server** tab (a study on a PostgreSQL server).

Server fields but the password and the schema are remembered in the settings (``server/…``),
as is the "remember in the system keyring" choice; the password goes to
:func:`cobbdesk.core.store.pg_url.remember_password` (this process's memory only) and, when the
user ticks the box and the study opened, to the OS keyring
(:func:`~cobbdesk.core.store.pg_url.store_in_keyring`) — never to the settings, the URL or
the logs.  A host starting with ``/`` is the folder of the server's Unix socket (libpq's
convention).  Without a password typed, the store looks in ``PGPASSWORD``, ``~/.pgpass`` and
the keyring, then asks.  Server studies open off the UI thread (:mod:`connecting`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.store import pg_url
from cobbdesk.gui import settings

STUDY_FILTER = "CobbDesk study (*.cobbdesk)"
FILE_TAB, SERVER_TAB = 0, 1
_REMEMBERED = ("host", "port", "database", "user")


class StudyOpener(Protocol):
    """What the dialog opens a study with (the window's study session)."""

    def open_study(self, path: Path | str, create: bool = False) -> bool: ...


def _choose_file(parent: QWidget | None, start: str) -> str:
    return QFileDialog.getOpenFileName(parent, "Open study", start, STUDY_FILTER)[0]


#: Asks for a study file (Browse…); replaced in tests.
choose_file = _choose_file


def server_url(host: str, port: int, database: str, user: str, schema: str = "") -> str:
    """``postgresql://USER@HOST:PORT/DB[?schema=S]`` (a host starting with ``/`` is a socket
    folder: ``?host=DIR&port=PORT``), checked by :func:`pg_url.parse`; StoreError when not
    sound.  Carries no password."""
    user_part = quote(user.strip(), safe="")
    db_part = quote(database.strip(), safe="")
    host = host.strip()
    options = [f"schema={schema.strip()}"] if schema.strip() else []
    if host.startswith("/"):
        url = f"postgresql://{user_part}@/{db_part}?" + "&".join(
            [f"host={host}", f"port={port}", *options]
        )
    else:
        url = f"postgresql://{user_part}@{host or 'localhost'}:{port}/{db_part}"
        url += ("?" + "&".join(options)) if options else ""
    return pg_url.parse(url).url


class FileTab(QWidget):
    """Recent study files (double-click opens), a path field and Browse…."""

    def __init__(self, dialog: QDialog) -> None:
        super().__init__(dialog)
        self.recent = QListWidget()
        self.recent.setUniformItemSizes(True)
        for text in settings.recent_studies():
            if pg_url.is_url(text):
                continue  # server studies: the Server tab (and Open recent study)
            item = QListWidgetItem(Path(text).name)
            item.setToolTip(text)
            item.setData(Qt.ItemDataRole.UserRole, text)
            if not Path(text).is_file():
                item.setText(f"{Path(text).name} (not found)")
            self.recent.addItem(item)
        self.path = QLineEdit()
        self.path.setPlaceholderText("a .cobbdesk study file")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(lambda: self._browse(dialog))
        self.recent.currentItemChanged.connect(self._picked)
        self.recent.itemDoubleClicked.connect(lambda _item: dialog.accept())
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Recent studies"))
        layout.addWidget(self.recent, 1)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        layout.addWidget(QLabel("Study file"))
        layout.addLayout(row)

    def _picked(self, item: QListWidgetItem | None, _old: object = None) -> None:
        if item is not None:
            self.path.setText(str(item.data(Qt.ItemDataRole.UserRole)))

    def _browse(self, dialog: QDialog) -> None:
        """Browse…: the chosen file is opened at once (choosing it was the decision)."""
        current = self.path.text().strip()
        name = choose_file(dialog, str(Path(current).parent) if current else "")
        if name:
            self.path.setText(name)
            dialog.accept()


class ServerTab(QWidget):
    """Host (or socket folder), port, database, user, schema, password, keyring choice."""

    def __init__(self, dialog: QDialog) -> None:
        super().__init__(dialog)
        store = settings.settings()
        self.host = QLineEdit(str(store.value("server/host", "localhost")))
        self.host.setPlaceholderText("host name, or /folder of the Unix socket")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(int(str(store.value("server/port", pg_url.DEFAULT_PORT))))
        self.database = QLineEdit(str(store.value("server/database", "")))
        self.user = QLineEdit(str(store.value("server/user", "")))
        self.schema = QLineEdit()
        self.schema.setPlaceholderText("public")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("or PGPASSWORD / ~/.pgpass / system keyring")
        self.keyring = QCheckBox("Remember the password in the system keyring")
        self.keyring.setChecked(str(store.value("server/keyring", "false")).lower() == "true")
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, widget in (("Host", self.host), ("Port", self.port),
                              ("Database", self.database), ("User", self.user),
                              ("Schema", self.schema), ("Password", self.password)):  # fmt: skip
            form.addRow(label, widget)
        form.addRow("", self.keyring)

    def url(self) -> str:
        """The study's URL from the fields (no password); StoreError when not sound."""
        return server_url(self.host.text(), self.port.value(), self.database.text(),
                          self.user.text(), self.schema.text())  # fmt: skip

    def remember_fields(self) -> None:
        """The fields but the password and schema, and the keyring choice, into the settings."""
        store = settings.settings()
        values = (self.host.text().strip(), self.port.value(), self.database.text().strip(),
                  self.user.text().strip())  # fmt: skip
        for key, value in zip(_REMEMBERED, values, strict=True):
            store.setValue(f"server/{key}", value)
        store.setValue("server/keyring", self.keyring.isChecked())
        store.sync()


class OpenStudyDialog(QDialog):
    """The two tabs and Open/Cancel; :meth:`open_in` opens what the current tab names."""

    def __init__(self, parent: QWidget | None = None, tab: int = FILE_TAB) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open study")
        self.file = FileTab(self)
        self.server = ServerTab(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.file, "File")
        self.tabs.addTab(self.server, "Server")
        self.tabs.setCurrentIndex(tab)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("x" * 90))  # a path fits

    def open_in(self, session: StudyOpener) -> bool:
        """Open the current tab's study through ``session``; False when nothing opened."""
        if self.tabs.currentIndex() == SERVER_TAB:
            return self._open_server(session)
        text = self.file.path.text().strip()
        return bool(text) and session.open_study(Path(text))

    def _open_server(self, session: StudyOpener) -> bool:
        """Fields remembered, the typed password to memory; after a successful open, to the
        keyring when asked; a password that did not open the study is forgotten."""
        from cobbdesk.gui import errors

        tab = self.server
        try:
            url = tab.url()
        except Exception as exc:
            errors.report(self.parentWidget(), exc, "Opening a server study")
            return False
        tab.remember_fields()
        loc = pg_url.parse(url)
        secret = tab.password.text()
        tab.password.clear()
        pg_url.remember_password(loc, secret)
        opened = session.open_study(url)
        if not opened:
            pg_url.forget_password(loc, secret)
        elif secret and tab.keyring.isChecked() and not pg_url.store_in_keyring(loc, secret):
            errors.present(self.parentWidget(), "Remembering the password",
                           "No system keyring is available: the password was not stored "
                           "(it is kept until CobbDesk closes).")  # fmt: skip
        return opened


def open_study_dialog(
    session: StudyOpener, parent: QWidget | None = None, *, server: bool = False
) -> bool:
    """Ask for a study (File tab, or Server tab when ``server``) and open it; False when
    cancelled or not opened."""
    dialog = OpenStudyDialog(parent, SERVER_TAB if server else FILE_TAB)
    try:
        return bool(dialog.exec() == QDialog.DialogCode.Accepted and dialog.open_in(session))
    finally:
        dialog.deleteLater()
