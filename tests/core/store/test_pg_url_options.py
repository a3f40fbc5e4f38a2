"""A study URL's ``?options``: whole numbers are checked (a one-line StoreError naming the
option and what it expects, not "internal error (ValueError)"), and an unknown option — a
typo such as ``statment_timeout`` — is refused listing the accepted ones, not ignored."""

from __future__ import annotations

import pytest

from cobbdesk.cli import main
from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import pg_url

BASE = "postgresql://u@/db?unix_sock=/run/pg/.s.PGSQL.5432"


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("statement_timeout=abc", "statement_timeout='abc' is not a whole number from 1"),
        ("statement_timeout=-5", "statement_timeout='-5' is not a whole number"),
        ("statement_timeout=", "statement_timeout='' is not a whole number"),
        ("statement_timeout=99999999999", "statement_timeout='99999999999' is not"),
        ("port=x", "port='x' is not a whole number from 1 to 65535"),
        ("port=70000", "port='70000' is not a whole number from 1 to 65535"),
    ],
)
def test_bad_numbers_are_named(option: str, words: str) -> None:
    with pytest.raises(StoreError) as caught:
        pg_url.parse(f"{BASE}&{option}")
    assert words in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize("option", ["bogus=1", "statment_timeout=5000", "sslmode", "Schema=x"])
def test_unknown_options_are_refused(option: str) -> None:
    with pytest.raises(StoreError) as caught:
        pg_url.parse(f"{BASE}&{option}")
    name = option.split("=", maxsplit=1)[0]
    assert f"unknown URL option(s) {name}; the accepted ones are " in caught.value.message
    for known in ("unix_sock", "host", "port", "statement_timeout", "schema"):
        assert known in caught.value.message


def test_good_options_still_parse() -> None:
    loc = pg_url.parse(f"{BASE}&statement_timeout=1500&schema=s2")
    assert (loc.statement_timeout_ms, loc.schema, loc.unix_sock) == (
        1500, "s2", "/run/pg/.s.PGSQL.5432",
    )  # fmt: skip
    assert pg_url.parse("postgresql://u@h/db?port=5433").port == 5433
    assert pg_url.parse("postgresql://u@/db?host=db.example").host == "db.example"
    assert pg_url.parse("postgresql://u@/db?host=/run/pg&port=6000").unix_sock == (
        "/run/pg/.s.PGSQL.6000"
    )
    assert pg_url.parse("postgresql://u@h/db").statement_timeout_ms == 60_000


def test_bad_port_after_the_host() -> None:
    with pytest.raises(StoreError, match="port is not a whole number"):
        pg_url.parse("postgresql://u@h:abc/db")


def test_cli_says_it_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", f"{BASE}&statement_timeout=abc"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cobbdesk: error: the URL option statement_timeout='abc'")
    assert "internal error" not in err and len(err.splitlines()) == 1
    assert main(["verify", f"{BASE}&statment_timeout=5"]) == 1
    assert "unknown URL option(s) statment_timeout" in capsys.readouterr().err
