"""Study ▸ Open server study…: a study on a PostgreSQL server, by host, port, database, user.

The fields but the password (and the schema) are remembered in the settings (``server/…``);
the password is handed to :func:`cobbdesk.core.store.pg_url.remember_password` (this process's
memory only) and never reaches the settings, the URL or the logs.  A host starting with ``/``
is the folder of the server's Unix socket (libpq's convention).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from cobbdesk.core.store import pg_url
from cobbdesk.gui import settings

if TYPE_CHECKING:
    from cobbdesk.gui.study.session import StudySession

_REMEMBERED = ("host", "port", "database", "user")


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


class ServerStudyDialog(QDialog):
    """Host, port, database, user, schema and password; :meth:`open_in` opens the study."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open server study")
        store = settings.settings()
        self.host = QLineEdit(str(store.value("server/host", "localhost")))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(int(str(store.value("server/port", pg_url.DEFAULT_PORT))))
        self.database = QLineEdit(str(store.value("server/database", "")))
        self.user = QLineEdit(str(store.value("server/user", "")))
        self.schema = QLineEdit()
        self.schema.setPlaceholderText("public")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("or PGPASSWORD / ~/.pgpass")
        form = QFormLayout(self)
        for label, widget in (("Host", self.host), ("Port", self.port),
                              ("Database", self.database), ("User", self.user),
                              ("Schema", self.schema), ("Password", self.password)):  # fmt: skip
            form.addRow(label, widget)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def url(self) -> str:
        """The study's URL from the fields (no password); StoreError when not sound."""
        return server_url(self.host.text(), self.port.value(), self.database.text(),
                          self.user.text(), self.schema.text())  # fmt: skip

    def open_in(self, session: StudySession) -> bool:
        """Remember the fields (not the password), hand the password to memory, open."""
        from cobbdesk.gui import errors

        try:
            url = self.url()
        except Exception as exc:
            errors.report(self, exc, "Opening a server study")
            return False
        store = settings.settings()
        values = (self.host.text().strip(), self.port.value(), self.database.text().strip(),
                  self.user.text().strip())  # fmt: skip
        for key, value in zip(_REMEMBERED, values, strict=True):
            store.setValue(f"server/{key}", value)
        store.sync()
        pg_url.remember_password(pg_url.parse(url), self.password.text())
        self.password.clear()
        return session.open_study(url)


def open_server_study(session: StudySession, parent: QWidget | None = None) -> bool:
    """Ask for the server study and open it; False when cancelled or not opened."""
    dialog = ServerStudyDialog(parent)
    return bool(dialog.exec() == QDialog.DialogCode.Accepted and dialog.open_in(session))
