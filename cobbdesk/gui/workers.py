"""Loading films off the UI thread (and, by default, in a crash-isolated worker process)."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.dicom.isolated import IsolatedReader
from cobbdesk.core.errors import CobbdeskError, MissingFileMetaError
from cobbdesk.gui.dispatch import UiDispatcher


class FilmLoader(QObject):
    """Queue of film reads; results arrive as signals emitted on the UI thread.

    ``isolated=True`` decodes in a separate process (a decoder crash costs one file, not the
    app); ``False`` decodes in a background thread (faster start-up, used by tests).
    """

    loaded = Signal(str, object)  # path, Film
    failed = Signal(str, str)  # path, user-facing message
    pendingChanged = Signal(int)  # number of files still loading

    def __init__(self, isolated: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cobbdesk-load")
        self._isolated = IsolatedReader() if isolated else None
        self._pending = 0
        self.forceable: set[str] = set()
        """Paths that failed only for want of File Meta: they may be opened anyway (force)."""
        self._dispatch = UiDispatcher(self)
        if self._isolated is not None:
            self._isolated.start()

    def _read(self, path: Path, force: bool) -> Film:
        """The film, its pixel hash finished: a study film's identity check (same pixel hash:
        :func:`~cobbdesk.core.importing.relink.mismatch`) and its measuring context read the
        hash on the UI thread, which must never wait for it (10–30 ms for a large film).  The
        isolated reader's process hashes before sending the film back; here this worker does.
        Until the film arrives its list entry says "loading…" and nothing measures on it."""
        if self._isolated is not None:
            return self._isolated.read(path, force=force)
        from cobbdesk.core.dicom.reader import read_film

        film = read_film(path, force=force)
        _ = film.pixel_sha256  # finished on this worker (Film.digest becomes the str)
        return film

    def read_blocking(self, path: Path, force: bool = False) -> Film:
        """Read one film now, from any thread (crash-isolated when the loader is)."""
        return self._read(path, force)

    def load(self, path: Path, force: bool = False) -> None:
        # Import the reader here, on the UI thread: a first import on a worker thread races
        # PySide6's import hook.  (It is not imported at start-up, to keep the first paint fast.)
        import cobbdesk.core.dicom.reader  # noqa: F401

        self._pending += 1
        self.pendingChanged.emit(self._pending)
        self._dispatch.expect()
        future = self._threads.submit(self._read, path, force)
        # The callback runs on the worker thread: it only queues; Qt is touched on the UI thread.
        future.add_done_callback(lambda f, p=path: self._dispatch.post(self._done, p, f))

    def _done(self, path: Path, future: Future[Film]) -> None:  # UI thread
        self._pending -= 1
        self._dispatch.done()
        self.pendingChanged.emit(self._pending)
        try:
            self.loaded.emit(str(path), future.result())
        except MissingFileMetaError as exc:
            self.forceable.add(str(path))
            self.failed.emit(str(path), exc.message)
        except CobbdeskError as exc:
            self.failed.emit(str(path), exc.message)
        except Exception as exc:  # never let a load take the app down
            self.failed.emit(
                str(path), f"{path.name}: internal error ({type(exc).__name__}: {exc})"
            )

    def close(self) -> None:
        self._threads.shutdown(wait=True, cancel_futures=True)
        if self._isolated is not None:
            self._isolated.close()
