"""What the menus, the welcome dialog, the study session and the tools need from the main
window, as a protocol: they depend on this, not on :mod:`cobbdesk.gui.main_window`, so the GUI
layers (``app > main_window > actions > welcome > study > compare > viewer``, checked by
import-linter) have no cycle.  :class:`~cobbdesk.gui.main_window.MainWindow` satisfies it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class WindowHost(Protocol):
    """The main window as seen from below: its widgets and actions (attribute access is
    checked loosely: ``view``, ``panel``, ``status``, ``films``, ``film_list``, ``current``,
    ``loader``, ``session``, ``rater`` …)."""

    rater: str
    confirm_close: bool

    def open_paths(self, paths: list[Path], force: bool = False) -> None: ...

    def open_files_dialog(self) -> None: ...

    def __getattr__(self, name: str) -> Any: ...
