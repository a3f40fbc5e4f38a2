"""Figures for a paper: paired admission → month 3 plots, VAS vs N/L ratio, Bland–Altman.

Drawn with the Agg canvas directly (no pyplot, no global backend switch), 6 × 4.5 inches,
saved as 300 dpi PNG and as SVG.  Box plots are drawn with :meth:`Axes.bxp` from the
quartiles of :func:`cobbdesk.core.stats.describe` (weighted average at p(n+1), SPSS
HAVERAGE), so a box shows the numbers of the tables; whiskers reach the most extreme value
within 1.5 IQR of the box (Tukey 1977).  Each figure has a numbered caption with n and p.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cobbdesk.core.export.analysis import LABELS, Reliability, StudyAnalysis
from cobbdesk.core.export.formatting import format_value, p_phrase
from cobbdesk.core.private import write_private
from cobbdesk.core.stats import describe
from cobbdesk.core.stats.results import FloatArray

DPI = 300
SIZE_INCHES = (6.0, 4.5)
WHISKER_IQR = 1.5
Plot = Callable[[Axes], None]


@dataclass(frozen=True)
class PaperFigure:
    """One numbered figure: file key, caption (without its number) and how to draw it."""

    key: str
    caption: str
    draw: Plot


def box_stats(values: FloatArray, label: str) -> dict[str, object]:
    """Matplotlib ``bxp`` statistics from the tables' quartiles (HAVERAGE) and Tukey whiskers."""
    d = describe(values, name=label)
    q1, q3 = float(d.q1 or 0.0), float(d.q3 or 0.0)
    low, high = q1 - WHISKER_IQR * (q3 - q1), q3 + WHISKER_IQR * (q3 - q1)
    inside = values[(values >= low) & (values <= high)]
    return {
        "label": label,
        "med": d.median,
        "q1": q1,
        "q3": q3,
        "whislo": float(inside.min()),
        "whishi": float(inside.max()),
        "fliers": values[(values < low) | (values > high)],
    }


def _pairs(analysis: StudyAnalysis, name: str) -> FloatArray:
    if analysis.values.empty:
        return np.zeros((0, 2))
    table = analysis.values[name].unstack("event").reindex(columns=["admission", "month3"])
    return np.asarray(table.dropna().to_numpy(dtype=np.float64))


def _paired(analysis: StudyAnalysis, region: str) -> PaperFigure:
    name = f"{region}_cobb"
    pairs = _pairs(analysis, name)
    w = analysis.wilcoxon[name]
    test = f"Wilcoxon signed-rank {p_phrase(w.p)}" if w.computable else w.reason

    def draw(ax: Axes) -> None:
        """Each patient's admission → month 3 angles (degrees) joined, over the two boxes."""
        for a, b in pairs:
            ax.plot([1, 2], [a, b], color="0.65", linewidth=0.7, marker="o", markersize=2.5)
        if pairs.shape[0]:
            stats = [box_stats(pairs[:, 0], "Admission"), box_stats(pairs[:, 1], "Month 3")]
            ax.bxp(
                stats,
                positions=[1, 2],
                widths=0.35,
                showfliers=False,
                medianprops={"color": "black", "linewidth": 1.5},
            )
        else:
            ax.text(0.5, 0.5, "no complete pairs", ha="center", transform=ax.transAxes)
        ax.set_xticks([1, 2], ["Admission", "Month 3"])
        ax.set_ylabel(f"{LABELS[name]} (°)")

    caption = (
        f"{LABELS[name]} at admission and month 3 (n = {pairs.shape[0]} patients with both "
        f"visits; {test}). Lines join a patient's visits; boxes show the median and quartiles "
        "as in the tables, whiskers the most extreme values within 1.5 IQR."
    )
    return PaperFigure(f"{region}_paired", caption, draw)


def _vas_nlr(analysis: StudyAnalysis) -> PaperFigure:
    values = analysis.values
    parts = []
    for r in analysis.spearman:
        if r.y_name == "nlr":
            rho = f"ρ = {format_value(r.rho, 2)}, {p_phrase(r.p)}" if r.computable else "ρ n/a"
            visit = "month 3" if r.visit == "month3" else str(r.visit)
            parts.append(f"{visit}: n = {r.n}, {rho}")
    rm = next((r for r in analysis.rmcorr if r.y_name == "nlr"), None)
    if rm is not None and rm.computable:
        parts.append(f"repeated-measures r = {format_value(rm.r, 2)}, {p_phrase(rm.p)}")

    def draw(ax: Axes) -> None:
        """VAS against NLR at each visit, one marker per visit."""
        if not values.empty:
            for event, marker, label in (
                ("admission", "o", "Admission"),
                ("month3", "s", "Month 3"),
            ):
                part = values.xs(event, level="event")
                ax.scatter(part["nlr"], part["vas"], marker=marker, label=label, alpha=0.75, s=14)
            ax.legend(frameon=False)
        ax.set_xlabel("Neutrophil/lymphocyte ratio")
        ax.set_ylabel("VAS pain score")

    caption = f"VAS pain score against the neutrophil/lymphocyte ratio ({'; '.join(parts)})."
    return PaperFigure("vas_nlr", caption, draw)


def _bland_altman(rel: Reliability) -> PaperFigure:
    names: Sequence[str] = rel.raters[:2]
    data = np.asarray(rel.ba_pairs, dtype=np.float64).reshape(-1, 2)
    ba = rel.bland_altman

    def draw(ax: Axes) -> None:
        """Bland–Altman plot of the first two raters (degrees): bias and limits of agreement."""
        mean, diff = data.mean(axis=1), data[:, 0] - data[:, 1]
        ax.scatter(mean, diff, s=12)
        if ba is not None and ba.computable:
            for y, style in ((ba.bias, "-"), (ba.loa_low, "--"), (ba.loa_high, "--")):
                ax.axhline(float(y or 0.0), linestyle=style, color="0.3", linewidth=0.8)
        ax.set_xlabel("Mean of the two raters (°)")
        ax.set_ylabel(f"{names[0]} − {names[1]} (°)")

    detail = ""
    if ba is not None and ba.computable:
        detail = (
            f"; bias {format_value(ba.bias, 2)}°, 95% limits of agreement "
            f"{format_value(ba.loa_low, 2)}° to {format_value(ba.loa_high, 2)}°"
        )
    caption = (
        f"Bland–Altman plot of the {rel.region} Cobb angle, rater {names[0]} − rater "
        f"{names[1]} (n = {data.shape[0]} films measured by both{detail})."
    )
    return PaperFigure(f"{rel.region}_bland_altman", caption, draw)


def paper_figures(analysis: StudyAnalysis) -> list[PaperFigure]:
    """Every figure of the report, in caption-number order."""
    figures = [_paired(analysis, region) for region in ("cervical", "lumbar")]
    figures.append(_vas_nlr(analysis))
    figures += [_bland_altman(rel) for rel in analysis.reliability if rel.ba_pairs]
    return figures


def render(figure: PaperFigure, base: Path) -> bytes:
    """Draw ``figure``; write ``base``.png (300 dpi) and .svg; return the PNG bytes."""
    canvas_figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(canvas_figure)
    figure.draw(canvas_figure.add_subplot())
    canvas_figure.tight_layout()
    png = io.BytesIO()
    canvas_figure.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
    write_private(base.with_suffix(".png"), png.getvalue())  # 0600, atomic
    svg = io.BytesIO()
    canvas_figure.savefig(svg, format="svg", metadata={"Date": None})
    write_private(base.with_suffix(".svg"), svg.getvalue())
    return png.getvalue()
