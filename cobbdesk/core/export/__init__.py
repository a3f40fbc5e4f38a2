"""Exports (CSV wide/long, XLSX, SPSS .sav, codebook) and the study statistics and report.

Column names, labels and units come from :mod:`cobbdesk.core.export.columns` only.
:mod:`~cobbdesk.core.export.report` (matplotlib) is imported on demand, never from here.
"""

from cobbdesk.core.export.analysis import StudyAnalysis, analyse
from cobbdesk.core.export.columns import ColumnSpec, codebook_rows, long_columns, wide_columns
from cobbdesk.core.export.dataset import load_long, load_wide, long_to_wide
from cobbdesk.core.export.writers import FORMATS, ExportResult, export_study, neutralise

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
