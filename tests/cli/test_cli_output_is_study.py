"""An output named like the study (a slip of ``-o``) never replaces it (tester's find: the
study became the CSV, its audit trail gone).  Every writer goes through
:func:`cobbdesk.core.private.check_target`, which refuses a SQLite database, a SQLite
companion file beside one and a DICOM film; the study stays byte-identical and verifies."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.errors import ExportError
from cobbdesk.core.private import write_private
from tests.core.export.conftest import build_fixture_study


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "args",
    [
        ["export", "{s}", "--format", "wide", "-o", "{s}"],
        ["export", "{s}", "--format", "long", "-o", "{s}"],
        ["export", "{s}", "--format", "xlsx", "-o", "{s}"],
        ["export", "{s}", "--format", "sav", "-o", "{s}"],
        ["export", "{s}", "--format", "codebook", "-o", "{s}"],
        ["export", "{s}", "--format", "wide", "-o", "{d}/new.csv", "--stats-json", "{s}"],
        ["stats", "{s}", "--report", "{s}"],
        ["export", "{s}", "--format", "wide", "-o", "{s}-wal"],
    ],
)
def test_an_output_named_like_the_study_is_refused(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    study = build_fixture_study(tmp_path / "s.cobbdesk")
    wal = tmp_path / "s.cobbdesk-wal"
    wal.write_bytes(b"")  # as beside a study another program has open
    before = _sha(study)
    filled = [a.format(s=study, d=tmp_path) for a in args]
    assert main(filled) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "it was left untouched" in err[0], err
    assert _sha(study) == before and wal.read_bytes() == b""
    assert not (tmp_path / "new.csv").exists()
    assert main(["verify", str(study)]) == 0


def test_a_dicom_film_is_never_overwritten(tmp_path: Path) -> None:
    film = tmp_path / "film.dcm"
    film.write_bytes(b"\0" * 128 + b"DICM" + b"\2\0")
    with pytest.raises(ExportError, match="is a DICOM film; it was left untouched"):
        write_private(film, "a,b\n")
    assert film.read_bytes()[128:132] == b"DICM"
    earlier = tmp_path / "earlier.csv"
    earlier.write_text("old\n")
    write_private(earlier, "new\n")  # an earlier export is replaced as before
    assert earlier.read_text() == "new\n"
