"""Guards of the GUI tests: Qt objects are touched and freed on the UI thread only.

Qt objects (widgets, timers, event loops, signals) belong to the UI thread.  Freed on a
worker thread — the last reference dropped there, or Python's cyclic garbage collector run
there — a QObject is deleted off its thread: its timers stay registered with the UI thread's
event dispatcher and the UI thread's next event loop, in whatever test runs next, crashes
(a segmentation fault: a crashed xdist worker).  Called on a worker, a signal or method
corrupts PySide6 reference counts (:mod:`cobbdesk.gui.dispatch`).

* :class:`OffThreadFinalize` (every GUI test, :func:`no_qt_freed_off_the_ui_thread`): fails
  the test in which a PySide6 wrapper was finalized on another thread, with that thread's
  Python stack.  It sees wrappers of the app's QObject subclasses (any path) and wrappers of
  Qt's own classes freed by the garbage collector (CPython calls ``__del__`` of collected
  objects; Shiboken's own deallocator does not).
* :class:`OffThreadQt` (opt-in, ``COBBDESK_QT_CALL_GUARD=1``: it doubles the run time):
  fails the test in which a PySide6 function or method was called on a Python worker thread
  (:func:`threading.setprofile`; threads Qt starts itself, QThreadPool's, are not seen).
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest
from PySide6 import QtCore, QtGui, QtWidgets
from shiboken6 import Shiboken

QT_MODULES = ("PySide6", "shiboken6", "Shiboken")
MAIN = threading.main_thread().ident
KEEP = 5  # findings kept per test (each with its stack)


def _stack(frame: FrameType | None = None) -> str:
    return "".join(traceback.format_stack(frame, limit=10))


class OffThreadFinalize:
    """Records PySide6 wrappers finalized off the main thread while :attr:`active`."""

    active: OffThreadFinalize | None = None
    installed = False

    def __init__(self) -> None:
        self.freed: list[str] = []

    @classmethod
    def install_hook(cls) -> None:
        """Give QObject and every QObject class of QtCore/QtGui/QtWidgets a ``__del__`` that
        reports to the active recorder (once per process)."""
        if cls.installed:
            return
        for module in (QtCore, QtGui, QtWidgets):
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, QtCore.QObject):
                    value.__del__ = _finalized  # type: ignore[attr-defined]
        cls.installed = True

    def __enter__(self) -> OffThreadFinalize:
        self.install_hook()
        OffThreadFinalize.active = self
        return self

    def __exit__(self, *exc: object) -> None:
        OffThreadFinalize.active = None


def _finalized(wrapper: Any) -> None:
    recorder = OffThreadFinalize.active
    if recorder is None or threading.get_ident() == MAIN or len(recorder.freed) >= KEEP:
        return
    name = threading.current_thread().name
    recorder.freed.append(f"{type(wrapper).__name__} freed on thread {name}:\n{_stack()}")


def _qt_name(function: Any) -> str | None:
    """``Class.method`` when ``function`` (a C function or bound C method) belongs to Qt."""
    owner = getattr(function, "__self__", None)
    module = getattr(function, "__module__", None) or ""
    if isinstance(owner, Shiboken.Object) or type(owner).__module__.startswith(QT_MODULES):
        kind = type(owner).__name__
    elif isinstance(owner, type) and owner.__module__.startswith(QT_MODULES):
        kind = owner.__name__
    elif module.startswith(QT_MODULES):
        kind = module
    else:
        return None
    return f"{kind}.{getattr(function, '__name__', '?')}"


class OffThreadQt:
    """Records Qt calls made on Python threads other than the main one while installed."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "c_call":
            return
        name = _qt_name(arg)
        if name is None:
            return
        with self._lock:
            if len(self.calls) < KEEP:
                thread = threading.current_thread().name
                self.calls.append(f"{name} on thread {thread}:\n{_stack(frame)}")

    def install(self) -> None:
        threading.setprofile(self._profile)

    def remove(self) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_qt_freed_off_the_ui_thread() -> Iterator[OffThreadFinalize]:
    """Every GUI test: no Qt object freed (and, opted in, none called) on a worker thread."""
    calls = OffThreadQt() if os.environ.get("COBBDESK_QT_CALL_GUARD") == "1" else None
    if calls is not None:
        calls.install()
    try:
        with OffThreadFinalize() as freed:
            yield freed
    finally:
        if calls is not None:
            calls.remove()
    found = freed.freed + (calls.calls if calls is not None else [])
    if found:
        pytest.fail("Qt object freed or called on a worker thread (Qt objects live and die on "
                    "the UI thread: gui.dispatch, gui.ui_gc):\n" + "\n".join(found),
                    pytrace=False)  # fmt: skip
