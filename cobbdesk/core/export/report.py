"""A self-contained HTML report of :class:`StudyAnalysis`, with matplotlib plots.

Plots are drawn with the Agg canvas directly (no pyplot, no global backend switch), embedded
as base64 PNG, and also saved as ``<report stem>_<plot>.png`` and ``.svg`` next to the report.
Tables follow the seed study: Wilcoxon admission vs month 3 per region (mean ± SD at each
visit), Table 1 of Spearman rho (VAS vs labs), descriptives (max, min, mean, SD).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cobbdesk.core.export.analysis import LABELS, StudyAnalysis
from cobbdesk.core.measure.measurement import CONVENTION
from cobbdesk.core.stats import WilcoxonResult

CSS = """
body { font-family: sans-serif; margin: 2em; color: #111; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #999; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.nc { color: #a00; font-style: italic; }
figure { display: inline-block; margin: 0.5em; }
img { max-width: 480px; }
@media print {
  body { margin: 0; } figure, table { page-break-inside: avoid; }
  h2 { page-break-after: avoid; }
}
"""


def _num(value: float | None, decimals: int = 2) -> str:
    return "" if value is None else f"{value:.{decimals}f}"


def _p(value: float | None) -> str:
    if value is None:
        return ""
    return "&lt;0.001" if value < 0.001 else f"{value:.3f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _nc(reason: str) -> str:
    return f'<span class="nc">{html.escape(reason)}</span>'


def _wilcoxon_row(measure: str, r: WilcoxonResult) -> list[str]:
    label = html.escape(LABELS[measure])
    before = r.before_complete.mean_sd if r.before_complete else ""
    after = r.after_complete.mean_sd if r.after_complete else ""
    if not r.computable:
        return [label, str(r.n_pairs), str(r.zeros), before, after, _nc(r.reason)] + [""] * 5
    hl = r.hodges_lehmann
    ci = f"{_num(hl.ci_low)} to {_num(hl.ci_high)}" if hl and hl.ci_low is not None else ""
    return [
        label, str(r.n_pairs), str(r.zeros), before, after, _num(r.median_diff),
        f"{_num(hl.estimate if hl else None)} ({ci})", _num(r.w, 1), _num(r.z, 3),
        f"{_p(r.p)}" + (f" (exact {_p(r.p_exact)})" if r.p_exact is not None else ""),
        _num(r.effect_r),
    ]  # fmt: skip


def _wilcoxon_section(analysis: StudyAnalysis) -> str:
    header = (
        "Variable", "n pairs", "zeros", "Admission mean±SD", "Month 3 mean±SD",
        "Median Δ", "HL Δ (95% CI)", "W", "Z", "p", "r",
    )  # fmt: skip
    rows = [_wilcoxon_row(m, r) for m, r in analysis.wilcoxon.items()]
    t_rows = []
    for measure, r in analysis.wilcoxon.items():
        t = r.t_test
        if t is None or not t.computable:
            t_rows.append([html.escape(LABELS[measure]), _nc(t.reason if t else r.reason), ""])
            continue
        t_rows.append([
            html.escape(LABELS[measure]), f"{_num(t.mean_diff)} ± {_num(t.sd_diff)}",
            f"t({t.df}) = {_num(t.t, 3)}, p = {_p(t.p)}",
        ])  # fmt: skip
    excluded = "".join(
        f"<p>{html.escape(LABELS[m])}: {r.n_excluded} excluded (no complete pair): "
        f"{html.escape(', '.join(str(i) for i in r.excluded_ids))}</p>"
        for m, r in analysis.wilcoxon.items()
        if r.excluded_ids and m.endswith("_cobb")
    )
    return (
        "<h2>Admission vs month 3 (Wilcoxon signed-rank)</h2>"
        + _table(header, rows)
        + excluded
        + "<h3>Paired t-test (secondary)</h3>"
        + _table(("Variable", "Mean Δ ± SD", "t test"), t_rows)
    )


def _spearman_section(analysis: StudyAnalysis) -> str:
    by_key = {(r.y_name, r.visit): r for r in analysis.spearman}
    ys = list(dict.fromkeys(r.y_name for r in analysis.spearman))
    rows = []
    for y in ys:
        row = [html.escape(LABELS.get(y, y))]
        for visit in ("admission", "month3", "pooled"):
            r = by_key[(y, visit)]
            row.append(
                f"ρ = {_num(r.rho, 3)}, p = {_p(r.p)}, n = {r.n}" if r.computable else _nc(r.reason)
            )
        rows.append(row)
    header = ("VAS vs", "Admission", "Month 3", "Pooled")
    return "<h2>Table 1. Spearman correlation of VAS with lab values</h2>" + _table(header, rows)


def _descriptive_section(analysis: StudyAnalysis) -> str:
    rows = []
    for _variable, _visit, d in analysis.descriptives:
        name = html.escape(d.name + (f" ({d.unit})" if d.unit else ""))
        if not d.computable:
            rows.append([name, "0", _nc(d.reason), "", "", ""])
            continue
        rows.append([name, str(d.n), _num(d.maximum), _num(d.minimum), _num(d.mean), _num(d.sd)])
    header = ("Variable", "n", "Max", "Min", "Mean", "SD")
    return "<h2>Descriptive statistics</h2>" + _table(header, rows)


def _reliability_section(analysis: StudyAnalysis) -> str:
    if not analysis.reliability:
        return "<h2>Reliability</h2><p>Only one rater measured; no reliability statistics.</p>"
    rows = []
    for rel in analysis.reliability:
        icc, ba, sem = rel.icc, rel.bland_altman, rel.sem
        icc_text = (
            f"{_num(icc.icc, 3)} ({_num(icc.ci_low, 3)} to {_num(icc.ci_high, 3)})"
            if icc.computable
            else _nc(icc.reason)
        )
        ba_text = (
            f"{_num(ba.bias)} ({_num(ba.loa_low)} to {_num(ba.loa_high)})"
            if ba and ba.computable
            else _nc(ba.reason if ba else "")
        )
        sem_text = (
            f"{_num(sem.sem)} / {_num(sem.mdc95)}" if sem and sem.computable else _nc(
                sem.reason if sem else "not computable: ICC not available")
        )  # fmt: skip
        below = html.escape(", ".join(rel.below_mdc_ids))
        rows.append([rel.region, icc_text, ba_text, sem_text, below])
    header = ("Region", "ICC(A,1) (95% CI)", "BA bias (LoA)", "SEM / MDC95", "Δ below MDC")
    return "<h2>Inter-rater reliability</h2>" + _table(header, rows)


Plot = Callable[[Axes], None]


def _paired_plot(analysis: StudyAnalysis, region: str) -> Plot:
    def draw(ax: Axes) -> None:
        name = f"{region}_cobb"
        values = analysis.values
        if values.empty:
            ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)
            return
        table = values[name].unstack("event").reindex(columns=["admission", "month3"])
        pairs = table.dropna()
        for a, b in pairs.to_numpy():
            ax.plot([1, 2], [a, b], color="0.6", linewidth=0.8, marker="o", markersize=3)
        columns = [table[c].dropna().to_numpy() for c in ("admission", "month3")]
        if all(c.size for c in columns):
            ax.boxplot(columns, positions=[1, 2], widths=0.35, tick_labels=["Admission", "Month 3"])
        ax.set_ylabel(f"{LABELS[name]} (°)")
        ax.set_title(f"{region.capitalize()}: admission vs month 3")

    return draw


def _scatter_plot(analysis: StudyAnalysis) -> Plot:
    def draw(ax: Axes) -> None:
        values = analysis.values
        if not values.empty:
            for event, marker in (("admission", "o"), ("month3", "s")):
                part = values.xs(event, level="event")
                ax.scatter(part["nlr"], part["vas"], marker=marker, label=event, alpha=0.7)
            ax.legend()
        ax.set_xlabel("Neutrophil/lymphocyte ratio")
        ax.set_ylabel("VAS")
        ax.set_title("VAS vs N/L ratio")

    return draw


def _bland_altman_plot(pairs: Sequence[tuple[float, float]], names: Sequence[str]) -> Plot:
    def draw(ax: Axes) -> None:
        data = np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
        mean, diff = data.mean(axis=1), data[:, 0] - data[:, 1]
        ax.scatter(mean, diff, s=12)
        if diff.size >= 2:
            bias, sd = float(diff.mean()), float(diff.std(ddof=1))
            for y, style in ((bias, "-"), (bias - 1.96 * sd, "--"), (bias + 1.96 * sd, "--")):
                ax.axhline(y, linestyle=style, color="0.3")
        ax.set_xlabel("Mean of the two raters (°)")
        ax.set_ylabel(f"{names[0]} − {names[1]} (°)")

    return draw


def _save(draw: Plot, base: Path) -> str:
    """Draw on a fresh Agg figure, save PNG and SVG; return the PNG as base64."""
    figure = Figure(figsize=(6, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    draw(figure.add_subplot())
    figure.tight_layout()
    png = io.BytesIO()
    figure.savefig(png, format="png", metadata={"Software": None})
    base.with_suffix(".png").write_bytes(png.getvalue())
    figure.savefig(base.with_suffix(".svg"), format="svg", metadata={"Date": None})
    return base64.b64encode(png.getvalue()).decode("ascii")


def _plots(analysis: StudyAnalysis) -> dict[str, tuple[str, Plot]]:
    plots: dict[str, tuple[str, Plot]] = {
        f"{region}_paired": (f"Graph: {region} Cobb angle", _paired_plot(analysis, region))
        for region in ("cervical", "lumbar")
    }
    plots["vas_nlr"] = ("VAS vs N/L ratio", _scatter_plot(analysis))
    for rel in analysis.reliability:
        if rel.ba_pairs:
            plots[f"{rel.region}_bland_altman"] = (
                f"Bland–Altman, {rel.region}",
                _bland_altman_plot(rel.ba_pairs, rel.raters[:2]),
            )
    return plots


def write_report(analysis: StudyAnalysis, path: str | Path, *, title: str = "") -> list[Path]:
    """Write the HTML report and its PNG/SVG plots; return every file written."""
    target = Path(path)
    written = [target]
    figures = []
    for key, (caption, draw) in _plots(analysis).items():
        base = target.with_name(f"{target.stem}_{key}")
        encoded = _save(draw, base)
        written += [base.with_suffix(".png"), base.with_suffix(".svg")]
        figures.append(
            f'<figure><img alt="{html.escape(caption)}" src="data:image/png;base64,{encoded}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    statements = "".join(f"<p>{_nc(s)}</p>" for s in analysis.statements)
    heading = html.escape(title or "CobbDesk study statistics")
    document = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{heading}</title>'
        f"<style>{CSS}</style></head><body><h1>{heading}</h1>"
        f"<p>{analysis.n_patients} patients. Cobb angle sign: {html.escape(CONVENTION)}. "
        "Several raters: one value per patient and visit, the mean over raters.</p>"
        f"{statements}{_wilcoxon_section(analysis)}{_spearman_section(analysis)}"
        f"{_descriptive_section(analysis)}{_reliability_section(analysis)}"
        f"<h2>Graphs</h2>{''.join(figures)}</body></html>"
    )
    target.write_text(document, encoding="utf-8")
    return written
