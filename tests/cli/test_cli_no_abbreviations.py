"""Long options are never matched by a prefix (tester's find): ``export --rater dr_a`` was
silently ``--raters dr_a`` — one rater's readings instead of the mean, and the audit's rater
the OS user.  ``--rater`` is now the acting rater of export and stats, as of every study
command, and a prefix of any option is a usage error (status 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from cobbdesk.cli.main import main
from cobbdesk.core.store import Study
from cobbdesk.core.store.schema import audit
from tests.core.export.conftest import build_fixture_study


@pytest.fixture
def study(tmp_path: Path) -> Path:
    return build_fixture_study(tmp_path / "s.cobbdesk")


def _raters(study: Path) -> list[str]:
    with Study.open(study) as s, s.engine.connect() as conn:
        return [row.rater for row in conn.execute(select(audit.c.rater).order_by(audit.c.seq))]


def test_rater_is_who_acts_and_the_dataset_is_unchanged(study: Path, tmp_path: Path) -> None:
    plain, acted = tmp_path / "plain.csv", tmp_path / "acted.csv"
    assert main(["export", str(study), "--format", "wide", "-o", str(plain)]) == 0
    before = len(_raters(study))
    assert main(["export", str(study), "--format", "wide", "-o", str(acted),
                 "--rater", "dr_x"]) == 0  # fmt: skip
    assert acted.read_bytes() == plain.read_bytes()  # still the mean of raters
    assert set(_raters(study)[before:]) == {"dr_x"}


@pytest.mark.parametrize(
    "args",
    [
        ["export", "{s}", "--format", "wide", "-o", "{o}", "--rat", "A"],
        ["export", "{s}", "--format", "wide", "-o", "{o}", "--identif"],
        ["stats", "{s}", "--rate", "A"],
        ["film", "{s}", "--lis"],
        ["verify", "{s}", "--expect", "1:x"],
    ],
)
def test_a_prefix_of_an_option_is_a_usage_error(
    study: Path, tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.csv"
    filled = [a.format(s=study, o=out) for a in args]
    with pytest.raises(SystemExit) as stopped:
        main(filled)
    assert stopped.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err
    assert not out.exists()
