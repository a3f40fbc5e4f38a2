"""Everything PostgreSQL-specific: the engine, the write lock, the audit guards and the roles.

The SQLite counterpart is :mod:`cobbdesk.core.store.dialect`; the rest of the store speaks
portable SQLAlchemy Core.  The rules that make a server study behave like the file:

* **one writer at a time** — a write transaction first takes a transaction-scoped advisory
  lock (``pg_advisory_xact_lock``, PostgreSQL manual §9.27.10), like SQLite's
  ``BEGIN IMMEDIATE``, so the audit chain (``seq``, ``prev_hash``) is extended by one
  transaction at a time and each sees every earlier commit (READ COMMITTED after the lock);
  the lock is waited for at most :data:`LOCK_TIMEOUT_MS` (then StudyLockedError);
* **reads are snapshots** — a read transaction is REPEATABLE READ (one consistent view, never
  blocking a writer, like a WAL read);
* **append-only audit** — triggers refuse UPDATE, DELETE and TRUNCATE on ``audit``, and the
  ``cobbdesk_rater`` group role (:func:`create_rater_role`) has no UPDATE or DELETE on it;
* **text is unbounded** — ``String(n)`` is TEXT here, as in SQLite (which never enforced the
  length), so every file can be copied to a server and back unchanged;
* **faults** become :mod:`pg_faults` errors; a statement runs at most the location's
  ``statement_timeout``; pooled connections are pinged before use (a restarted server).
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from sqlalchemy import DDL, Connection, Engine, String, create_engine, event, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.compiler import compiles

from cobbdesk.core.errors import ServerUnavailableError, StoreError
from cobbdesk.core.store import pg_faults, pg_url
from cobbdesk.core.store.dialect import WRITE_OPTION
from cobbdesk.core.store.pg_url import ServerLocation
from cobbdesk.core.store.schema import audit, metadata
from cobbdesk.core.store.waiting import notice_if_waiting

#: ``pg_advisory_xact_lock`` key of the study's write lock ("Cobb" in ASCII).
WRITE_LOCK_KEY = 0x436F6262
LOCK_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 10
RATER_ROLE = "cobbdesk_rater"
TRIGGERS = ("audit_no_update", "audit_no_delete", "audit_no_truncate")

_GUARD_FUNCTION = (
    "CREATE OR REPLACE FUNCTION cobbdesk_audit_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'the audit trail is append-only' "
    "USING ERRCODE = 'integrity_constraint_violation'; "
    "END $$"
)
_PG_TRIGGERS = (
    _GUARD_FUNCTION,
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION cobbdesk_audit_append_only()",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "FOR EACH ROW EXECUTE FUNCTION cobbdesk_audit_append_only()",
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION cobbdesk_audit_append_only()",
)
for _statement in _PG_TRIGGERS:
    event.listen(audit, "after_create", DDL(_statement).execute_if(dialect="postgresql"))  # type: ignore[no-untyped-call]


@compiles(String, "postgresql")
def _unbounded_text(_type: String, _compiler: Any, **_kw: Any) -> str:
    return "TEXT"


def session_settings(loc: ServerLocation, *, read_only: bool = False) -> dict[str, str]:
    """The connection's settings, sent in the startup message (no round trip of their own):
    any run-time parameter settable at backend start may be listed there (PostgreSQL manual
    §55.7, StartupMessage).

    ``jit`` is off (PostgreSQL 11+, manual §32 "Just-in-Time Compilation"): the planner's cost
    of the browser's completeness query (a ``NOT IN`` over correlated ``EXISTS``) is far above
    ``jit_above_cost``, and compiling it took 1.2 s of its 1.5 s on the 10,000-patient study;
    no CobbDesk query runs long enough to win the compile time back.
    """
    settings = {
        "statement_timeout": str(int(loc.statement_timeout_ms)),
        "lock_timeout": str(LOCK_TIMEOUT_MS),
        "search_path": loc.schema,  # a checked identifier (pg_url.parse)
        "jit": "off",
    }
    if read_only:
        settings["default_transaction_read_only"] = "on"
    return settings


def connect(loc: ServerLocation, *, read_only: bool = False, password: str | None = None) -> Any:
    """A pg8000 DB-API connection to ``loc`` (``password`` overrides :func:`pg_url.password`).

    On a Unix socket no SSL is asked for: the server never offers it there (PostgreSQL manual
    §18.9: SSL is for TCP/IP connections), and pg8000's default would build a certificate
    store (~60 ms) and spend a round trip on the request.  Over TCP pg8000's default stays
    (SSL when the server offers it).
    """
    import pg8000.dbapi

    timeout = loc.statement_timeout_ms / 1000 + 30  # the socket outlives the server's timeout
    return pg8000.dbapi.connect(
        user=loc.user,
        host=loc.host or "localhost",
        port=loc.port,
        database=loc.database,
        unix_sock=loc.unix_sock,
        password=password if password is not None else pg_url.password(loc, ask_keyring=False),
        timeout=timeout,
        application_name="cobbdesk",
        startup_params=session_settings(loc, read_only=read_only),
        ssl_context=False if loc.unix_sock else None,
    )


NEED_PASSWORD = (
    "the server needs a password for role {user}: set PGPASSWORD, add a line to ~/.pgpass "
    "(mode 0600), or run the command from a terminal to be asked"
)


def _creator(loc: ServerLocation, read_only: bool) -> Any:
    def create() -> Any:
        """A new driver connection; asks for the password when the server needs one.

        Raises StoreError when a password is needed and none can be asked for.
        """
        known = pg_url.password(loc, ask_keyring=False)  # once: other threads may add one
        try:
            return connect(loc, read_only=read_only, password=known)
        except Exception as exc:
            # pg8000 without a password for a server that asks: InterfaceError or, for SCRAM,
            # AttributeError (None.decode)
            if known is not None or not (
                "password" in str(exc).lower() or isinstance(exc, AttributeError)
            ):
                raise
        # The OS keyring only now the server asked (a locked keyring may prompt the user)
        asked = pg_url.keyring_password(loc) or pg_url.ask_password(loc)
        if asked is None:
            raise StoreError(loc.path, NEED_PASSWORD.format(user=loc.user))
        return connect(loc, read_only=read_only, password=asked)

    return create


def engine_for(loc: ServerLocation, *, read_only: bool = False) -> Engine:
    """A SQLAlchemy engine on the server study ``loc`` (pg8000, pinged pool, fault translation).

    The password is given to the driver only; the engine's URL carries none.
    """
    engine = create_engine(
        "postgresql+pg8000://",
        creator=_creator(loc, read_only),
        pool_pre_ping=True,
        pool_size=2,
        hide_parameters=True,
    )
    engine.dialect.do_ping = _ping  # type: ignore[method-assign]
    event.listen(engine, "begin", _beginner(loc))
    event.listen(engine, "handle_error", _translator(loc))
    return engine


def _ping(dbapi_connection: Any) -> bool:
    """The pool's pre-ping: an empty query, one round trip that opens no transaction
    (SQLAlchemy's ``SELECT 1`` costs pg8000 a ``BEGIN`` first, and a ``ROLLBACK`` after).
    False (the pool opens a new connection) when the socket died under the driver: pg8000
    raises the raw ``OSError`` (connection reset by a terminated backend), which SQLAlchemy
    would pass up untranslated ("file: Connection reset by peer", exit 1)."""
    try:
        dbapi_connection.execute_simple(";")
    except OSError:
        return False
    return True


def _beginner(loc: ServerLocation) -> Any:
    def begin(conn: Connection) -> None:
        """Writers: the study's write lock first (READ COMMITTED, so every later statement
        sees the commits made while waiting).  Readers: a REPEATABLE READ snapshot.

        Sent as one simple-protocol query (one round trip).  The driver may already be inside
        a transaction that SQLAlchemy has not begun (a read on the raw connection whose rows
        were fetched): nothing of it needs keeping, so it is ended first.  Faults are
        translated like a statement's (:func:`pg_faults.translate`).
        """
        raw = conn.connection.driver_connection
        parts = ["ROLLBACK"] if getattr(raw, "_in_transaction", False) else []
        write = bool(conn.get_execution_options().get(WRITE_OPTION, False))
        if write:
            parts += ["BEGIN", f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})"]
        else:
            parts += ["BEGIN ISOLATION LEVEL REPEATABLE READ"]
        try:
            with notice_if_waiting(loc.path) if write else nullcontext():  # a writer may wait
                raw.execute_simple("; ".join(parts))  # type: ignore[union-attr]
        except Exception as exc:
            error = pg_faults.translate(exc, loc.path, write=write)
            if error is None:
                raise
            raise error from None

    return begin


def _translator(loc: ServerLocation) -> Any:
    def handle_error(context: ExceptionContext) -> None:
        """Re-raise a server or network fault as the user-facing error (``pg_faults.translate``);
        a lost connection is marked a disconnect, so the pool drops it (the next write opens a
        new one instead of failing once more on the dead socket)."""
        conn = context.connection  # None while connecting: nothing was written yet
        write = conn is not None and bool(conn.get_execution_options().get(WRITE_OPTION))
        error = pg_faults.translate(context.original_exception, loc.path, write=write)
        if error is None:
            return
        if isinstance(error, ServerUnavailableError) and "statement timeout" not in error.message:
            context.is_disconnect = True
            if context.is_pre_ping:  # a pooled connection died: the pool opens a new one
                return
        raise error from None

    return handle_error


def reachable_role(engine: Engine, loc: ServerLocation) -> str:
    """The database role this engine's connections act as (recorded in the audit), read in
    the connection that proves the server reachable: ServerUnavailableError / StoreError
    (login refused, no database) up front."""
    try:
        with engine.connect() as conn:
            return str(conn.exec_driver_sql("SELECT current_user").scalar())
    except StoreError:
        raise
    except Exception as exc:
        error = pg_faults.translate(exc, loc.path)
        if error is None:
            raise
        raise error from None


def ensure_schema(conn: Connection, schema: str) -> None:
    """Create the study's schema when missing (``schema``: checked by :func:`pg_url.parse`)."""
    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")


