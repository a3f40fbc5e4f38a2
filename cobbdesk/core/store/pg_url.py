"""Study locations on a PostgreSQL server: URL forms, the driver, and where the password comes from.

Accepted forms (SQLAlchemy's URL syntax, https://docs.sqlalchemy.org/en/20/core/engines.html):

* ``postgresql://USER@HOST:PORT/DB`` (``postgres://`` too); the port defaults to 5432;
* ``postgresql+pg8000://…`` — CobbDesk always talks through pg8000 (BSD licence); another
  ``+driver`` is refused with a message saying so;
* a Unix socket: ``postgresql://USER@/DB?unix_sock=/run/postgresql/.s.PGSQL.5432`` (pg8000's
  parameter) or libpq's ``?host=/run/postgresql`` (the folder; the socket file is added);
* ``?statement_timeout=MS`` — the server cancels any statement running longer (default 60 000);
* ``?schema=NAME`` — the study lives in that schema (several studies in one database); the
  default is ``public``;
* ``?port=N`` (with ``host=``); any other option is refused, listing these (:data:`OPTIONS`),
  and a number that is not one is refused naming the option.

An argument that went through :class:`pathlib.Path` (``postgresql:/USER@HOST/DB``: the double
slash collapsed) is recognised too.  The password is never part of the location CobbDesk keeps:
it comes, in this order, from the URL itself, what the user typed (a dialog's field or an
earlier prompt, kept in this process's memory only), ``PGPASSWORD``, the password file
(``PGPASSFILE`` or ``~/.pgpass``, read only when private, like libpq:
https://www.postgresql.org/docs/current/libpq-pgpass.html), the OS keyring (the ``keyring``
library: service ``cobbdesk``, user name ``USER@HOST:PORT/DB``; no usable keyring means no
password from it, silently) or, last, a prompt (:func:`set_prompt`).

>>> loc = parse("postgresql+pg8000://rater_a:secret@db.example:5433/trial")
>>> (loc.user, loc.host, loc.port, loc.database, loc.url)
('rater_a', 'db.example', 5433, 'trial', 'postgresql://rater_a@db.example:5433/trial')
>>> parse("postgresql:/rater_a@/trial?host=/run/pg").unix_sock
'/run/pg/.s.PGSQL.5432'
>>> is_url("trial.cobbdesk"), is_url("postgres://u@h/d")
(False, True)
"""

from __future__ import annotations

import getpass
import os
import re
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from cobbdesk.core.errors import StoreError
from cobbdesk.core.store import os_keyring

_SCHEME = re.compile(r"^(postgres(?:ql)?)(\+[A-Za-z0-9_]+)?:/+", re.IGNORECASE)
DEFAULT_PORT = 5432
DEFAULT_STATEMENT_TIMEOUT_MS = 60_000
DRIVER = "pg8000"
#: The ``?name=value`` options a study URL may carry, and what each expects.
OPTIONS = {
    "unix_sock": "the server's Unix socket file",
    "host": "the server's host name, or its socket folder",
    "port": "the server's TCP port, 1 to 65535",
    "statement_timeout": "milliseconds the server lets a statement run",
    "schema": "the schema holding the study",
}

_prompt: list[Callable[[str], str | None]] = []  # at most one: set_prompt's
_passwords: dict[tuple[str, str, int, str], str] = {}
_lock = threading.Lock()


def is_url(value: object) -> bool:
    """True when ``value`` (a str or a Path) names a study on a PostgreSQL server."""
    return isinstance(value, str | PathLike) and bool(_SCHEME.match(os.fspath(value)))


