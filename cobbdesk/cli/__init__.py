"""The ``cobbdesk`` command line (see :func:`cobbdesk.cli.main.main`)."""

from cobbdesk.cli.main import SUBCOMMANDS, main

__all__ = ["SUBCOMMANDS", "main"]
