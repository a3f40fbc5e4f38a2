"""Study statistics equal the stats core on the fixture; bad input is "not computable"."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cobbdesk.cli import main
from cobbdesk.core.export import analyse, load_long
from cobbdesk.core.stats import (
    hodges_lehmann,
    icc_a1,
    spearman,
    wilcoxon_signed_rank,
)
from cobbdesk.core.store import Study

from .conftest import PATIENTS, RATER_B_OFFSET, RATER_B_PATIENTS


def expected_cervical() -> tuple[list[str], list[float], list[float]]:
    """Per patient mean over raters A and B (B = A + offset on four patients)."""
    ids, before, after = [], [], []
    for p in sorted(PATIENTS, key=lambda p: p.study_id):
        two = p.study_id in RATER_B_PATIENTS
        adm, m3 = p.cervical
        ids.append(p.study_id)
        before.append(adm + (RATER_B_OFFSET["admission"] / 2 if two else 0.0))
        after.append(np.nan if m3 is None else m3 + (RATER_B_OFFSET["month3"] / 2 if two else 0))
    return ids, before, after


@pytest.fixture(scope="module")
def analysis(fixture_study: Path):  # type: ignore[no-untyped-def]
    with Study.open(fixture_study) as study:
        return analyse(load_long(study))


def test_wilcoxon_equals_core(analysis) -> None:  # type: ignore[no-untyped-def]
    ids, before, after = expected_cervical()
    core = wilcoxon_signed_rank(before, after, ids=ids, before_label="admission",
                                after_label="month3")  # fmt: skip
    got = analysis.wilcoxon["cervical_cobb"]
    assert got == core
    assert got.computable and got.n_pairs == 7 and got.zeros == 1  # '=HYPERLINK' 20 → 20
    assert got.excluded_ids == ("P003",)
    entry = analysis.to_dict()["wilcoxon"][0]
    assert entry["measure"] == "cervical_cobb"
    assert entry["w"] == core.w and entry["z"] == core.z and entry["p"] == core.p
    assert entry["p_exact"] == core.p_exact  # 6 non-zero: enumerated over the sign flips
    assert entry["p_source"] == "asymptotic"
    assert entry["median_diff"] == core.median_diff


def test_lumbar_ties_and_spearman_equal_core(analysis) -> None:  # type: ignore[no-untyped-def]
    lumbar = analysis.wilcoxon["lumbar_cobb"]
    assert lumbar.computable and lumbar.p_exact is not None  # tied, n = 7: enumerated
    ids = sorted(p.study_id for p in PATIENTS)
    by_id = {p.study_id: p for p in PATIENTS}
    vas = [float(by_id[i].vas[0]) for i in ids]
    crp = [by_id[i].crp[0] for i in ids]
    core = spearman(vas, crp, x_name="vas", y_name="crp", visit="admission", ids=ids)
    got = next(r for r in analysis.spearman if r.y_name == "crp" and r.visit == "admission")
    assert got == core


def test_reliability_equals_core(analysis) -> None:  # type: ignore[no-untyped-def]
    rel = next(r for r in analysis.reliability if r.region == "cervical")
    assert rel.raters == ("A", "B")
    rows = []
    for p in sorted(PATIENTS, key=lambda p: p.study_id):
        if p.study_id in RATER_B_PATIENTS:
            rows += [
                [a, a + RATER_B_OFFSET[e]] for a, e in zip(p.cervical, RATER_B_OFFSET, strict=True)
            ]
    core = icc_a1(rows)
    assert rel.icc.icc == pytest.approx(core.icc, abs=1e-12)
    assert rel.icc.n_subjects == 8 and rel.icc.n_dropped == 7  # films rated by A only
    assert rel.sem is not None and rel.sem.computable
    assert rel.mdc_flags is not None and len(rel.mdc_flags.flags) == len(PATIENTS)
    assert rel.bland_altman is not None and rel.bland_altman.n == 8


def test_json_keys(fixture_study: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stats", str(fixture_study), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"wilcoxon", "spearman", "descriptives", "icc"} <= set(data)
    for entry in data["wilcoxon"]:
        assert {"measure", "n", "zeros", "w", "z", "p", "p_exact", "median_diff",
                "method"} <= set(entry)  # fmt: skip
    for entry in data["spearman"]:
        assert {"x", "y", "visit", "n", "rho", "p", "method"} <= set(entry)
    assert {e["visit"] for e in data["spearman"]} == {"admission", "month3"}
    assert {e["y"] for e in data["rmcorr"]} == {e["y"] for e in data["spearman"]}
    assert data["raters"] == "mean" and data["notes"][0].startswith("rater policy mean")
    creatinine = [e for e in data["spearman"] if e["y"] == "creatinine"]
    assert all(e["reason"].startswith("not computable: creatinine is constant") for e in creatinine)
    assert all(e["rho"] is None for e in creatinine)
    cpk = next(e for e in data["wilcoxon"] if e["measure"] == "cpk")
    assert cpk["reason"] == "not computable: all 7 differences are zero"
    assert data["descriptives"][0]["method"]
    assert data["icc"][0]["method"].startswith("ICC(A,1)")


def test_empty_study(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Study.create(tmp_path / "empty.cobbdesk").close()
    assert main(["stats", str(tmp_path / "empty.cobbdesk"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "not computable: the study has no patients" in data["notes"]
    assert all(not w["computable"] and w["reason"].startswith("not computable")
               for w in data["wilcoxon"])  # fmt: skip
    assert data["icc"] == []
    assert not any("one rater" in note for note in data["notes"])  # nobody measured
    assert data["notes"][0] == "rater policy mean: no angle measured yet"
    assert main(["stats", str(tmp_path / "empty.cobbdesk")]) == 0
    assert "not computable" in capsys.readouterr().out


def test_patients_without_angles_say_no_rater(tmp_path: Path) -> None:
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        for i in range(3):
            study.set_labs(study.add_visit(study.add_patient(f"S{i}"), "admission"), {"vas": i})
        result = analyse(load_long(study))
    assert result.n_raters == 0
    assert result.policy_note.endswith("no angle measured yet")
    assert "reliability: no rater measured; ICC not computed" in result.statements
    assert not any("one rater" in s for s in result.statements)


def test_no_complete_pairs_and_small_n(tmp_path: Path) -> None:
    with Study.create(tmp_path / "s.cobbdesk", actor="t") as study:
        for i in range(4):
            pid = study.add_patient(f"S{i}")
            study.set_labs(study.add_visit(pid, "admission"), {"vas": i, "crp": 2 * i + 1})
            if i < 3:
                study.set_labs(study.add_visit(pid, "month3"), {"crp": i})
        result = analyse(load_long(study))
    assert result.wilcoxon["vas"].reason == "not computable: no complete pairs among 4"
    crp = result.wilcoxon["crp"]  # 3 pairs, d = -1, -2, -3: exact p = 2/8 (small sample)
    assert crp.computable and crp.p == 0.25 and crp.p_source == "exact"
    spear = next(r for r in result.spearman if r.y_name == "crp" and r.visit == "admission")
    assert spear.reason == "not computable: 4 complete pair(s) of 4; need at least 6"
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert "NaN" not in text


def test_selection_path_equals_full_sort() -> None:
    """Above SORT_MAX_N the Walsh order statistics come from selection: identical results."""
    rng = np.random.default_rng(7)
    before = np.round(rng.normal(20, 8, 400), 1)
    after = np.round(before + rng.normal(1, 3, 400), 1)  # many ties
    after[:5] = before[:5]  # zeros
    d = after - before
    for raw in (d, np.round(d * 3) / 3, rng.normal(size=51)):
        values = np.round(raw, 9)
        full = hodges_lehmann(values)
        fast = hodges_lehmann(values, sort_max_n=10)
        assert (fast.estimate, fast.ci_low, fast.ci_high) == (
            full.estimate,
            full.ci_low,
            full.ci_high,
        )
        assert any("selection" in note for note in fast.notes)
