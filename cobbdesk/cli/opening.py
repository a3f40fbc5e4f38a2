"""Opening the study a subcommand names (``import --create`` may make it first)."""

from __future__ import annotations

import argparse
from typing import Any

from cobbdesk.cli.locations import exists


def open_study(args: argparse.Namespace, create: bool = False) -> Any:
    """The open :class:`~cobbdesk.core.store.study.Study` at ``args.study`` for ``args.rater``;
    ``create``: a missing file (or a server database without a study) is created first.

    A study created by another program between the check and the creation (creation is
    atomic), or already held by the server database, is opened instead.  Raises the
    store's CobbdeskError (no such study, damaged, locked, read-only...).
    """
    from cobbdesk.core.errors import StoreError
    from cobbdesk.core.store import pg_url
    from cobbdesk.core.store.study import Study

    location = args.study
    if create and (pg_url.is_url(location) or not location.exists()):
        try:
            return Study.create(location, actor=args.rater)
        except StoreError:
            if not exists(location) or (pg_url.is_url(location) and not holds_study(location)):
                raise
            # the file was created by another program first (creation is atomic), or the
            # server database already holds the study: open it
    return Study.open(location, actor=args.rater)


def holds_study(url: str) -> bool:
    """Whether the server database at ``url`` already holds a study (else Create's error
    was another fault, which must be reported)."""
    from cobbdesk.core.errors import CobbdeskError
    from cobbdesk.core.store.study import Study

    try:
        Study.open(url).close()
    except CobbdeskError:
        return False
    return True