@dataclass(frozen=True)
class ServerLocation:
    """Where a study lives on a server; :attr:`url` never contains the password."""

    user: str
    host: str
    port: int
    database: str
    unix_sock: str | None = None
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    schema: str = "public"
    password: str | None = field(default=None, repr=False, compare=False)

    @property
    def url(self) -> str:
        """``postgresql://user@host[:port]/database[?unix_sock=…&schema=…]``, never the password.

        The port is left out when it is the default, host and port with a Unix socket.
        """
        host = "" if self.unix_sock else self.host
        port = f":{self.port}" if self.port != DEFAULT_PORT and not self.unix_sock else ""
        options = [f"unix_sock={self.unix_sock}"] if self.unix_sock else []
        options += [f"schema={self.schema}"] if self.schema != "public" else []
        query = ("?" + "&".join(options)) if options else ""
        return f"postgresql://{self.user}@{host}{port}/{self.database}{query}"

    @property
    def label(self) -> str:
        """A one-word name for messages (no slash, no password): ``DB on HOST``."""
        where = "the local socket" if self.unix_sock else self.host
        schema = f" (schema {self.schema})" if self.schema != "public" else ""
        return f"database {self.database}{schema} on {where}".replace("/", "_")

    @property
    def path(self) -> Path:
        """:attr:`label` as a Path, for the errors that name a study by its path."""
        return Path(self.label)

    def __str__(self) -> str:
        return self.url


def parse(value: str | PathLike[str]) -> ServerLocation:
    """The :class:`ServerLocation` of a URL; StoreError for a malformed one or another driver."""
    text = os.fspath(value)
    match = _SCHEME.match(text)
    if match is None:
        raise StoreError(None, "not a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE)")
    driver = (match.group(2) or "").lstrip("+").lower()
    if driver and driver != DRIVER:
        raise StoreError(
            None, f"CobbDesk connects through {DRIVER}, not {driver}; write postgresql://…"
        )
    parts = urlsplit("postgresql://" + text[match.end() :])
    query = _options(parts.query)
    database = unquote(parts.path.lstrip("/"))
    if not database or "/" in database:
        raise StoreError(None, "the URL names no database (postgresql://USER@HOST/DATABASE)")
    port = _port(parts) or _integer(query, "port", DEFAULT_PORT, 1, 65535)
    sock = query.get("unix_sock")
    if sock is None and query.get("host", "").startswith("/"):
        sock = f"{query['host'].rstrip('/')}/.s.PGSQL.{port}"
    user = unquote(parts.username or "") or getpass.getuser()
    timeout = _integer(query, "statement_timeout", DEFAULT_STATEMENT_TIMEOUT_MS, 1, 2**31 - 1)
    password = unquote(parts.password) if parts.password is not None else None
    named = query.get("host", "") if not query.get("host", "").startswith("/") else ""
    host = parts.hostname or named or ("localhost" if sock is None else "")
    schema = query.get("schema", "public")
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
        raise StoreError(None, "a schema name is lower-case letters, digits and _ only")
    return ServerLocation(user, host, port, database, sock, timeout, schema, password)


