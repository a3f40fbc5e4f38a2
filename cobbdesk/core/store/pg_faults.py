"""PostgreSQL server faults translated into errors a user can act on (the server's :mod:`faults`).

pg8000 reports a server error as ``DatabaseError`` whose first argument holds the fields of
the server's ErrorResponse; ``C`` is the SQLSTATE (PostgreSQL manual, Appendix A "PostgreSQL
Error Codes").  A connection that cannot be made or is lost is an ``InterfaceError`` or an
``OSError``.  :func:`translate` maps them:

============================================  ===============================  ===========
fault                                         error                            CLI status
============================================  ===============================  ===========
no connection, lost connection, class 08,     :class:`ServerUnavailableError`  6
57P01-57P03 (server shut down / starting),
57014 (statement timeout)
55P03 lock_not_available, 40001, 40P01        :class:`StudyLockedError`        3
42501 insufficient_privilege, 25006           :class:`StudyReadOnlyError`      4
53100 disk_full, 53200 out_of_memory          :class:`DiskFullError`           5
28000, 28P01 (login refused), 3D000           :class:`StoreError`              1
============================================  ===============================  ===========

Messages name the database and say what to do; never SQL text, parameters, or a password.
A transaction interrupted by any of them is rolled back by the server: nothing half-saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cobbdesk.core.errors import (
    CobbdeskError,
    DiskFullError,
    ServerUnavailableError,
    StoreError,
    StudyLockedError,
    StudyReadOnlyError,
)

UNREACHABLE = (
    "the database server cannot be reached ({why}){saved}. Check that the server "
    "is running and the address is right, then try again"
)
LOCKED = (
    "the study is busy: another rater's save holds the write lock longer than CobbDesk "
    "waits{saved}. Try again"
)
TIMEOUT = (
    "the server did not finish within the statement timeout{saved}. Try again, "
    "or ask the administrator to look at the server's load"
)
NO_RIGHT = (
    "your database role may not {what}{saved}. Ask the study's administrator "
    "for the cobbdesk_rater role"
)
NOT_ADMIN = (
    "your database role may not {action}: that needs the study's administrator (the owner "
    "of the database and schema, with CREATEROLE for the cobbdesk_rater role), not a rater; "
    "nothing was changed. Ask the administrator to run it"
)
#: Said only when the failed statement was a write (a read saves nothing anyway).
NOTHING_SAVED = "; nothing was saved"


def sqlstate(error: BaseException) -> str:
    """The SQLSTATE of a pg8000 ``DatabaseError`` (``""`` for anything else)."""
    args = getattr(error, "args", ())
    first = args[0] if args else None
    return str(first.get("C", "")) if isinstance(first, dict) else ""


def _is_pg8000(error: BaseException) -> bool:
    return type(error).__module__.startswith("pg8000")


def translate(  # noqa: PLR0911
    error: BaseException, path: Path, *, write: bool = False
) -> CobbdeskError | None:
    """The user-facing error for a server or network fault on study ``path`` (its label);
    None for a constraint or SQL error (a bug, or a rule of the schema, left as it is).
    ``write``: the failed statement belonged to a write, so the message says nothing was
    saved (a read's message does not mention saving)."""
    if isinstance(error, CobbdeskError):
        return error
    saved = NOTHING_SAVED if write else ""
    original: Any = getattr(error, "orig", None) or error
    original = _login_refusal(original) or original
    if isinstance(original, OSError) or _lost(original):
        return ServerUnavailableError(path, UNREACHABLE.format(why=_why(original), saved=saved))
    code = sqlstate(original)
    if not code:
        return None
    if code.startswith("08") or code in ("57P01", "57P02", "57P03"):
        why = f"SQLSTATE {code}"
        return ServerUnavailableError(path, UNREACHABLE.format(why=why, saved=saved))
    if code == "57014":
        return ServerUnavailableError(path, TIMEOUT.format(saved=saved))
    if code in ("55P03", "40001", "40P01"):
        return StudyLockedError(path, LOCKED.format(saved=saved))
    if code in ("42501", "25006"):
        what = "change this study" if code == "42501" else "write: the study is open read-only"
        return StudyReadOnlyError(path, NO_RIGHT.format(what=what, saved=saved))
    if code in ("53100", "53200"):
        return DiskFullError(path, f"the database server's disk is full{saved}")
    if code in ("28000", "28P01"):
        return StoreError(path, "the server refused the login (wrong role or password)")
    if code == "3D000":
        return StoreError(path, "the server has no such database")
    return None


def _login_refusal(error: BaseException) -> BaseException | None:
    """The server's login refusal (28000/28P01) that pg8000 hides behind "network error": on
    a refused login it closes the socket the server already closed, and that write's broken
    pipe replaces the refusal (which stays in ``__context__``)."""
    seen: BaseException | None = error
    for _ in range(4):
        if seen is None:
            return None
        if sqlstate(seen) in ("28000", "28P01"):
            return seen
        seen = seen.__context__
    return None


def _lost(error: BaseException) -> bool:
    """A pg8000 InterfaceError about the connection (not, e.g., "in failed transaction")."""
    if not (_is_pg8000(error) and type(error).__name__ == "InterfaceError"):
        return False
    cause = error.__cause__ or error.__context__
    text = str(error).lower()
    return isinstance(cause, OSError) or any(
        hint in text for hint in ("connect", "network", "closed", "socket", "password", "timed out")
    )


def _why(error: BaseException) -> str:
    """A short reason without addresses' secrets: the OS error name, or the driver's kind."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    cause = error.__cause__ or error.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    text = str(error).lower()
    for hint in ("password", "refused", "no such file", "timed out", "closed", "network"):
        if hint in text:
            return {"no such file": "no server socket", "password": "a password is needed",
                    "closed": "connection closed"}.get(hint, hint)  # fmt: skip
    return "connection failed"


def not_admin(error: CobbdeskError, action: str) -> CobbdeskError:
    """``error`` restated for an administrator's command (``server init``/``grant``/
    ``migrate``): a refused privilege (:data:`NO_RIGHT`) means the role is not the study's
    administrator — a rater has the cobbdesk_rater role already.  Other errors unchanged."""
    if isinstance(error, StudyReadOnlyError) and error.problem.startswith("your database role"):
        return StudyReadOnlyError(error.path, NOT_ADMIN.format(action=action))
    return error
