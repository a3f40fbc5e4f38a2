"""A self-contained HTML report of :class:`StudyAnalysis`, laid out for a paper and A4 print.

* Methods: the rater policy, the Wilcoxon conventions incl. the tie rounding, the exact
  p and Hodges–Lehmann CI, Spearman per visit and rmcorr over both visits.
* Table 1 in the seed paper's layout: one row block per variable with Max, Min, Mean, SD and
  Spearman r and p against VAS per visit, and the repeated-measures r over both visits;
  decimals per variable from the codebook; p as ``<0.001``; significance marks in a footnote.
* Table 2: Wilcoxon admission vs month 3 (means ± SD of the complete pairs, as labelled);
  Table 3: paired t-test; Table 4: inter-rater reliability.
* Figures (:mod:`~cobbdesk.core.export.figures`): embedded as base64 PNG and also saved as
  ``<report stem>_<figure>.png`` (300 dpi) and ``.svg`` next to the report.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from cobbdesk.core.export.analysis import LABELS, UNITS, StudyAnalysis
from cobbdesk.core.export.columns import MEASURES
from cobbdesk.core.export.figures import paper_figures, render
from cobbdesk.core.export.formatting import (
    SIGNIFICANCE_FOOTNOTE,
    format_p,
    format_value,
    stars,
    summary_decimals,
)
from cobbdesk.core.measure.measurement import CONVENTION
from cobbdesk.core.private import write_private
from cobbdesk.core.stats import Descriptive, WilcoxonResult
from cobbdesk.core.stats.correlation import SPEARMAN_METHOD
from cobbdesk.core.stats.paired import HL_METHOD, TIE_METHOD
from cobbdesk.core.stats.rmcorr import RMCORR_METHOD

CSS = """
body { font-family: sans-serif; margin: 2em; color: #111; max-width: 60em; }
table { border-collapse: collapse; margin: 0.5em 0 0.3em; font-size: 0.9em; }
th, td { border: 1px solid #999; padding: 0.2em 0.45em; text-align: right; }
th { background: #eee; } th:first-child, td:first-child { text-align: left; }
td.visit, th.visit { text-align: left; } .ci { white-space: nowrap; }
.foot { font-size: 0.8em; margin: 0 0 1.5em; }
.nc { color: #a00; font-style: italic; } .tbl { page-break-inside: avoid; }
figure { margin: 1em 0; page-break-inside: avoid; } img { width: 100%; max-width: 15cm; }
figcaption { font-size: 0.9em; max-width: 40em; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { margin: 0; font-size: 9pt; max-width: none; }
  table { width: 100%; font-size: 7.5pt; } th, td { padding: 1px 3px; }
  table, figure { page-break-inside: avoid; } h2 { page-break-after: avoid; }
  img { max-width: 14cm; }
}
"""
DECIMALS = {m.name: m.decimals if m.decimals is not None else 2 for m in MEASURES}


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], foot: str = "") -> str:
    head = "".join(
        f'<th class="visit">{h}</th>' if h == "Visit" else f"<th>{html.escape(h)}</th>"
        for h in header
    )
    body = "".join(
        "<tr>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in row) + "</tr>"
        for row in rows
    )
    note = f'<p class="foot">{foot}</p>' if foot else ""
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="tbl">{table}{note}</div>'


def _p(p: float | None) -> str:
    """The paper's p format (``<0.001``), escaped for HTML."""
    return html.escape(format_p(p))


def _nc(reason: str) -> str:
    return f'<span class="nc">{html.escape(reason)}</span>'


def _name(measure: str) -> str:
    unit = UNITS.get(measure, "")
    return html.escape(LABELS.get(measure, measure) + (f" ({unit})" if unit else ""))


def _described(d: Descriptive, decimals: int) -> list[str]:
    if not d.computable:
        return ["0", "", "", "", ""]
    mean_decimals = summary_decimals(decimals)
    return [
        str(d.n),
        format_value(d.maximum, decimals),
        format_value(d.minimum, decimals),
        format_value(d.mean, mean_decimals),
        format_value(d.sd, mean_decimals),
    ]


def _short(reason: str) -> str:
    """A table-sized reason: ``crp is constant over the 8 complete pairs (every value is 3)``
    becomes ``constant (3)``; other reasons lose their ``not computable:`` prefix."""
    text = reason.removeprefix("not computable: ")
    if " is constant over " in text and "every value is " in text:
        return "constant (" + text.split("every value is ")[1]
    return text.replace(" does not change within patients", ": no change within patients")


def _r_cells(r: float | None, p: float | None, computable: bool, reason: str) -> list[str]:
    if not computable:
        return [f'<td colspan="2">{_nc(_short(reason))}</td>']
    return [f"{format_value(r, 2)}{stars(p)}", _p(p)]


def table1(analysis: StudyAnalysis) -> str:
    """Table 1 (seed layout) as an HTML table with its footnote."""
    described = {(v, e): d for v, e, d in analysis.descriptives}
    rho = {(r.y_name, r.visit): r for r in analysis.spearman}
    rm = {r.y_name: r for r in analysis.rmcorr}
    order = ["vas", *dict.fromkeys(r.y_name for r in analysis.spearman)]
    rows = []
    for name in order:
        decimals = DECIMALS[name]
        first = f'<td rowspan="{2 if name == "vas" else 3}">{_name(name)}</td>'
        for i, (event, label) in enumerate((("admission", "Admission"), ("month3", "Month 3"))):
            cells = [first] if i == 0 else []
            cells += [
                f'<td class="visit">{label}</td>',
                *_described(described[(name, event)], decimals),
            ]
            r = rho.get((name, event))
            cells += ["—", "—"] if r is None else _r_cells(r.rho, r.p, r.computable, r.reason)
            rows.append(cells)
        if name in rm:
            res = rm[name]
            n = str(res.n_subjects) if res.computable else ""
            rows.append(
                [
                    '<td class="visit">Both (rmcorr)</td>',
                    n,
                    "",
                    "",
                    "",
                    "",
                    *_r_cells(res.r, res.p, res.computable, res.reason),
                ]
            )
    header = ("Variable", "Visit", "n", "Max", "Min", "Mean", "SD", "r vs VAS", "p")
    foot = (
        "n: patients with a value (both: patients with both visits). r: Spearman's rank "
        "correlation with VAS at the visit; both: repeated-measures correlation (rmcorr, "
        "Bakdash &amp; Marusich 2017) over both visits, which uses each patient's change "
        "between visits and so does not count a patient twice. "
        f"{SIGNIFICANCE_FOOTNOTE}. Max and Min have the variable's decimals (codebook); "
        "scores and enzyme activities are whole numbers."
    )
    return "<h2>Table 1. Variables and their correlation with VAS</h2>" + _table(header, rows, foot)


def _mean_sd(d: Descriptive | None, decimals: int) -> str:
    if d is None or not d.computable:
        return ""
    sd = f" ± {format_value(d.sd, decimals)}" if d.sd is not None else ""
    return format_value(d.mean, decimals) + sd


def _wilcoxon_row(measure: str, r: WilcoxonResult) -> list[str]:
    decimals = summary_decimals(DECIMALS[measure])
    before, after = _mean_sd(r.before_complete, decimals), _mean_sd(r.after_complete, decimals)
    n = f"{r.n_pairs} ({r.zeros})"
    if not r.computable:
        return [_name(measure), n, before, after, f'<td colspan="7">{_nc(r.reason)}</td>']
    hl = r.hodges_lehmann
    ci = f'<td class="ci">{_nc(hl.ci_reason) if hl and hl.ci_reason else ""}</td>'
    if hl and hl.ci_low is not None:
        low, high = format_value(hl.ci_low, decimals), format_value(hl.ci_high, decimals)
        ci = f'<td class="ci">{low} to {high}</td>'
    p = _p(r.p) + ("†" if r.p_source == "exact" else "")
    return [
        _name(measure),
        n,
        before,
        after,
        format_value(hl.estimate if hl else None, decimals),
        ci,
        format_value(r.w, 1),
        format_value(r.z, 2),
        p,
        _p(r.p_exact),
        format_value(r.effect_r, 2),
    ]


def table2(analysis: StudyAnalysis) -> str:
    """HTML of Table 2: Wilcoxon signed-rank of month 3 vs admission for every paired measure.

    Hodges–Lehmann Δ with its 95 % CI, W, Z, p, exact p and r; the footnote names the patients
    without a month-3 pair of a Cobb angle.
    """
    header = (
        "Variable",
        "n pairs (zeros)",
        "Admission mean ± SD*",
        "Month 3 mean ± SD*",
        "HL Δ",
        "95% CI",
        "W",
        "Z",
        "p",
        "Exact p",
        "r",
    )
    rows = [_wilcoxon_row(m, r) for m, r in analysis.wilcoxon.items()]
    excluded = "; ".join(
        f"{html.escape(LABELS[m])}: {html.escape(', '.join(str(i) for i in r.excluded_ids))}"
        for m, r in analysis.wilcoxon.items()
        if r.excluded_ids and m.endswith("_cobb")
    )
    foot = (
        "* Mean ± SD of the patients with both visits (the n pairs), not of all values of a "
        "visit. HL Δ: Hodges–Lehmann median change (month 3 − admission) with its "
        "distribution-free 95% CI. Z and p: normal approximation with tie correction (as "
        "SPSS). † fewer than 6 non-zero differences: p is the exact p. r = |Z|/√n."
        + (f" Without a month-3 pair: {excluded}." if excluded else "")
    )
    return "<h2>Table 2. Admission vs month 3 (Wilcoxon signed-rank)</h2>" + _table(
        header, rows, foot
    )


def table3(analysis: StudyAnalysis) -> str:
    """HTML of Table 3, the paired t-test (secondary): mean difference ± SD, 95 % CI, t(df), p."""
    rows = []
    for measure, r in analysis.wilcoxon.items():
        t = r.t_test
        decimals = summary_decimals(DECIMALS[measure])
        if t is None or not t.computable:
            rows.append(
                [_name(measure), f'<td colspan="4">{_nc(t.reason if t else r.reason)}</td>']
            )
            continue
        rows.append(
            [
                _name(measure),
                f"{format_value(t.mean_diff, decimals)} ± {format_value(t.sd_diff, decimals)}",
                f"{format_value(t.ci_low, decimals)} to {format_value(t.ci_high, decimals)}",
                f"t({t.df}) = {format_value(t.t, 2)}",
                _p(t.p),
            ]
        )
    header = ("Variable", "Mean Δ ± SD", "95% CI", "t", "p")
    return "<h2>Table 3. Paired t-test (secondary)</h2>" + _table(header, rows)


def table4(analysis: StudyAnalysis) -> str:
    """HTML of Table 4: inter-rater reliability per region (ICC(A,1) with 95 % CI, Bland–Altman
    bias and limits, SEM and MDC95 in degrees); a sentence when only one rater measured.
    """
    if not analysis.reliability:
        who = "No rater" if analysis.n_raters == 0 else "Only one rater"
        return f"<h2>Table 4. Inter-rater reliability</h2><p>{who} measured.</p>"
    rows = []
    for rel in analysis.reliability:
        icc, ba, sem = rel.icc, rel.bland_altman, rel.sem
        icc_text = (
            f"{format_value(icc.icc, 3)} ({format_value(icc.ci_low, 3)} to "
            f"{format_value(icc.ci_high, 3)})"
            if icc.computable
            else _nc(icc.reason)
        )
        ba_text = (
            f"{format_value(ba.bias, 2)} ({format_value(ba.loa_low, 2)} to "
            f"{format_value(ba.loa_high, 2)})"
            if ba and ba.computable
            else _nc(ba.reason if ba else "")
        )
        sem_text = (
            f"{format_value(sem.sem, 2)} / {format_value(sem.mdc95, 2)}"
            if sem and sem.computable
            else _nc(sem.reason if sem else "ICC not available")
        )
        rows.append(
            [
                rel.region,
                str(icc.n_subjects),
                icc_text,
                ba_text,
                sem_text,
                html.escape(", ".join(rel.below_mdc_ids)),
            ]
        )
    header = (
        "Region",
        "Films",
        "ICC(A,1) (95% CI)",
        "BA bias (LoA), °",
        "SEM / MDC95, °",
        "Δ below MDC95",
    )
    return "<h2>Table 4. Inter-rater reliability</h2>" + _table(header, rows)


def methods(analysis: StudyAnalysis) -> str:
    """The methods paragraph: rater policy, tests and their conventions."""
    parts = [
        f"Rater policy: {analysis.policy_note.removeprefix('rater policy ')}; the exported "
        "analysis dataset holds exactly these values.",
        "Admission vs month 3: Wilcoxon signed-rank test on complete pairs, zeros dropped, "
        "tied absolute differences given average ranks, Z from the normal approximation with "
        "tie correction and no continuity correction (as SPSS NPAR TESTS); exact p from the "
        "signed-rank distribution; fewer than 6 non-zero differences: exact p. "
        f"Ties: {TIE_METHOD}.",
        HL_METHOD + ".",
        "Correlation with VAS per visit: " + SPEARMAN_METHOD + ".",
        "Over both visits: " + RMCORR_METHOD + ".",
    ]
    return "<h2>Methods</h2>" + "".join(f"<p>{html.escape(p)}</p>" for p in parts)


def write_report(analysis: StudyAnalysis, path: str | Path, *, title: str = "") -> list[Path]:
    """Write the HTML report and its PNG/SVG figures; return every file written."""
    target = Path(path)
    written = [target]
    figures = []
    for number, figure in enumerate(paper_figures(analysis), start=1):
        base = target.with_name(f"{target.stem}_{figure.key}")
        encoded = base64.b64encode(render(figure, base)).decode("ascii")
        written += [base.with_suffix(".png"), base.with_suffix(".svg")]
        caption = html.escape(f"Figure {number}. {figure.caption}")
        figures.append(
            f'<figure><img alt="Figure {number}" src="data:image/png;base64,'
            f'{encoded}"><figcaption>{caption}</figcaption></figure>'
        )
    statements = "".join(f"<p>{_nc(s)}</p>" for s in analysis.statements)
    heading = html.escape(title or "CobbDesk study statistics")
    document = (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{heading}</title>'
        f"<style>{CSS}</style></head><body><h1>{heading}</h1>"
        f"<p>{analysis.n_patients} patients. Cobb angle sign: {html.escape(CONVENTION)}. "
        f"{html.escape(analysis.policy_note[0].upper() + analysis.policy_note[1:])}.</p>"
        f"{statements}{methods(analysis)}{table1(analysis)}{table2(analysis)}"
        f"{table3(analysis)}{table4(analysis)}<h2>Figures</h2>{''.join(figures)}</body></html>"
    )
    write_private(target, document)  # 0600, atomic (cobbdesk.core.private)
    return written
