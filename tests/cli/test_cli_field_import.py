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


@pytest.mark.shared
@pytest.mark.parametrize(
    ("case", "problem"),
    [
        ("fuzz_odd_byte_count_value.dcm", "element (0002,0000) has a value length that is not "
         "a multiple of its value size"),
        ("fuzz_deflate_corrupt_stream.dcm", "the data set is deflated and its zlib stream is "
         "corrupt"),
    ],
)  # fmt: skip
def test_import_reports_a_broken_header_in_the_words_of_inspect(
    shared_data: Path, tmp_path: Path, case: str, problem: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Tester's find: import passed the parser's own text on ('… set
    pydicom.config.convert_wrong_length_to_UN = True', 'Error -3 while decompressing data');
    it now says what inspect says, a fixed value-free description naming the element."""
    film = shared_data / "field-cases" / case
    assert main(["import", str(tmp_path / "s.cobbdesk"), "--create", str(film)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"cobbdesk: error: {film}: the DICOM header cannot be read: {problem}"
                   + ("" if "corrupt" in problem else " and cannot be read")]  # fmt: skip
