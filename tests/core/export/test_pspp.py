"""Our .sav opens in PSPP (the free SPSS), and PSPP's Wilcoxon agrees with ours.

PSPP prints Z to 2 decimals and p to 3, so that is the precision compared; the full-precision
checks against the SPSS formula are in tests/core/stats.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cobbdesk.core.export.writers import write_sav
from cobbdesk.core.stats import wilcoxon_signed_rank

pytestmark = pytest.mark.skipif(
    shutil.which("pspp") is None, reason="PSPP not installed (packaging/bootstrap.sh installs it)"
)


def _pspp(syntax: str, folder: Path) -> list[list[str]]:
    script = folder / "run.sps"
    script.write_text(syntax, encoding="utf-8")
    out = subprocess.run(["pspp", "-O", "format=csv", str(script)], capture_output=True,
                         text=True, check=True, timeout=120)  # fmt: skip
    return list(csv.reader(io.StringIO(out.stdout)))


def test_pspp_reads_labels_and_matches_wilcoxon(tmp_path: Path, fixture_study: Path) -> None:
    from cobbdesk.core.export.dataset import load_wide
    from cobbdesk.core.store import Study

    with Study.open(fixture_study) as study:
        wide = load_wide(study)
    rng = np.random.default_rng(3)
    n = 24
    before = np.round(rng.normal(10, 6, n), 1)
    after = np.round(before + rng.choice([-2.0, 0.0, 1.5, 3.0, 4.5], n), 1)  # ties and zeros
    frame = pd.concat([wide.iloc[:1]] * n, ignore_index=True)
    frame["study_id"] = [f"P{i:04d}" for i in range(n)]
    frame["cervical_cobb_admission"], frame["cervical_cobb_month3"] = before, after
    path = tmp_path / "wide.sav"
    write_sav(frame, path)
    rows = _pspp(
        f"GET FILE='{path}'.\nDISPLAY LABELS.\n"
        "NPAR TESTS /WILCOXON=cervical_cobb_admission WITH cervical_cobb_month3 (PAIRED).\n",
        tmp_path,
    )
    flat = [cell for row in rows for cell in row]
    assert "Cervical Cobb angle C2–C7, admission (°)" in flat  # the variable label survived
    z = float(next(r[1] for r in rows if r and r[0] == "Z"))
    p = float(next(r[1] for r in rows if r and r[0].startswith("Asymp. Sig.")))
    ours = wilcoxon_signed_rank(before, after)
    assert ours.zeros > 0
    assert round(ours.z, 2) == z
    assert round(ours.p, 3) == pytest.approx(p, abs=1e-9)


def _wilcoxon_tables(rows: list[list[str]]) -> list[tuple[int, float, float]]:
    """(N total, W = min rank sum, Z) of every NPAR TESTS /WILCOXON pair, in order."""
    sums: list[float] = []
    totals, zs = [], []
    for row in rows:
        if len(row) >= 5 and row[1] in ("Negative Ranks", "Positive Ranks"):
            sums.append(float(row[4]) if row[4] else 0.0)
        elif len(row) >= 3 and row[1] == "Total":
            totals.append(int(row[2]))
        elif row and row[0] == "Z":
            zs.append(float(row[1]))
    ws = [min(sums[i], sums[i + 1]) for i in range(0, len(sums), 2)]
    return list(zip(totals, ws, zs, strict=True))


MEASURES_CHECKED = ("cervical_cobb", "lumbar_cobb", "vas", "nlr", "crp")


@pytest.mark.parametrize("raters", ["mean", "A", "B", "consensus"])
def test_pspp_wilcoxon_on_exported_sav_equals_cobbdesk_stats(
    tmp_path: Path, fresh_study: Path, capsys: pytest.CaptureFixture[str], raters: str
) -> None:
    """The statistician's round trip: the exported .sav in PSPP gives cobbdesk stats' n, W, Z.

    PSPP runs on the exported ``<measure>_delta`` columns (the differences as CobbDesk ranks
    them) against a zero variable; n is PSPP's total N (zeros included, as ``n`` pairs).
    """
    import json

    from cobbdesk.cli import main

    if raters == "consensus":
        assert main(["stats", str(fresh_study), "--set-adjudicator", "B", "--reason", "t"]) == 0
    sav = tmp_path / "study.sav"
    assert main(["export", str(fresh_study), "--format", "sav", "-o", str(sav),
                 "--raters", raters]) == 0  # fmt: skip
    capsys.readouterr()
    assert main(["stats", str(fresh_study), "--raters", raters, "--json"]) == 0
    ours = {w["measure"]: w for w in json.loads(capsys.readouterr().out)["wilcoxon"]}
    pairs = " ".join(f"/WILCOXON=zero WITH {m}_delta (PAIRED)" for m in MEASURES_CHECKED)
    rows = _pspp(f"GET FILE='{sav}'.\nCOMPUTE zero = 0.\nNPAR TESTS {pairs}.\n", tmp_path)
    tables = _wilcoxon_tables(rows)
    assert len(tables) == len(MEASURES_CHECKED)
    checked = 0
    for measure, (n, w, z) in zip(MEASURES_CHECKED, tables, strict=True):
        mine = ours[measure]
        assert n == mine["n"], measure
        if mine["computable"]:
            assert w == pytest.approx(mine["w"], abs=0.005), measure
            assert z == round(mine["z"], 2), measure
            checked += 1
    assert checked >= 4
