"""A guard that records every SQL statement a study runs on the UI (main) thread (#15).

The issue asks that the GUI never waits on the network: every database call runs off the UI
thread.  Blocking a worker with a gate (``test_study_reads_off_ui.py``) proves one read at a
time; this guard proves it for a whole user action, whatever function issues the statement:
SQLAlchemy's ``before_cursor_execute`` event fires on the thread that executes, so a statement
seen on ``threading.main_thread()`` is one the window would wait for.

    with UiThreadSql(study) as seen:
        ...  # drive the action as a user would, wait for its workers
    assert seen.statements == []

Each record keeps the statement's first words and the innermost ``cobbdesk`` frame that ran it,
so a failing test names the function to move off the UI thread.
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from sqlalchemy import event

from cobbdesk.core.store import Study


@dataclass
class UiThreadSql:
    """Context manager: the statements ``study`` executed on the main thread while active."""

    study: Study
    statements: list[str] = field(default_factory=list)

    def _record(self, conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        ours = [f for f in traceback.extract_stack() if "/cobbdesk/" in f.filename]
        frames = [f for f in ours if "/core/store/" not in f.filename] or ours
        where = f"{frames[-1].filename.rsplit('/cobbdesk/', 1)[-1]}:{frames[-1].lineno} " \
                f"{frames[-1].name}" if frames else "?"  # fmt: skip
        self.statements.append(f"{' '.join(statement.split()[:6])} … from {where}")

    def __enter__(self) -> UiThreadSql:
        event.listen(self.study.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:  # fmt: skip
        event.remove(self.study.engine, "before_cursor_execute", self._record)
