"""The numpy wide export (no pandas, issue #17) writes exactly the pandas path's bytes.

Both paths export the same studies and the files are compared byte for byte: the fixture
study (formula-like IDs, two raters, a repeated measurement, an age over 89, a missing visit)
and a varied random study (varied_study.py: five raters incl. formula-like, Unicode and lone
CR names, up to four raters per film, deleted rows, unknown regions, mismatching templates,
calibrations, stale angles, NULL labs, impossible dates …), under every rater policy,
de-identified and identified, with and without the convention comment.  Data the numpy path
does not reproduce (text in a number cell) makes it step aside, and the command line then
writes the pandas path's bytes.
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from cobbdesk.cli import main as cli_main
from cobbdesk.core.export.arrays import load_table
from cobbdesk.core.export.columns import ColumnSpec
from cobbdesk.core.export.fetch import Unsupported
from cobbdesk.core.export.policy import SETTING_ADJUDICATOR, set_setting
from cobbdesk.core.export.policy_arrays import group_means, kahan_mean
from cobbdesk.core.export.wide_csv import export_wide, format_column
from cobbdesk.core.export.writers import export_study, export_with_pandas
from cobbdesk.core.store import Study

from .varied_study import put_text_in_lab_cell, put_text_in_number_cell, write_varied_study

POLICIES = (None, "mean", "each", "A", "B", "consensus")


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_varied_study(tmp_path_factory.mktemp("varied") / "varied.cobbdesk")
    with Study.open(path) as study:
        set_setting(study, SETTING_ADJUDICATOR, "B")
    return path


def both_ways(study_path: Path, out: Path, raters: str | None, identified: bool,
              comment: bool) -> tuple[bytes, bytes]:  # fmt: skip
    """The wide export's bytes by the pandas path and by the numpy path."""
    with Study.open(study_path) as study:
        if raters == "consensus":
            set_setting(study, SETTING_ADJUDICATOR, "B")
        options = {"identified": identified, "convention_comment": comment, "raters": raters}
        reference = export_with_pandas(study, "wide", out / "pandas.csv", **options)  # type: ignore[arg-type]
        table = load_table(study, identified=identified)
        fast = export_wide(study, out / "numpy.csv", table, **options)  # type: ignore[arg-type]
    assert (fast.rows, fast.policy, fast.identified) == (
        reference.rows, reference.policy, reference.identified)  # fmt: skip
    return (out / "pandas.csv").read_bytes(), (out / "numpy.csv").read_bytes()


@pytest.mark.parametrize("identified", [False, True])
@pytest.mark.parametrize("raters", POLICIES)
def test_varied_study_same_bytes(
    varied: Path, tmp_path: Path, raters: str | None, identified: bool
) -> None:
    reference, fast = both_ways(varied, tmp_path, raters, identified, comment=raters == "each")
    assert fast == reference
    assert reference.count(b"\n") > 40  # the study did export its rows


@pytest.mark.parametrize("identified", [False, True])
@pytest.mark.parametrize("raters", ("mean", "each", "A", "B"))
def test_fixture_study_same_bytes(
    fixture_study: Path, tmp_path: Path, raters: str, identified: bool
) -> None:
    reference, fast = both_ways(fixture_study, tmp_path, raters, identified, comment=True)
    assert fast == reference


def test_varied_study_exercises_the_hard_cases(varied: Path, tmp_path: Path) -> None:
    """The comparison above means something: the export holds the awkward cells."""
    reference, _ = both_ways(varied, tmp_path, "each", True, comment=False)
    text = reference.decode("utf-8")
    for needle in ("'=cmd|x", '"C\rD"', "Zoë 名前", "'=", "'-", "'+", "'@", '"P,', 'Q""',
                   "angle", "algorithm", "spacing", "outside the plausible range",
                   "do not define two endplate lines"):  # fmt: skip
        assert needle in text, needle
    mean, _ = both_ways(varied, tmp_path, "mean", False, comment=False)
    assert "+" in mean.decode("utf-8").split("\n")[5] or b"A+B" in mean


