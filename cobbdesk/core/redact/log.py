"""Redaction on logging's way out: a filter for every handler, libraries kept off stderr."""

from __future__ import annotations

import logging

from cobbdesk.core.redact.matching import redact


class RedactingFilter(logging.Filter):
    """Redacts a record's message, traceback and stack text (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record's message (its arguments merged in), traceback and stack; keep it."""
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install(*loggers: logging.Logger) -> None:
    """Put one :class:`RedactingFilter` on every handler of ``loggers`` (default: the root
    and ``cobbdesk`` loggers) and on logging's last-resort stderr handler; idempotent."""
    chosen = loggers or (logging.getLogger(), logging.getLogger("cobbdesk"))
    handlers = [h for lg in chosen for h in lg.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


#: Libraries whose log records never reach stderr (logging's last resort would print them
#: with their tracebacks): SQLAlchemy's pool logs "Exception terminating connection …" with
#: the driver's traceback when a server connection drops, before CobbDesk's own one line.
QUIET_LIBRARIES = ("sqlalchemy",)


class OneLineHandler(logging.Handler):
    """Passes a library's WARNING+ records on to ``target`` as one redacted line: the
    traceback is replaced by the exception's type (never its text, which may hold values);
    with no ``target`` the records are dropped."""

    def __init__(self, target: logging.Handler | None) -> None:
        super().__init__(logging.WARNING)
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        """Hand a one-line, redacted copy of ``record`` to the target handler."""
        if self.target is None:
            return
        line = logging.makeLogRecord(record.__dict__)
        text = line.getMessage()
        if line.exc_info and line.exc_info[1] is not None:
            text += f" ({type(line.exc_info[1]).__name__})"
        line.msg, line.args = redact(" ".join(text.split())), None
        line.exc_info, line.exc_text, line.stack_info = None, None, None
        self.target.handle(line)


def quiet_libraries(target: logging.Handler | None = None) -> None:
    """Keep the :data:`QUIET_LIBRARIES` loggers off stderr: their WARNING+ records go to
    ``target`` (the GUI's log file) as one redacted line without traceback, or nowhere (the
    command line); they no longer propagate.  Idempotent: a second call replaces the target."""
    for name in QUIET_LIBRARIES:
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, OneLineHandler)]:
            logger.removeHandler(old)
        logger.addHandler(OneLineHandler(target))
        logger.propagate = False
