"""``verify --expect-head``: the head ``--head`` printed (or its whole line) is checked; a
malformed value is a usage error (exit 2), never an internal error nor a tampering alarm
(breaker 8: ``a:b:c`` and a 23-digit row number crashed with exit 70, ``junk`` said
"tampering")."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbdesk.cli.main import main
from cobbdesk.core.store import Study


@pytest.fixture
def head(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    path = tmp_path / "s.cobbdesk"
    with Study.create(path, actor="t") as study:
        study.add_patient("P1")
    assert main(["verify", str(path), "--head"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("audit head:"))
    return path, line


def test_the_printed_head_and_its_whole_line_are_accepted(head: tuple[Path, str]) -> None:
    path, line = head
    bare = line.removeprefix("audit head: ")
    for given in (bare, line, f"  {bare.upper()} ", bare.replace(":", " : ")):
        assert main(["verify", str(path), "--expect-head", given]) == 0, given


@pytest.mark.parametrize(
    "given", ["junk", "12", "5:", ":abc", "85 : x", "a:b:c", "99999999999999999999999:abcdef12"]
)
def test_a_malformed_head_is_a_usage_error(
    head: tuple[Path, str], given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = head
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(["verify", str(path), "--expect-head", given])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "expected SEQ:HASH" in err and "Traceback" not in err and "tampering" not in err


def test_a_wellformed_head_not_in_the_trail_is_tampering(head: tuple[Path, str]) -> None:
    path, line = head
    seq, _, hash_ = line.removeprefix("audit head: ").partition(":")
    other = "0" * len(hash_) if hash_ != "0" * len(hash_) else "1" * len(hash_)
    assert main(["verify", str(path), "--expect-head", f"{seq}:{other}"]) == 1


def test_same_as_never_prints_a_servers_password() -> None:
    from cobbdesk.cli.verify import _shown

    assert _shown("postgresql://bob:secret@db.example/trial") == "postgresql://bob@db.example/trial"
    assert _shown("/x/s.cobbdesk") == "/x/s.cobbdesk"
