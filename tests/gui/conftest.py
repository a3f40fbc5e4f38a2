"""GUI tests run headless: the offscreen platform is chosen before any Qt import."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
