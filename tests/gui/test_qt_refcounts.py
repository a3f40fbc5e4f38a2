"""Guard against a Qt binding that corrupts Python reference counts while painting.

PySide6 6.12.0 lost one reference to ``None`` on every QPainter cycle, so a viewer that
repaints crashed after enough frames ("deallocating None").  pyproject.toml excludes it;
this test fails if a future binding brings the problem back.
"""

from __future__ import annotations

import gc
import sys

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QPen


def _reference_counts() -> tuple[int, int, int]:
    gc.collect()
    return sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)


def test_painting_does_not_leak_or_steal_references(qapp) -> None:  # type: ignore[no-untyped-def]
    image = QImage(64, 64, QImage.Format.Format_Grayscale8)
    image.fill(0)
    target = QImage(128, 128, QImage.Format.Format_ARGB32)
    before = _reference_counts()
    for _ in range(500):
        with QPainter(target) as painter:
            painter.setPen(QPen(QColor("red")))
            painter.drawImage(QRectF(0, 0, 32, 32), image)
    after = _reference_counts()
    drift = [b - a for a, b in zip(before, after, strict=True)]
    assert all(abs(d) < 50 for d in drift), f"None/True/False reference drift {drift}"
