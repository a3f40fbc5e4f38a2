"""Status bar: cursor position in px and mm, the pixel value, the window being dragged,
spacing and its source.  Messages are one line (a multi-line text shows its first line).

The bar never draws text over text nor squeezes a label below its text: when a message and
the readouts do not fit side by side (a prompt at 1366×768, or at 200 % scaling), the cursor
readout and then the window readout step aside until the message is cleared or the window
grows (:meth:`StatusBar.fit`); the spacing, the save state and the progress always stay."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QWidget

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


SLACK_PX = 40
"""Room kept beside the message: QStatusBar's margins, the gaps between its items and the
size grip (a few pixels each)."""


class Readout(QLabel):
    """A readout the bar may hide when it does not fit; a new text asks the bar to fit again
    (a hidden label tells its parent nothing when its text changes)."""

    def __init__(self, refit: Callable[[], None]) -> None:
        super().__init__()
        self._refit = refit

    def setText(self, text: str) -> None:
        super().setText(text)
        self._refit()

    def clear(self) -> None:
        super().clear()
        self._refit()


class StatusBar(QStatusBar):
    def __init__(self) -> None:
        super().__init__()
        self._permanent: list[QWidget] = []
        self._fitting = False
        self.cursor = Readout(self.fit)
        self.window_level = Readout(self.fit)
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
        self.messageChanged.connect(lambda _text: self.fit())

    def addPermanentWidget(self, widget: QWidget, stretch: int = 0) -> None:
        super().addPermanentWidget(widget, stretch)
        self._permanent.append(widget)
        self.fit()

    def fit(self) -> None:
        """Show the cursor and window readouts only where they fit beside the message and the
        other permanent widgets (their width: their size hint at the current font)."""
        if self._fitting:
            return
        self._fitting = True
        try:
            droppable = (self.cursor, self.window_level)  # the first steps aside first
            kept = [w for w in self._permanent if w not in droppable and not w.isHidden()]
            layout = self.layout()
            spacing = max(layout.spacing() if layout is not None else 0, 4)
            used = sum(w.sizeHint().width() + spacing for w in kept) + SLACK_PX
            message = self.currentMessage()
            if message:
                used += self.fontMetrics().horizontalAdvance(message)
            for label in reversed(droppable):  # the window readout is kept longer
                width = label.sizeHint().width() + spacing if label.text() else 0
                fits = used + width <= self.width()
                used += width if fits else 0
                label.setVisible(fits)
        finally:
            self._fitting = False

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:  # a permanent widget's text changed
            self.fit()
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit()

    def showMessage(self, text: str, timeout: int = 0) -> None:
        """One line: a multi-line message shows its first line (the rest is in its dialog).
        Not redacted here: at 100,000 patients the first ``redact()`` waits for the
        redaction index the pool is building (first paint 0.77 s → 0.96 s measured); callers
        show counts and study codes, and the dialogs holding file names redact them."""
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
