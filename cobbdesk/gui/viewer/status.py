"""Status bar: cursor position in px and mm, the pixel value, spacing and its source."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from cobbdesk.core.dicom.film import Film
from cobbdesk.core.measure.geometry import to_mm


def spacing_text(film: Film | None) -> str:
    if film is None:
        return ""
    if film.spacing_mm is None:
        return "Uncalibrated: measurements in pixels"
    row, col = film.spacing_mm
    return f"Spacing {row:g} × {col:g} mm ({film.spacing_source.value})"


def cursor_text(film: Film | None, x: float, y: float, value: object) -> str:
    if film is None:
        return ""
    text = f"x {x:.1f}  y {y:.1f} px"
    if film.spacing_mm is not None:
        mx, my = to_mm((x, y), film.spacing_mm)
        text += f"  ({mx:.1f}, {my:.1f} mm)"
    return text + (f"   value {value}" if value is not None else "   outside the image")


class StatusBar(QStatusBar):
    def __init__(self) -> None:
        super().__init__()
        self.cursor = QLabel()
        self.spacing = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator
        self.progress.setMaximumWidth(140)
        self.progress.setVisible(False)
        self.addPermanentWidget(self.cursor)
        self.addPermanentWidget(self.spacing)
        self.addPermanentWidget(self.progress)

    def set_loading(self, pending: int) -> None:
        self.progress.setVisible(pending > 0)
        self.progress.setFormat(f"Loading {pending}")
        if pending:
            self.showMessage(f"Loading {pending} film(s)…")
        elif self.currentMessage().startswith("Loading "):
            self.clearMessage()  # only its own message: a hint shown meanwhile stays