def test_latest_measurement_by_created_then_id_whatever_the_row_order(
    varied: Path, tmp_path: Path
) -> None:
    """SQLite's rows are read unsorted and put in ``created_utc``, ``id`` order only when a
    (visit, region, rater) key repeats: here the order rows were written in is neither, half
    the rows tie on ``created_utc`` (``id`` decides, in reverse of the written order) and
    the others are created in reverse of the written order."""
    path = tmp_path / "reordered.cobbdesk"
    path.write_bytes(varied.read_bytes())
    with Study.open(path) as study, study.transaction() as conn:
        conn.execute(text(
            "UPDATE measurements SET id = printf('m-%06d', 999999 - rowid), created_utc = "
            "CASE WHEN rowid % 2 = 0 THEN '2026-03-01T00:00:00.000000Z' "
            "ELSE printf('2026-02-%02dT00:00:00.000000Z', 28 - rowid % 28) END"))  # fmt: skip
    for raters in ("each", "mean", "B"):
        reference, fast = both_ways(path, tmp_path, raters, False, comment=False)
        assert fast == reference, raters
    assert reference != both_ways(varied, tmp_path, "B", False, comment=False)[0]


def test_seeds_same_bytes(tmp_path: Path) -> None:
    for seed in (1, 2, 3):
        path = write_varied_study(tmp_path / f"s{seed}.cobbdesk", n=40, seed=seed)
        for raters in ("mean", "each"):
            reference, fast = both_ways(path, tmp_path, raters, seed == 2, comment=False)
            assert fast == reference, (seed, raters)


def test_empty_study_same_bytes(tmp_path: Path) -> None:
    Study.create(tmp_path / "empty.cobbdesk", actor="test").close()
    reference, fast = both_ways(tmp_path / "empty.cobbdesk", tmp_path, "each", False, False)
    assert fast == reference


def test_text_in_a_lab_cell_steps_aside(varied: Path, tmp_path: Path) -> None:
    path = tmp_path / "edited.cobbdesk"
    path.write_bytes(varied.read_bytes())
    put_text_in_lab_cell(path)
    with Study.open(path) as study, pytest.raises(Unsupported):
        load_table(study)


def test_text_in_a_number_cell_steps_aside(varied: Path, tmp_path: Path) -> None:
    path = tmp_path / "edited.cobbdesk"
    path.write_bytes(varied.read_bytes())
    put_text_in_number_cell(path)
    with Study.open(path) as study, pytest.raises(Unsupported):
        load_table(study)
    with Study.open(path) as study:
        export_with_pandas(study, "wide", tmp_path / "pandas.csv")
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["export", str(path), "--format", "wide", "-o",
                         str(tmp_path / "cli.csv")]) == 0  # fmt: skip
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_a_snapped_flag_other_than_0_or_1_steps_aside(varied: Path, tmp_path: Path) -> None:
    """The snapped flags travel packed with the other codes (0 or 1 each): a 2 written by
    another tool makes the numpy path step aside, and the command writes the pandas bytes."""
    path = tmp_path / "edited.cobbdesk"
    path.write_bytes(varied.read_bytes())
    with Study.open(path) as study, study.transaction() as conn:
        conn.execute(text("UPDATE measurements SET upper_snapped = 2 WHERE deleted_utc IS NULL"))
    with Study.open(path) as study, pytest.raises(Unsupported):
        load_table(study)
    with Study.open(path) as study:
        export_with_pandas(study, "wide", tmp_path / "pandas.csv", raters="each")
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["export", str(path), "--format", "wide", "--raters", "each", "-o",
                         str(tmp_path / "cli.csv")]) == 0  # fmt: skip
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_cli_wide_is_the_pandas_bytes(varied: Path, tmp_path: Path) -> None:
    with Study.open(varied) as study:
        export_with_pandas(study, "wide", tmp_path / "pandas.csv", identified=True, raters="A")
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["export", str(varied), "--format", "wide", "--identified",
                         "--raters", "A", "-o", str(tmp_path / "cli.csv")]) == 0  # fmt: skip
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()


