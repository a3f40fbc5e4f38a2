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
