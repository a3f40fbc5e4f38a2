"""Film > Export measurements as DICOM SR…: the current study film's SRs (one per rater,
:func:`cobbdesk.core.sr.writer.export_sr`, audited like ``cobbdesk export --format sr``) into
a chosen folder, and optionally sent to a saved PACS node (C-STORE, audited), off the UI
thread.  Faults are one line through :mod:`cobbdesk.gui.errors`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from cobbdesk.core.pacs.node import Node, PacsError
from cobbdesk.core.store import FilmRecord, Study
from cobbdesk.gui import errors, settings
from cobbdesk.gui.pacs.node_panel import TIMEOUT_S, Runner

if TYPE_CHECKING:
    from cobbdesk.core.sr.writer import SrFile
    from cobbdesk.gui.host import WindowHost


def saved_nodes() -> list[tuple[str, Node]]:
    """The DIMSE nodes of the Query PACS settings (DICOMweb ones cannot C-STORE here)."""
    config = settings.pacs_config()
    own = str(config.get("own_aet") or "COBBDESK")
    found = []
    for n in config["nodes"]:  # type: ignore[attr-defined]
        if isinstance(n, dict) and not n.get("url"):
            node = Node(str(n["host"]), int(n["port"]), called_aet=str(n["called_aet"]),
                        calling_aet=own, timeout=TIMEOUT_S)  # fmt: skip
            found.append((str(n.get("name") or node.label), node))
    return found


def export_and_send(study: Study, film: FilmRecord, folder: Path, reason: str,
                    node: Node | None) -> tuple[list[SrFile], list[str], int, str]:  # fmt: skip
    """Worker side: (files written, problems, files stored, the C-STORE fault or "")."""
    from cobbdesk.core.sr.writer import export_sr

    files, problems = export_sr(study, folder, film_ids=[film.id], reason=reason)
    if node is None or not files:
        return files, problems, 0, ""
    from cobbdesk.core.pacs.store import store_audited

    try:
        return files, problems, store_audited(study, node, [f.path for f in files], reason), ""
    except PacsError as exc:
        return files, problems, 0, exc.message


class SrExportDialog(QDialog):
    """Folder, reason, optional node; :meth:`export` runs it."""

    def __init__(self, study: Study, film: FilmRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.study, self.film = study, film
        self.result_: tuple[list[Any], list[str], int, str] | None = None
        self.runner = Runner(self)
        self.setWindowTitle(f"Export film #{film.id} measurements as DICOM SR")
        self.folder = QLineEdit(str(Path(study.path).with_name(f"{Path(study.path).stem}-sr")))
        self.folder.textChanged.connect(self.folder.setToolTip)  # a long path: whole in the tip
        self.folder.setToolTip(self.folder.text())
        em = self.folder.fontMetrics().horizontalAdvance("M")
        path_width = self.folder.fontMetrics().horizontalAdvance(self.folder.text()) + em
        self.folder.setMinimumWidth(min(path_width, 50 * em))  # the folder reads whole
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.reason = QLineEdit()
        self.send = QCheckBox("Send to PACS (C-STORE)")
        self.nodes = QComboBox()
        self.node_list = saved_nodes()
        self.nodes.addItems([name for name, _ in self.node_list])
        self.send.setEnabled(bool(self.node_list))
        self.send.setToolTip("" if self.node_list else "Save a node in Study > Query PACS… first")
        self.status = QLabel("The SR files carry the film's patient identifiers.")
        self.status.setWordWrap(True)
        self._layout(browse)

    def _layout(self, browse: QPushButton) -> None:
        layout = QVBoxLayout(self)
        form = QFormLayout()
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("Folder", row)
        form.addRow("Reason (audit trail)", self.reason)
        send = QHBoxLayout()
        send.addWidget(self.send)
        send.addWidget(self.nodes, 1)
        form.addRow("", send)
        layout.addLayout(form)
        layout.addWidget(self.status)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        role = QDialogButtonBox.ButtonRole.ActionRole
        self.export_button = self.buttons.addButton("Export", role)
        self.export_button.clicked.connect(self.export)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the SR files",
                                                  self.folder.text())  # fmt: skip
        if chosen:
            self.folder.setText(chosen)

    def node(self) -> Node | None:
        if not self.send.isChecked() or not self.node_list:
            return None
        return self.node_list[self.nodes.currentIndex()][1]

    def export(self) -> None:
        """Write (and send) the SRs off the UI thread."""
        study, film, node = self.study, self.film, self.node()
        folder, reason = Path(self.folder.text().strip()), self.reason.text().strip()
        self.export_button.setEnabled(False)
        self.status.setText("Writing the SR files…")
        self.runner.run(lambda _p, _c: export_and_send(study, film, folder, reason, node),
                        self._done, self._failed)  # fmt: skip

    def _failed(self, error: BaseException) -> None:
        self.export_button.setEnabled(True)
        self.status.setText("The export failed")
        errors.report(self, error, "Export as DICOM SR")

    def _done(self, result: tuple[list[Any], list[str], int, str]) -> None:
        self.result_ = result
        files, problems, stored, fault = result
        self.export_button.setEnabled(True)
        text = f"{len(files)} SR file(s) written to {self.folder.text()}"
        if stored:
            text += f"; {stored} stored on the PACS"
        if problems:  # refused (the film's file missing or another film): the real reason
            from cobbdesk.core.redact import redact

            text = f"Nothing was written: {redact('; '.join(problems))}"
        elif not files:
            text = "This film has no measurements to export"
        self.status.setText(text)
        if problems or fault:
            errors.present(self, "Export as DICOM SR", "\n".join([*problems, fault]).strip())

    def done(self, result: int) -> None:
        self.runner.shutdown()
        super().done(result)


def current_study_film(window: WindowHost) -> FilmRecord | None:
    """The study film shown in the window (None: no study, or a loose film)."""
    current = window.current
    link = window.session.links.get(current.path) if current is not None else None
    return link.record if link is not None else None


def open_sr_dialog(window: WindowHost) -> SrExportDialog | None:
    """Film > Export measurements as DICOM SR… for the current study film."""
    study, film = window.session.study, current_study_film(window)
    if study is None or film is None:
        errors.present(window, "Export as DICOM SR",  # type: ignore[arg-type]
                       "Open a study film first (Study > Open study…, then a film).")  # fmt: skip
        return None
    dialog = SrExportDialog(study, film, window)  # type: ignore[arg-type]
    dialog.open()
    return dialog
