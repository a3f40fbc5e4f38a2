"""The PACS node part of the Query PACS dialog: saved nodes (settings), the node's AE title,
host and port or a DICOMweb URL, CobbDesk's own AE title and C-MOVE port, and a runner that
does network work off the UI thread (one job at a time)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from cobbdesk.core.pacs.node import Node
from cobbdesk.gui import settings
from cobbdesk.gui.pacs.tasks import Target
from cobbdesk.gui.study.jobs import BackgroundJob, Job

TIMEOUT_S = 30.0


class Runner(QObject):
    """Runs :class:`~cobbdesk.gui.study.jobs.BackgroundJob` s on one worker thread; results
    come back on the UI thread (no Qt call from the worker)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cobbdesk-pacs")
        self.job: BackgroundJob | None = None

    def run(self, job: Job, done: Callable[[Any], None], failed: Callable[[Any], None],
            progressed: Callable[[int, int], None] | None = None) -> BackgroundJob:  # fmt: skip
        worker = BackgroundJob(job, self)
        self.job = worker

        def finish(handler: Callable[[Any], None], value: Any) -> None:
            # no deleteLater here: the worker thread may still be returning from the post
            # that queued this call, and deleting its QObject under it crashed (segfault in
            # a test, 2 runs of 8); the job belongs to this runner and goes with it
            if self.job is worker:
                self.job = None
            handler(value)

        worker.finished.connect(lambda v: finish(done, v))
        worker.failed.connect(lambda e: finish(failed, e))
        if progressed is not None:
            worker.progressed.connect(progressed)
        self._pool.submit(worker.run)
        return worker

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancelled.set()

    def shutdown(self) -> None:
        """Cancel the running job and wait for the worker thread (dialog closing)."""
        self.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


class NodePanel(QGroupBox):
    """Which PACS to talk to; :meth:`target` gives a Node or a DICOMweb URL."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("PACS node", parent)
        self.config = settings.pacs_config()
        self.timeout = TIMEOUT_S
        self.nodes = QComboBox(editable=True)
        self.nodes.setToolTip("Saved nodes; type a new name and press Save node to add one")
        self.called_aet, self.host = QLineEdit("ANY-SCP"), QLineEdit("127.0.0.1")
        self.port = QSpinBox(minimum=1, maximum=65535, value=104)
        self.url = QLineEdit(placeholderText="http://server/dicom-web (leave empty for DIMSE)")
        self.own_aet = QLineEdit(str(self.config["own_aet"]))
        self.own_port = QSpinBox(minimum=1, maximum=65535, value=int(str(self.config["own_port"])))
        self.echo_button, self.save_button = QPushButton("Test (C-ECHO)"), QPushButton("Save node")
        self.remove_button = QPushButton("Remove")
        form = QFormLayout(self)
        row = QHBoxLayout()
        for widget in (self.nodes, self.save_button, self.remove_button):
            row.addWidget(widget)
        form.addRow("Node", row)
        form.addRow("Called AE title", self.called_aet)
        address = QHBoxLayout()
        address.addWidget(self.host, 3)
        address.addWidget(self.port, 1)
        form.addRow("Host and port", address)
        form.addRow("DICOMweb URL", self.url)
        own = QHBoxLayout()
        own.addWidget(self.own_aet, 3)
        own.addWidget(self.own_port, 1)
        own.addWidget(self.echo_button)
        form.addRow("CobbDesk AE title, port", own)
        self.save_button.clicked.connect(self.save)
        self.remove_button.clicked.connect(self.remove)
        self._fill()
        self.nodes.currentIndexChanged.connect(lambda _: self.load(self.nodes.currentText()))

    def _saved(self) -> list[dict[str, Any]]:
        return [n for n in self.config["nodes"] if isinstance(n, dict)]  # type: ignore[attr-defined]

    def _fill(self) -> None:
        self.nodes.blockSignals(True)
        self.nodes.clear()
        self.nodes.addItems([str(n.get("name", "")) for n in self._saved()])
        self.nodes.blockSignals(False)
        if self.config.get("last"):
            self.nodes.setCurrentText(str(self.config["last"]))
            self.load(str(self.config["last"]))

    def load(self, name: str) -> None:
        """Show the saved node called ``name`` (nothing when there is none)."""
        for node in self._saved():
            if node.get("name") == name:
                self.called_aet.setText(str(node.get("called_aet", "")))
                self.host.setText(str(node.get("host", "")))
                self.port.setValue(int(node.get("port", 104)))
                self.url.setText(str(node.get("url", "")))

    def save(self) -> None:
        """Store the shown node under its name (replacing one of the same name) and
        CobbDesk's own AE title and port, in the settings."""
        name = self.nodes.currentText().strip() or self.called_aet.text().strip() or "PACS"
        entry = {"name": name, "called_aet": self.called_aet.text().strip(),
                 "host": self.host.text().strip(), "port": self.port.value(),
                 "url": self.url.text().strip()}  # fmt: skip
        nodes = [n for n in self._saved() if n.get("name") != name] + [entry]
        self.config.update(nodes=nodes, last=name, own_aet=self.own_aet.text().strip(),
                           own_port=self.own_port.value())  # fmt: skip
        settings.set_pacs_config(self.config)
        self._fill()

    def remove(self) -> None:
        name = self.nodes.currentText()
        self.config["nodes"] = [n for n in self._saved() if n.get("name") != name]
        self.config["last"] = ""
        settings.set_pacs_config(self.config)
        self._fill()

    def target(self) -> Target:
        """The DICOMweb URL when one is given, else the DIMSE node."""
        if self.url.text().strip():
            return self.url.text().strip()
        return Node(self.host.text().strip(), self.port.value(),
                    called_aet=self.called_aet.text().strip(),
                    calling_aet=self.own_aet.text().strip() or "COBBDESK",
                    timeout=self.timeout)  # fmt: skip

    def describe(self) -> str:
        target = self.target()
        return target if isinstance(target, str) else target.label
