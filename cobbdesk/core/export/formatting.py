"""The one formatter of p values, significance marks and table numbers (report, CLI, GUI).

p values are written as in the seed paper: three decimals, ``<0.001`` below 0.001 (never
``0.000`` or ``p = <0.001``).  Values get the decimals the codebook gives their variable;
integer variables (VAS, CPK, ESR, ALT, AST) have none, their means and SDs one.

>>> format_p(0.0004), format_p(0.0123), format_p(1.0), format_p(None)
('<0.001', '0.012', '1.000', '')
>>> p_phrase(0.0004), p_phrase(0.0496)
('p < 0.001', 'p = 0.050')
>>> stars(0.004), stars(0.03), stars(0.2)
('**', '*', '')
>>> format_value(10.0, 0), format_value(-0.0004, 2), format_value(None, 1)
('10', '0.00', '')
"""

from __future__ import annotations

P_FLOOR = 0.001
SIGNIFICANCE = ((0.01, "**"), (0.05, "*"))
"""Marks after r or rho: ``**`` p < 0.01, ``*`` p < 0.05 (explained in each table's footnote)."""
SIGNIFICANCE_FOOTNOTE = "* p < 0.05; ** p < 0.01 (two-sided)"


def format_p(p: float | None) -> str:
    """A p value for a table cell: ``<0.001`` or three decimals ("" when None)."""
    if p is None:
        return ""
    return f"<{P_FLOOR:.3f}" if p < P_FLOOR else f"{p:.3f}"


def p_phrase(p: float | None) -> str:
    """A p value in running text: ``p < 0.001`` or ``p = 0.012`` ("" when None)."""
    if p is None:
        return ""
    return f"p < {P_FLOOR:.3f}" if p < P_FLOOR else f"p = {p:.3f}"


def stars(p: float | None) -> str:
    """Significance mark for ``p`` (see ``SIGNIFICANCE``)."""
    if p is None:
        return ""
    return next((mark for limit, mark in SIGNIFICANCE if p < limit), "")


def format_value(value: float | None, decimals: int) -> str:
    """Fixed-point text with ``decimals`` decimals, no negative zero ("" when None)."""
    if value is None:
        return ""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def summary_decimals(decimals: int) -> int:
    """Decimals of a mean or SD of a variable given to ``decimals`` (integers get one)."""
    return max(decimals, 1)
