"""The STUDY argument of every subcommand: a study file or a PostgreSQL URL.

A URL is kept as written (a :class:`~pathlib.Path` would fold its ``//`` and ask the file
system whether it exists); a file name becomes a Path.

>>> study_location("postgresql://rater_a@/trial?unix_sock=/run/pg/.s.PGSQL.5432")
'postgresql://rater_a@/trial?unix_sock=/run/pg/.s.PGSQL.5432'
>>> study_location("trial.cobbdesk")
PosixPath('trial.cobbdesk')
"""

from __future__ import annotations

from pathlib import Path

from cobbdesk.core.store.pg_url import is_url


def study_location(text: str) -> Path | str:
    """argparse type of a STUDY argument (see the module docstring); noted for redaction
    (:func:`cobbdesk.cli.identifiers.learn_named`: a line printed before the study is open)."""
    from cobbdesk.cli.identifiers import note_study

    location = text if is_url(text) else Path(text)
    note_study(location)
    return location


def exists(location: Path | str) -> bool:
    """Whether a study file exists; a server study is taken to (the server says when not)."""
    return is_url(location) or Path(location).exists()
