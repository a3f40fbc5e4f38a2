"""``export --stats-json`` from numpy columns gives the pandas path's statistics exactly.

The same JSON document (every number equal, as text) from
:func:`cobbdesk.core.export.analysis_arrays.analyse_table` and from
:func:`cobbdesk.core.export.analysis.analyse` on the fixture study and varied random
studies, under the mean, a named rater and the adjudicator's consensus; and through the
command line against the statistics of a long export (which keeps the pandas path).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from cobbdesk.cli import main as cli_main
from cobbdesk.core.export.analysis import analyse
from cobbdesk.core.export.analysis_arrays import analyse_table
from cobbdesk.core.export.arrays import load_table
from cobbdesk.core.export.dataset import load_long
from cobbdesk.core.export.policy import (
    SETTING_ADJUDICATOR,
    parse_policy,
    resolve,
    set_setting,
    study_raters,
)
from cobbdesk.core.store import Study

from .varied_study import write_varied_study


def same_statistics(path: Path, text: str) -> dict:
    with Study.open(path) as study:
        policy = resolve(study, parse_policy(text), study_raters(study))
        reference = analyse(load_long(study), policy).to_dict()
        fast = analyse_table(load_table(study), policy).to_dict()
    dump = json.dumps(reference, indent=1, ensure_ascii=False, allow_nan=False)
    assert json.dumps(fast, indent=1, ensure_ascii=False, allow_nan=False) == dump
    return reference


@pytest.mark.parametrize("seed", [7, 8])
@pytest.mark.parametrize("policy", ["mean", "A", "consensus"])
def test_varied_study_same_statistics(tmp_path: Path, seed: int, policy: str) -> None:
    path = write_varied_study(tmp_path / "varied.cobbdesk", n=80, seed=seed)
    with Study.open(path) as study:
        set_setting(study, SETTING_ADJUDICATOR, "B")
    data = same_statistics(path, policy)
    assert data["n_patients"] > 60
    assert any(w["computable"] for w in data["wilcoxon"])
    if policy == "mean":
        assert data["icc"] and any("stale" in note for note in data["notes"])


@pytest.mark.parametrize("policy", ["mean", "B"])
def test_fixture_study_same_statistics(fixture_study: Path, policy: str) -> None:
    data = same_statistics(fixture_study, policy)
    assert data["icc"] if policy == "mean" else True


def test_empty_study_same_statistics(tmp_path: Path) -> None:
    Study.create(tmp_path / "empty.cobbdesk", actor="test").close()
    assert same_statistics(tmp_path / "empty.cobbdesk", "mean")["n_patients"] == 0


def test_cli_stats_json_equals_the_pandas_path(fixture_study: Path, tmp_path: Path) -> None:
    runs = {"wide": "numpy", "long": "pandas"}  # a long export keeps the pandas statistics
    for fmt, name in runs.items():
        args = ["export", str(fixture_study), "--format", fmt, "-o", str(tmp_path / f"{name}.csv"),
                "--stats-json", str(tmp_path / f"{name}.json")]  # fmt: skip
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli_main(args) == 0
    assert (tmp_path / "numpy.json").read_bytes() == (tmp_path / "pandas.json").read_bytes()