def _options(text: str) -> dict[str, str]:
    """The URL's ``?name=value`` options (the last of a repeated one); StoreError for an
    option CobbDesk does not know (a typo would otherwise be silently ignored)."""
    query = {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
    unknown = sorted(set(query) - set(OPTIONS))
    if unknown:
        raise StoreError(
            None, f"unknown URL option(s) {', '.join(unknown)}; the accepted ones are "
            f"{', '.join(OPTIONS)}",
        )  # fmt: skip
    return {k: v for k, v in query.items() if v or k in ("port", "statement_timeout")}


def _integer(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    """Option ``name`` as a whole number in ``low..high``; StoreError naming it otherwise."""
    text = query.get(name)
    if text is None:
        return default
    if not re.fullmatch(r"[0-9]{1,10}", text.strip()) or not low <= int(text) <= high:
        raise StoreError(
            None, f"the URL option {name}={text!r} is not a whole number from {low} to {high}"
            f" ({OPTIONS[name]})",
        )  # fmt: skip
    return int(text)


def _port(parts: SplitResult) -> int | None:
    """The port written after the host (None when none); StoreError when it is not one."""
    try:
        return parts.port
    except ValueError:
        raise StoreError(None, "the URL's port is not a whole number from 0 to 65535") from None


def set_prompt(prompt: Callable[[str], str | None] | None) -> None:
    """Ask for a missing password with ``prompt(question)`` (the CLI's getpass, a GUI dialog)."""
    _prompt[:] = [prompt] if prompt is not None else []


def _key(loc: ServerLocation) -> tuple[str, str, int, str]:
    return (loc.unix_sock or loc.host, loc.user, loc.port, loc.database)


def password(loc: ServerLocation, *, ask_keyring: bool = True) -> str | None:
    """The password for ``loc`` without prompting, in this order: the URL, what the user typed
    (memory), ``PGPASSWORD``, the password file, the OS keyring (:func:`keyring_password`);
    None when none has one.  With ``ask_keyring`` False the keyring is not consulted (it may
    be slow, or ask the user to unlock it), only a password it gave this process already."""
    if loc.password is not None:
        return loc.password
    with _lock:
        remembered = _passwords.get(_key(loc))
    found = remembered or os.environ.get("PGPASSWORD") or pgpass(loc)
    if found:
        return found
    if not ask_keyring:
        return os_keyring.cached(keyring_username(loc))
    return keyring_password(loc)


def keyring_username(loc: ServerLocation) -> str:
    """The keyring entry's user name: ``USER@HOST:PORT/DB`` (the socket folder as the host)."""
    host = os.path.dirname(loc.unix_sock) if loc.unix_sock else loc.host
    return f"{loc.user}@{host}:{loc.port}/{loc.database}"


def keyring_password(loc: ServerLocation) -> str | None:
    """The password stored for ``loc`` in the OS keyring (service ``cobbdesk``); None when
    there is none or no usable keyring (see :mod:`os_keyring`: never raises)."""
    return os_keyring.lookup(keyring_username(loc))


def store_in_keyring(loc: ServerLocation, secret: str) -> bool:
    """Store ``secret`` for ``loc`` in the OS keyring; False (nothing stored, nothing raised)
    when there is no usable keyring or ``secret`` is empty."""
    return bool(secret) and os_keyring.store(keyring_username(loc), secret)


def remember_password(loc: ServerLocation, secret: str) -> None:
    """Keep ``secret`` as the password for ``loc`` in this process's memory only (a dialog's
    password field); :func:`password` returns it.  An empty ``secret`` is ignored."""
    if secret:
        with _lock:
            _passwords[_key(loc)] = secret


def forget_password(loc: ServerLocation, secret: str) -> None:
    """Drop ``secret`` from this process's memory when it is what :func:`remember_password`
    holds for ``loc`` (a typed password that did not open the study)."""
    with _lock:
        if secret and _passwords.get(_key(loc)) == secret:
            del _passwords[_key(loc)]


def ask_password(loc: ServerLocation) -> str | None:
    """Ask through the prompt (None when there is none or the user gave none); remembered."""
    if not _prompt:
        return None
    answer = _prompt[0](f"Password for {loc.user} ({loc.label}): ")
    if answer:
        with _lock:
            _passwords[_key(loc)] = answer
    return answer or None


def _pgpass_fields(line: str) -> list[str]:
    return [f.replace("\\:", ":").replace("\\\\", "\\")
            for f in re.split(r"(?<!\\):", line.rstrip("\n"))]  # fmt: skip


def pgpass(loc: ServerLocation) -> str | None:
    """The first matching line of the password file (``*`` matches anything); None if none.

    Like libpq, a file readable by group or others is ignored; a Unix socket matches the host
    ``localhost``.
    """
    path = Path(os.environ.get("PGPASSFILE") or Path.home() / ".pgpass")
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            return None
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    wanted = ("localhost" if loc.unix_sock else loc.host, str(loc.port), loc.database, loc.user)
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        fields = _pgpass_fields(line)
        if len(fields) == 5 and all(f in ("*", w) for f, w in zip(fields, wanted, strict=False)):
            return fields[4]
    return None
