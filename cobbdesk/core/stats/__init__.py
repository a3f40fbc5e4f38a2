"""Pure statistics for paired visits, correlations, descriptives and reliability.

Functions take plain sequences or numpy arrays (NaN or None for missing) and return
frozen result dataclasses that name their method, say whether they are computable (with a
reason when not) and convert to JSON-able dicts with ``to_dict()``.  numpy/scipy only.
"""

from __future__ import annotations

from cobbdesk.core.stats.correlation import SpearmanResult, spearman
from cobbdesk.core.stats.descriptive import Descriptive, describe, describe_table
from cobbdesk.core.stats.paired import (
    HodgesLehmann,
    PairedTResult,
    WilcoxonResult,
    hodges_lehmann,
    paired_t_test,
    wilcoxon_signed_rank,
)
from cobbdesk.core.stats.reliability import (
    BlandAltmanResult,
    IccResult,
    MdcFlags,
    SemMdc,
    bland_altman,
    flag_changes_below_mdc,
    icc_a1,
    sem_mdc,
)
from cobbdesk.core.stats.results import StatResult
from cobbdesk.core.stats.rmcorr import RmcorrResult, rmcorr

__all__ = [
    "BlandAltmanResult",
    "Descriptive",
    "HodgesLehmann",
    "IccResult",
    "MdcFlags",
    "PairedTResult",
    "RmcorrResult",
    "SemMdc",
    "SpearmanResult",
    "StatResult",
    "WilcoxonResult",
    "bland_altman",
    "describe",
    "describe_table",
    "flag_changes_below_mdc",
    "hodges_lehmann",
    "icc_a1",
    "paired_t_test",
    "rmcorr",
    "sem_mdc",
    "spearman",
    "wilcoxon_signed_rank",
]
