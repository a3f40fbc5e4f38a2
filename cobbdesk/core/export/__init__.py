"""Exports (CSV wide/long, XLSX, SPSS .sav, codebook) and the study statistics and report.

Column names, labels and units come from :mod:`cobbdesk.core.export.columns` only.

Names are loaded on first use (PEP 562): importing a submodule (``…export.writers``) runs this
file first, and a plain CSV export must not pay for the statistics it does not compute.
:mod:`~cobbdesk.core.export.report` (matplotlib) is never imported from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cobbdesk.core.lazy import lazy_getattr

if TYPE_CHECKING:
    from cobbdesk.core.export.analysis import StudyAnalysis, analyse
    from cobbdesk.core.export.columns import (
        ColumnSpec,
        codebook_rows,
        long_columns,
        wide_columns,
    )
    from cobbdesk.core.export.dataset import load_long, load_wide, long_to_wide
    from cobbdesk.core.export.writers import FORMATS, ExportResult, export_study, neutralise

_HOMES = {
    "analysis": ("StudyAnalysis", "analyse"),
    "columns": ("ColumnSpec", "codebook_rows", "long_columns", "wide_columns"),
    "dataset": ("load_long", "load_wide", "long_to_wide"),
    "writers": ("FORMATS", "ExportResult", "export_study", "neutralise"),
}
__getattr__ = lazy_getattr(__name__, _HOMES)


__all__ = [
    "FORMATS",
    "ColumnSpec",
    "ExportResult",
    "StudyAnalysis",
    "analyse",
    "codebook_rows",
    "export_study",
    "load_long",
    "load_wide",
    "long_columns",
    "long_to_wide",
    "neutralise",
    "wide_columns",
]