def has_schema(conn: Connection) -> bool:
    """True when the study's schema holds CobbDesk's ``meta`` table."""
    return bool(conn.exec_driver_sql("SELECT to_regclass('meta') IS NOT NULL").scalar())


def trigger_names(conn: Connection) -> set[str]:
    """The names of the triggers on the audit table."""
    query = text(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = to_regclass('audit') AND NOT tgisinternal"
    )
    return {str(r[0]) for r in conn.execute(query)}


def reset_sequences(conn: Connection) -> None:
    """After rows were inserted with their ids (a copy), move each id sequence past them."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, String) and column.autoincrement in (True, "auto"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"
                ))  # fmt: skip


def create_rater_role(conn: Connection, database: str, schema: str = "public") -> None:
    """The group role raters log in through: read and write the data, append to the audit.

    ``cobbdesk_rater`` gets SELECT, INSERT and UPDATE on every table but ``audit`` (deletions
    are soft: no DELETE anywhere), SELECT and INSERT on ``audit``, and the id sequences.  An
    audit row it inserts must carry its own role as ``actor`` (a trigger refuses others), so a
    rater cannot write in another's name; nor save a measurement, reading or skip under
    another rater's name (:func:`_own_rater_triggers`).  Give a rater access with
    ``CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE cobbdesk_rater``.
    """
    conn.exec_driver_sql(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cobbdesk_rater') "
        "THEN CREATE ROLE cobbdesk_rater NOLOGIN; END IF; END $$"
    )
    quoted = '"' + database.replace('"', '""') + '"'
    conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {quoted} TO {RATER_ROLE}")
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {schema} TO {RATER_ROLE}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {RATER_ROLE}")
    for table in metadata.sorted_tables:
        rights = "SELECT, INSERT" if table is audit else "SELECT, INSERT, UPDATE"
        conn.exec_driver_sql(f"GRANT {rights} ON {table.name} TO {RATER_ROLE}")
    conn.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {RATER_ROLE}")
    conn.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION cobbdesk_audit_own_name() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.actor <> current_user AND pg_has_role(current_user, 'cobbdesk_rater', 'USAGE') "
        "AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN "
        "RAISE EXCEPTION 'an audit row must name its own database role' "
        "USING ERRCODE = 'insufficient_privilege'; END IF; RETURN NEW; END $$"
    )
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_own_name ON audit")
    conn.exec_driver_sql(
        "CREATE TRIGGER audit_own_name BEFORE INSERT ON audit "
        "FOR EACH ROW EXECUTE FUNCTION cobbdesk_audit_own_name()"
    )
    _own_rater_triggers(conn)


#: The tables whose rows name their rater; a rater role writes only rows naming itself.
RATER_TABLES = ("measurements", "readings", "reading_skips")
_IS_RATER_ROLE = (
    "pg_has_role(current_user, 'cobbdesk_rater', 'USAGE') "
    "AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
)


def _own_rater_triggers(conn: Connection) -> None:
    """Each rater measures as themselves: a member of ``cobbdesk_rater`` may insert or update
    a measurement, reading or skip only when its ``rater`` is its own role (``current_user``),
    so per-rater statistics never count one rater's reading as another's.  The administrator
    (the schema owner, outside the group) may still enter others' readings (paper forms),
    audited under their own role.  Refused writes raise SQLSTATE 42501 naming both names."""
    conn.exec_driver_sql(
        "CREATE OR REPLACE FUNCTION cobbdesk_own_rater() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.rater IS DISTINCT FROM current_user::text AND {_IS_RATER_ROLE} THEN "
        "RAISE EXCEPTION 'database role % may save only its own readings, not rater %', "
        "current_user, NEW.rater USING ERRCODE = 'insufficient_privilege'; END IF; "
        "RETURN NEW; END $$"
    )
    for table in RATER_TABLES:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_own_rater ON {table}")
        conn.exec_driver_sql(
            f"CREATE TRIGGER {table}_own_rater BEFORE INSERT OR UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION cobbdesk_own_rater()"
        )


def is_rater_role(conn: Connection) -> bool:
    """True when the connection's role is a (non-superuser) member of ``cobbdesk_rater``,
    i.e. bound to write only its own readings (False when the group role does not exist)."""
    query = (
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cobbdesk_rater') "
        f"THEN {_IS_RATER_ROLE} ELSE false END"
    )
    return bool(conn.exec_driver_sql(query).scalar())
