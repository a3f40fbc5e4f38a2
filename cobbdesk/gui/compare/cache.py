"""The compare view's film cache: the current patient's films and the next patient's (prefetched).

At most two patients' films are kept; anything else is dropped as soon as the wanted set
changes (a load that finishes for a film no longer wanted is discarded).  Reads go through the
shared :class:`~cobbdesk.gui.workers.FilmLoader`; results for paths this cache did not ask for
are ignored, so the loader can be shared with the main window.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from cobbdesk.core.dicom.film import Film
from cobbdesk.gui.workers import FilmLoader

MAX_PATIENTS = 2


def key(path: str) -> str:
    """The spelling of a path the loader reports back."""
    return str(Path(path))


class FilmCache(QObject):
    """Films (or their error messages) by path, for at most ``MAX_PATIENTS`` patients."""

    ready = Signal(str)  # path: loaded or failed, see :meth:`get`

    def __init__(self, loader: FilmLoader, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.entries: dict[str, Film | str] = {}
        self.pending: set[str] = set()
        self.wanted: dict[int, list[str]] = {}  # patient id -> paths, current first
        loader.loaded.connect(self._loaded)
        loader.failed.connect(self._failed)

    def want(self, groups: list[tuple[int, list[str]]]) -> None:
        """Keep (and load, in order) the films of these patients; drop all others."""
        if groups:  # import on this thread: a first import on the loader's thread can crash
            import cobbdesk.core.dicom.reader  # noqa: F401  (shiboken's import hook)
        self.wanted = {}
        for pid, paths in groups:  # one patient's two regions are one group (not two)
            if pid in self.wanted or len(self.wanted) < MAX_PATIENTS:
                self.wanted.setdefault(pid, []).extend(key(p) for p in paths)
        keep = {p for paths in self.wanted.values() for p in paths}
        self.entries = {p: v for p, v in self.entries.items() if p in keep}
        for paths in self.wanted.values():
            for path in paths:
                if path not in self.entries and path not in self.pending:
                    self.pending.add(path)
                    self.loader.load(Path(path))

    def get(self, path: str) -> Film | str | None:
        """The film, its error message, or None while it is loading."""
        return self.entries.get(key(path))

    def _keep(self, path: str, value: Film | str) -> None:
        path = key(path)
        if path not in self.pending:
            return  # somebody else's load
        self.pending.discard(path)
        if any(path in paths for paths in self.wanted.values()):
            self.entries[path] = value
            self.ready.emit(path)

    def _loaded(self, path: str, film: Film) -> None:
        self._keep(path, film)

    def _failed(self, path: str, message: str) -> None:
        self._keep(path, message)
