"""Exports (CSV wide/long, XLSX, SPSS .sav, codebook) and the study statistics and report.

Column names, labels and units come from :mod:`cobbdesk.core.export.columns` only.

Names are loaded on first use (PEP 562): importing a submodule (``…export.writers``) runs this
file first, and a plain CSV export must not pay for the statistics it does not compute.
:mod:`~cobbdesk.core.export.report` (matplotlib) is never imported from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


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
