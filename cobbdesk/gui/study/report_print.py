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

from pathlib import Path

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import (
    QFont,
    QPageLayout,
    QPageSize,
    QTextCursor,
    QTextDocument,
    QTextImageFormat,
)
from PySide6.QtPrintSupport import QPrinter

PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}
MARGIN_MM = 12.0
PRINT_POINT_SIZE = 8.0
SCREEN_FIGURE_PX = 640.0
PRINT_FIGURE_FRACTION = 0.8


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
        image.setHeight(0.0)  # 0: the height follows the image's aspect ratio
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
    document.setHtml(text)
    set_figure_width(document, SCREEN_FIGURE_PX)
    return text


def pdf_printer(path: Path, page: str) -> QPrinter:
    """A high-resolution PDF printer writing ``path`` on a portrait ``page`` ("A4"/"Letter")."""
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


def print_report(html: str, printer: QPrinter) -> int:
    """Lay the report's ``html`` out on ``printer``'s page and print it; returns the page count.

    A fresh document whose page size is the printer's paintable rectangle in points, body
    8 pt, figures 80 % of the printable width, so no table column runs past the margin.
    """
    document = QTextDocument()
    font = QFont(document.defaultFont())
    font.setPointSizeF(PRINT_POINT_SIZE)
    document.setDefaultFont(font)
    document.setHtml(html)
    rect = printer.pageLayout().paintRect(QPageLayout.Unit.Point)
    document.setPageSize(QSizeF(rect.width(), rect.height()))
    set_figure_width(document, rect.width() * PRINT_FIGURE_FRACTION)
    document.print_(printer)
    return document.pageCount()
