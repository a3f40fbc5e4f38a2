"""The statistics report (:func:`cobbdesk.core.export.report.write_report`) shown and printed by Qt.

The report's HTML is written to a private temporary folder (0700, :mod:`tempfile`) and loaded
into a :class:`QTextDocument`; its figures are embedded as ``data:`` PNG URIs, which
QTextDocument decodes itself, and the folder is also the document's search path.  The figures
are 300 dpi (1800 px wide), so their width is set explicitly: a fixed on-screen width, or a
fraction of the printable width when printed.

Printing (``Print…`` and ``Save as PDF…``) lays a clone of the document out on the printer's
page: ``QTextDocument.setPageSize`` gets the printer's paintable rectangle in points, so the
tables are laid out for that width (QTextDocument wraps cell text, never clips a column) and
:meth:`QTextDocument.print_` paginates.  Portrait A4 (595 × 842 pt) or Letter (612 × 792 pt),
12 mm margins, an 8 pt body so the eleven-column Wilcoxon table fits the width.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF, QUrl
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QTextCursor,
    QTextDocument,
    QTextImageFormat,
)
from PySide6.QtPrintSupport import QPrinter

from cobbdesk.core.private import check_target, write_private

PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}
MARGIN_MM = 12.0
PRINT_POINT_SIZE = 8.0
SCREEN_FIGURE_PX = 640.0
PRINT_FIGURE_FRACTION = 0.8


# QTextDocument has no <figure>: each figure and caption becomes its own paragraph.  In print,
# tables are 7 pt and cells holding a number do not wrap (a number broken over two lines reads
# as two numbers); names, headers and reasons wrap between words.
QT_TAGS = {"<figure>": "<div>", "</figure>": "</div>", "<figcaption>": "<p>",
           "</figcaption>": "</p>"}  # fmt: skip
PRINT_CSS = "<style>table { font-size: 7pt; } td.num { white-space: nowrap; }</style></head>"
CM_MAX_WIDTH = re.compile(r"max-width:\s*[\d.]+cm;?")  # Qt reads a cm max-width as 0 px
NUMBER_CELL = re.compile(r"<td>([-−<t(\d][^<]*)</td>")
DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def qt_html(html: str, *, for_print: bool = False) -> str:
    """The report's HTML with the elements QTextDocument lacks replaced; for print the CSS
    above and cells starting with a number (or ``<0.001``, ``t(6)``) kept on one line."""
    for tag, replacement in QT_TAGS.items():
        html = html.replace(tag, replacement)
    html = CM_MAX_WIDTH.sub("", html)
    if not for_print:
        return html
    html = NUMBER_CELL.sub(r'<td class="num">\1</td>', html)
    return html.replace("</head>", PRINT_CSS, 1)


def set_report_html(
    document: QTextDocument, html: str, folder: Path, *, for_print: bool = False
) -> int:
    """Load the report into ``document``; each ``data:`` PNG figure is written to ``folder``
    as ``figure<N>.png`` (0600) and referenced by its file URL, which QTextDocument and its
    clones (printing clones) load themselves.  Returns the number of figures; raises OSError."""
    count = 0

    def to_file(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        target = folder / f"figure{count}.png"
        if not target.exists():
            write_private(target, base64.b64decode(match.group(1)))
        return f'src="{target.as_uri()}"'

    document.setHtml(DATA_URI.sub(to_file, qt_html(html, for_print=for_print)))
    return count


def set_figure_width(document: QTextDocument, width: float) -> int:
    """Give every image of ``document`` the width ``width`` (document units: px on screen,
    points when laid out on a printer page) keeping its aspect ratio; returns how many."""
    images: list[tuple[int, int, QTextImageFormat]] = []
    block = document.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if fragment.charFormat().isImageFormat():
                image = fragment.charFormat().toImageFormat()
                images.append((fragment.position(), fragment.length(), image))
            it += 1
        block = block.next()
    cursor = QTextCursor(document)
    for position, length, image in images:  # after the walk: editing splits fragments
        image.setWidth(width)
        picture = QImage(QUrl(image.name()).toLocalFile())
        aspect = picture.height() / picture.width() if picture.width() else 0.75
        image.setHeight(width * aspect)
        cursor.setPosition(position)
        cursor.setPosition(position + length, QTextCursor.MoveMode.KeepAnchor)
        cursor.setCharFormat(image)
    return len(images)


def load_report(document: QTextDocument, html_path: Path) -> str:
    """Load the report written at ``html_path`` (UTF-8) into ``document`` and return its HTML;
    relative resources resolve in its folder.  Raises OSError when the file cannot be read."""
    text = html_path.read_text(encoding="utf-8")
    base = html_path.parent.as_uri() + "/"
    document.setMetaInformation(QTextDocument.MetaInformation.DocumentUrl, base)
    set_report_html(document, text, html_path.parent)
    set_figure_width(document, SCREEN_FIGURE_PX)
    return text


def pdf_printer(path: Path, page: str) -> QPrinter:
    """A high-resolution PDF printer writing ``path`` on a portrait ``page`` ("A4"/"Letter").

    Raises ExportError when ``path`` must not be replaced (a study, its SQLite companion file,
    a DICOM film, a link, a folder: :func:`cobbdesk.core.private.check_target`)."""
    check_target(path)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    set_page(printer, page)
    return printer


def set_page(printer: QPrinter, page: str) -> None:
    """Portrait ``page`` ("A4" or "Letter"; KeyError otherwise) with 12 mm margins."""
    layout = QPageLayout(
        QPageSize(PAGE_SIZES[page]),
        QPageLayout.Orientation.Portrait,
        QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
        QPageLayout.Unit.Millimeter,
    )
    printer.setPageLayout(layout)


def _layout_dpi() -> float:
    """The DPI QTextDocument lays text out at without a paint device (Qt's qt_defaultDpi: the
    primary screen's logical DPI, 96 without a screen)."""
    screen = QGuiApplication.primaryScreen()
    return float(screen.logicalDotsPerInchY()) if screen is not None else 96.0


def print_report(html: str, folder: Path, printer: QPrinter) -> int:
    """Lay the report's ``html`` out on ``printer``'s page and print it; returns the page count.

    A fresh document whose page size is the printer's paintable rectangle, body
    8 pt, figures 80 % of the printable width, so no table column runs past the margin.
    """
    document = QTextDocument()
    font = QFont(document.defaultFont())
    font.setPointSizeF(PRINT_POINT_SIZE)
    document.setDefaultFont(font)
    set_report_html(document, html, folder, for_print=True)
    # QTextDocument lays out in pixels of the screen's logical DPI and print_ scales that to the
    # printer: the page must be in those pixels, else every font grows by dpi / 72
    dpi = _layout_dpi()
    rect = printer.pageLayout().paintRect(QPageLayout.Unit.Inch)
    document.setPageSize(QSizeF(rect.width() * dpi, rect.height() * dpi))
    set_figure_width(document, rect.width() * dpi * PRINT_FIGURE_FRACTION)
    document.print_(printer)
    return document.pageCount()