def test_number_cells_as_pandas_writes_them() -> None:
    """Awkward floats (exponents, negative zero, 17 digits) as ``DataFrame.to_csv``."""
    values = np.array([0.1, 1e-5, 1e16, 123456789.12345679, -0.0, math.nan, 1e-300, 2.5e-7,
                       1.2345678901234568e18, 0.30000000000000004, -3.5, 5e-324, 1e22, 45.0])
    rng = np.random.default_rng(0)
    values = np.concatenate([values, rng.normal(0, 1e6, 500), rng.normal(0, 1e-6, 500)])
    frame = pd.DataFrame({"x": values, "k": 1})  # two columns: csv quotes a lone empty field
    expected = frame.to_csv(index=False, lineterminator="\n", na_rep="")
    fields = format_column(ColumnSpec("x", "x"), values)
    assert "x,k\n" + "".join(f + ",1\n" for f in fields) == expected
    whole = np.array([3.0, math.nan, -2.0, 0.0])
    ints = format_column(ColumnSpec("n", "n", kind="integer"), whole)
    assert ints == ["3", "", "-2", "0"]
    repeated = np.array([0.5, -0.0, 0.5, 0.0, 0.5, math.nan, 0.5, 0.5])  # formatted once each
    assert format_column(ColumnSpec("r", "r"), repeated) == [
        "0.5", "-0.0", "0.5", "0.0", "0.5", "", "0.5", "0.5"]  # fmt: skip
    assert format_column(ColumnSpec("r", "r"), np.abs(repeated)) == [
        "0.5", "0.0", "0.5", "0.0", "0.5", "", "0.5", "0.5"]  # fmt: skip


@pytest.mark.parametrize("kind", ["number", "integer", "binary"])
def test_number_columns_with_missing_cells_as_pandas_writes_them(kind: str) -> None:
    """Every path of format_column (all missing; few distinct values; mostly distinct,
    with and without missing cells) gives ``DataFrame.to_csv``'s fields."""
    rng = np.random.default_rng(5)
    distinct = rng.normal(0, 100, 300) if kind == "number" else rng.integers(-50, 50, 300) * 1.0
    few = rng.choice({"number": [0.25, -0.0, 120.0], "integer": [-3.0, 7.0, 120.0],
                      "binary": [0.0, 1.0]}[kind], 300)  # fmt: skip
    holes = rng.random(300) < 0.3
    for values in (np.full(300, math.nan), few, np.where(holes, math.nan, few),
                   distinct, np.where(holes, math.nan, distinct)):  # fmt: skip
        frame = pd.DataFrame({"x": values, "k": 1})
        if kind != "number":
            frame["x"] = frame["x"].astype("Int64")
        expected = frame.to_csv(index=False, lineterminator="\n", na_rep="")
        fields = format_column(ColumnSpec("x", "x", kind=kind), values)  # type: ignore[arg-type]
        assert "x,k\n" + "".join(f + ",1\n" for f in fields) == expected


