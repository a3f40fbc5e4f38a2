"""GUI tests run headless: the offscreen platform is chosen before any Qt import."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from typing import Any

import pytest

from tests.gui.qt_thread_guard import no_qt_freed_off_the_ui_thread  # noqa: F401


@pytest.fixture(autouse=True)
def _gc_on_the_ui_thread(qapp: Any) -> Iterator[None]:
    """As in the app (cobbdesk.gui.ui_gc): cycles are collected on the UI thread only."""
    from cobbdesk.gui.ui_gc import UiGarbageCollector

    collector = UiGarbageCollector()
    collector.start()
    yield
    collector.stop()
