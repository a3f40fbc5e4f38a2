"""The demo study: generated off the UI thread into a temporary folder owned by this process.

Generating the 12-patient demo takes seconds (far more under load), so it runs in a worker
thread while the window stays painted and responsive; the status bar shows how many films
are written.  The folder is ``<temp>/cobbdesk-demo-<pid>-<random>``: it is removed when the
window closes, and a later start removes the folders of processes that are gone (crashes,
kills), so demo runs never pile up in the temporary folder.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from cobbdesk.gui.host import WindowHost as MainWindow

logger = logging.getLogger("cobbdesk.gui")
PREFIX = "cobbdesk-demo-"
_OWNED = re.compile(rf"^{PREFIX}(\d+)-")


def temp_root() -> Path:
    """Where demo folders go (the system temporary folder, or ``$COBBDESK_DEMO_DIR``)."""
    return Path(os.environ.get("COBBDESK_DEMO_DIR") or tempfile.gettempdir())


def new_folder() -> Path:
    """A fresh demo folder named after this process."""
    root = temp_root()
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root))


def is_demo_path(path: Path) -> bool:
    """True for a file inside a demo folder (not worth remembering as a recent study)."""
    return any(part.startswith(PREFIX) for part in Path(path).parts)


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (POSIX signal 0; OpenProcess on Windows)."""
    if pid == os.getpid():
        return True
    if os.name == "nt":  # pragma: no cover - Windows only
        import ctypes

        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)  # type: ignore[attr-defined]
        if handle:
            ctypes.windll.kernel32.CloseHandle(handle)  # type: ignore[attr-defined]
        return bool(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(root: Path | None = None) -> list[Path]:
    """Remove demo folders of earlier runs whose process is gone (and unnamed ones of older
    versions); returns what was removed."""
    root = root or temp_root()
    removed = []
    for folder in root.glob(f"{PREFIX}*"):
        owner = _OWNED.match(folder.name)
        if folder.is_dir() and (owner is None or not _alive(int(owner.group(1)))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    if removed:
        logger.info("Removed %d demo folder(s) left by earlier runs", len(removed))
    return removed


class DemoGenerator(QObject):
    """Writes the demo study in a worker thread; ``finished(path)`` or ``failed(message)``
    arrive on the UI thread, ``progressed(done, total)`` after each film."""

    progressed = Signal(int, int)
    finished = Signal(object)  # Path of the study file
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from cobbdesk.gui.study.jobs import BackgroundJob

        # The generator's imports (numpy, the store, pydicom) happen here, on the UI thread:
        # a first import on a worker thread races PySide6's import hook.
        from cobbdesk.synth.demo_study import write_demo_study

        self.folder = new_folder()
        folder = self.folder
        self.job = BackgroundJob(
            lambda progress, cancel: write_demo_study(folder, progress=progress, cancel=cancel),
            self,
        )
        self.job.progressed.connect(self.progressed)
        self.job.finished.connect(self.finished)
        self.job.failed.connect(lambda exc: self.failed.emit(_message(exc)))
        self._thread = threading.Thread(target=self.job.run, name="cobbdesk-demo", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the worker to stop after its current film and wait for it."""
        self.job.cancelled.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def remove(self) -> None:
        """Stop, then delete the demo folder (the study must be closed first)."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def _message(exc: Any) -> str:
    from cobbdesk.core.errors import CobbdeskError

    if isinstance(exc, CobbdeskError):
        return exc.message
    return f"the demo study could not be written ({type(exc).__name__}: {exc})"


def start_demo(window: MainWindow) -> DemoGenerator | None:
    """Generate the demo study in the background, then open it with a film to measure.

    The window stays usable meanwhile; its status bar shows the progress.  Returns None when
    a demo is already being generated.
    """
    current = getattr(window, "demo", None)
    if current is not None and current.running:
        window.status.showMessage("The demo study is still being generated…", 5000)
        return None
    window.status.showMessage("Generating the demo study…")
    generator = DemoGenerator(window)  # type: ignore[arg-type]
    window.demo = generator
    window.demos.append(generator)
    generator.progressed.connect(lambda done, total: _progress(window, done, total))
    generator.finished.connect(lambda path: _generated(window, path))
    generator.failed.connect(lambda message: _failed(window, message))
    generator.start()
    return generator


def _progress(window: MainWindow, done: int, total: int) -> None:
    window.status.progress.setRange(0, total)
    window.status.progress.setValue(done)
    window.status.progress.setFormat(f"Demo {done}/{total}")
    window.status.progress.setVisible(done < total)
    window.status.showMessage(f"Generating the demo study… {done} of {total} films")


def _generated(window: MainWindow, path: Path) -> None:
    window.status.progress.setVisible(False)
    window.status.progress.setRange(0, 0)
    window.status.clearMessage()
    window.confirm_close = False
    if window.session.open_study(path):
        show_a_film_to_measure(window)


def _failed(window: MainWindow, message: str) -> None:
    from cobbdesk.gui import errors

    window.status.progress.setVisible(False)
    window.status.progress.setRange(0, 0)
    window.status.clearMessage()
    errors.present(window, "Generating the demo study failed", message)  # type: ignore[arg-type]


def show_a_film_to_measure(window: MainWindow) -> None:
    """Open the first unmeasured film so a newcomer can try the tool at once."""
    window.session.open_first_unmeasured()  # found off the UI thread
    window.status.showMessage(
        "Demo study: 12 synthetic patients. Press C (C2–C7) or L (L1–S1) and click the "
        "endplate corners; Ctrl+K compares a patient's two visits.",
        15000,
    )
