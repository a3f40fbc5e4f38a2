"""Status bar: cursor position in px and mm, the pixel value, the window being dragged,
spacing and its source.  Messages are one line (a multi-line text shows its first line)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from cobbdesk.core.dicom.film import Film, Window
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


def window_text(film: Film | None, window: Window | None) -> str:
    """``"W/L centre 1,024 width 2,048 HU"``: the window in the film's modality units
    (values after the Modality LUT, PS3.3 C.11.1; Hounsfield units for CT)."""
    if film is None or window is None:
        return ""
    units = " HU" if film.modality == "CT" else ""
    digits = 0 if window.width >= 100 else 3 if window.width < 1 else 1
    return f"W/L centre {window.center:,.{digits}f}  width {window.width:,.{digits}f}{units}"


class StatusBar(QStatusBar):
    def __init__(self) -> None:
        super().__init__()
        self.cursor = QLabel()
        self.window_level = QLabel()
        self.window_level.setToolTip("Window centre and width, in the film's modality values")
        self.spacing = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy indicator
        self.progress.setMaximumWidth(140)
        self.progress.setVisible(False)
        self.addPermanentWidget(self.cursor)
        self.addPermanentWidget(self.window_level)
        self.addPermanentWidget(self.spacing)
        self.addPermanentWidget(self.progress)

    def showMessage(self, text: str, timeout: int = 0) -> None:
        """One line: a multi-line message shows its first line (the rest is in its dialog)."""
        lines = text.strip().splitlines()
        super().showMessage(lines[0] if lines else "", timeout)

    def clear_film(self) -> None:
        """Another film (or none) is on screen: nothing of the previous one stays."""
        self.cursor.clear()
        self.window_level.clear()

    def set_loading(self, pending: int) -> None:
        self.progress.setVisible(pending > 0)
        self.progress.setFormat(f"Loading {pending}")
        if pending:
            self.showMessage(f"Loading {pending} film(s)…")
        elif self.currentMessage().startswith("Loading "):
            self.clearMessage()  # only its own message: a hint shown meanwhile stays
