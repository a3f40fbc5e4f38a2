"""The tester's sequence: a study holding the films of ``radiographs`` and ``malformed``, then
``field-cases`` imported into it (and the reverse order, and a second time): every damaged
file is an error line naming it, never an internal error (exit 70), and stderr stays one line
per problem.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.cli import main

ORDERS = {
    "films-then-field-cases": (("radiographs", "malformed"), ("field-cases",), ("field-cases",)),
    "field-cases-then-films": (("field-cases",), ("radiographs", "malformed")),
}


@pytest.mark.shared
@pytest.mark.parametrize("order", list(ORDERS))
def test_field_cases_into_a_study_of_films(
    shared_data: Path, tmp_path: Path, order: str, capsys: pytest.CaptureFixture[str]
) -> None:
    study = tmp_path / "S"
    for step, folders in enumerate(ORDERS[order]):
        args = ["import", str(study), *(str(shared_data / f) for f in folders)]
        status = main([*args, "--create"] if step == 0 else args)
        out, err = capsys.readouterr()
        assert status in (0, 1), err  # 1: some files were rejected, in words
        assert "internal error" not in err
        assert all(line.startswith("cobbdesk: ") for line in err.splitlines()), err
        assert "film(s) imported from" in out
