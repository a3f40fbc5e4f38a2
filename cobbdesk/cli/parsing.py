"""The command line's argument parser (standard library only: imported before any command)."""

from __future__ import annotations

import argparse
from typing import Any


class Parser(argparse.ArgumentParser):
    """The command line's parser: long options are never matched by a prefix
    (``allow_abbrev=False``), so ``export --rater dr_a`` can never silently mean
    ``--raters dr_a`` (another dataset).  Subparsers made by ``add_parser`` are of this class
    too (argparse makes them of the parent parser's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
