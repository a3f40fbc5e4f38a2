"""The plan's reliability report: one self-contained HTML file with the Bland–Altman plots.

Each Bland–Altman plot (Bland & Altman 1986, Lancet i:307) shows, per film, the mean of the
two readings (x) against their difference (y, first − second: rater a − rater b, or round 2 −
round 1), the bias and the 95 % limits of agreement (bias ± 1.96·SD).  Plots are PNG embedded
as base64; the file is written 0600 (:func:`cobbdesk.core.private.write_private`).  The report
names plans, raters and regions only: no patient, visit or date.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cobbdesk.core.private import write_private
from cobbdesk.core.reading.stats import Agreement, PlanStats, summary_lines


def bland_altman_png(agreement: Agreement, index: int, title: str) -> bytes:
    """The PNG of the ``index``-th pair of ``agreement`` (150 dpi, 5 × 3.6 in)."""
    first_name, second_name, first, second = agreement.pairs[index]
    result = agreement.bland_altman[index]
    pairs = [(a, b) for a, b in zip(first, second, strict=True)
             if not (math.isnan(a) or math.isnan(b))]  # fmt: skip
    figure = Figure(figsize=(5, 3.6), dpi=150)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.scatter([(a + b) / 2 for a, b in pairs], [a - b for a, b in pairs], s=14, color="black")
    for value, style in ((result.bias, "-"), (result.loa_low, "--"), (result.loa_high, "--")):
        if value is not None:
            axes.axhline(value, linestyle=style, color="0.3", linewidth=1)
    axes.set_xlabel("mean of the two readings (°)")
    axes.set_ylabel(f"{first_name} − {second_name} (°)")
    axes.set_title(title, fontsize=9)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def report_html(stats: PlanStats) -> str:
    """The report's HTML (summary lines, then every Bland–Altman plot)."""
    parts = [f"<h1>Reliability: plan {html.escape(stats.plan.name)}</h1><pre>"]
    parts += [html.escape(line) + "\n" for line in summary_lines(stats)]
    parts.append("</pre>")
    for region in stats.regions:
        for agreement in ([region.inter] if region.inter else []) + region.intra:
            for i, ba in enumerate(agreement.bland_altman):
                if not ba.computable:
                    continue
                title = f"{region.region}, {agreement.label}: {ba.a_name} − {ba.b_name}"
                png = base64.b64encode(bland_altman_png(agreement, i, title)).decode("ascii")
                parts.append(f'<figure><img alt="{html.escape(title)}" '
                             f'src="data:image/png;base64,{png}"></figure>')  # fmt: skip
    return "<!doctype html><meta charset='utf-8'><body>" + "".join(parts) + "</body>"


def write_plan_report(stats: PlanStats, path: str | Path) -> Path:
    """Write the report (0600); raises OSError."""
    return write_private(path, report_html(stats))


__all__ = ["bland_altman_png", "report_html", "write_plan_report"]