def test_mean_is_pandas_compensated_mean() -> None:
    """pandas' groupby mean (Kahan-compensated) on groups of 1–5 values, NaN skipped."""
    rng = np.random.default_rng(3)
    groups = [rng.normal(20, 30, int(rng.integers(1, 6))).round(4) for _ in range(2000)]
    for group in groups[::7]:
        group[0] = math.nan
    frame = pd.DataFrame({"g": np.repeat(np.arange(len(groups)), [len(g) for g in groups]),
                          "v": np.concatenate(groups)})  # fmt: skip
    expected = frame.groupby("g")["v"].mean().to_numpy()
    got = np.array([kahan_mean(g.tolist()) for g in groups])
    np.testing.assert_array_equal(got, expected)
    sizes = np.array([len(g) for g in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    np.testing.assert_array_equal(group_means(np.concatenate(groups), starts, sizes), expected)


def test_server_study_same_bytes(varied: Path, tmp_path: Path, pg_url: str) -> None:
    """On PostgreSQL (pg8000 rows) the numpy path runs and writes the pandas path's bytes."""
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(["copy", str(varied), pg_url]) == 0
    with Study.open(pg_url) as study:
        assert len(load_table(study)) > 40  # not Unsupported: the fast path itself
    for raters, identified in (("mean", False), ("each", True)):
        reference, fast = both_ways(pg_url, tmp_path, raters, identified, comment=False)  # type: ignore[arg-type]
        assert fast == reference
    file_reference, _ = both_ways(varied, tmp_path, "each", True, comment=False)
    assert fast == file_reference  # the server's copy exports as the file does


def test_rows_written_in_chunks_same_bytes(
    varied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cobbdesk.core.export import wide_csv

    monkeypatch.setattr(wide_csv, "_CHUNK_ROWS", 7)  # many chunks, the last one short
    reference, fast = both_ways(varied, tmp_path, "each", True, comment=True)
    assert fast == reference


def test_plan_consensus_steps_aside_in_the_cli(tmp_path: Path) -> None:
    """A reading plan's consensus is the pandas path's: the command writes its bytes (and
    its statistics)."""
    from cobbdesk.core.reading.plan import PlanSpec, create_plan
    from cobbdesk.core.reading.readings import save_reading
    from cobbdesk.core.reading.rounds import open_round
    from tests.core.reading.helpers import A1, B1, make_study, reading
    from tests.core.reading.test_plans import _read_round

    study = make_study(tmp_path / "c.cobbdesk")
    try:
        spec = PlanSpec("rel", ("A", "B"), rounds=1, washout_days=0, seed=3,
                        region="cervical", adjudicate_above=3.0, adjudicator="C")  # fmt: skip
        plan = create_plan(study, spec)
        _read_round(study, plan, "A", 1, A1)
        _read_round(study, plan, "B", 1, B1)
        open_round(study, plan, "C", 0)
        sop = next(f.sop_instance_uid for f in study.films() if f.id == 3)
        save_reading(study, plan, 0, 3, reading(26.0, "C", sop))
        export_with_pandas(study, "wide", tmp_path / "pandas.csv", raters="consensus")
        table = load_table(study)
        with pytest.raises(Unsupported):
            export_wide(study, tmp_path / "numpy.csv", table, raters="consensus")
    finally:
        study.close()
    assert not (tmp_path / "numpy.csv").exists()
    args = ["export", str(tmp_path / "c.cobbdesk"), "--format", "wide", "--raters", "consensus",
            "-o", str(tmp_path / "cli.csv"), "--stats-json", str(tmp_path / "cli.json")]
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli_main(args) == 0
    assert (tmp_path / "cli.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert b"consensus:rel" in (tmp_path / "cli.csv").read_bytes()


def test_library_wide_export_takes_the_numpy_path(
    varied: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``export_study`` (the GUI's export dialog, library users) writes the wide CSV from
    numpy columns, the pandas path's bytes; with text in a number cell it steps aside."""
    from cobbdesk.core.export import writers

    with Study.open(varied) as study:
        export_with_pandas(study, "wide", tmp_path / "pandas.csv", raters="each")
        with monkeypatch.context() as patched:
            patched.setattr(writers, "load_long", _no_pandas)
            result = export_study(study, "wide", tmp_path / "numpy.csv", raters="each")
    assert (tmp_path / "numpy.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert result.policy.kind == "each" and result.rows > 0
    edited = tmp_path / "edited.cobbdesk"
    edited.write_bytes(varied.read_bytes())
    put_text_in_number_cell(edited)
    with Study.open(edited) as study:
        export_with_pandas(study, "wide", tmp_path / "edited-pandas.csv")
        export_study(study, "wide", tmp_path / "edited.csv")
    assert (tmp_path / "edited.csv").read_bytes() == (tmp_path / "edited-pandas.csv").read_bytes()


def _no_pandas(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("the pandas path was used")
