"""The command line's error boundary: one-line, redacted messages and distinct exit statuses.

Every error or warning line a subcommand writes to stderr goes through :func:`say`, which
passes it through :func:`cobbdesk.core.redact.redact` (no name, MRN or birth date reaches
stderr).  :func:`fail` prints a :class:`CobbdeskError` and returns its exit status:

====  ===========================================================================
0     success
1     an error in the input or the study (bad file, rejected row, damaged study)
2     a usage error (argparse)
3     the study is locked: another program is writing to it (retry later)
4     the study (file or folder) is read-only
5     the disk is full
6     the study's database server cannot be reached or did not answer (retry later)
70    an internal error (a bug; set ``COBBDESK_DEBUG=1`` for the redacted traceback)
130   interrupted
====  ===========================================================================
"""

from __future__ import annotations

import os
import sys
import traceback

from cobbdesk.core.errors import CobbdeskError
from cobbdesk.core.redact import redact

INTERNAL_ERROR = 70  # EX_SOFTWARE (sysexits.h)


def say(kind: str, text: str) -> None:
    """``cobbdesk: KIND: TEXT`` on stderr, redacted."""
    sys.stderr.write(redact(f"cobbdesk: {kind}: {text}") + "\n")


def fail(error: CobbdeskError) -> int:
    """Print ``error`` (one redacted line) and return its exit status."""
    say("error", error.message)
    return error.exit_status


def internal(error: BaseException) -> int:
    """An unexpected exception: its type on one line; the traceback only when asked for."""
    say("error", f"internal error ({type(error).__name__}); nothing more was written")
    if os.environ.get("COBBDESK_DEBUG"):
        text = "".join(traceback.format_exception(error))
        sys.stderr.write(redact(text))
    return INTERNAL_ERROR
