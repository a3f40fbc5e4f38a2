"""The OS keyring, guarded: server passwords a user asked CobbDesk to remember (#15).

Through the ``keyring`` library (MIT; https://pypi.org/project/keyring/): the Secret Service
(GNOME Keyring, KWallet) on Linux, the Keychain on macOS, the Credential Locker on Windows.
Entries live under the service :data:`SERVICE` with a user name the caller builds
(:func:`cobbdesk.core.store.pg_url.keyring_username`).

Guarded, because a keyring is an optional comfort: no backend (a headless Debian machine has
only ``keyring.backends.fail.Keyring``), the library missing, a backend raising, or one that
does not answer within :data:`TIMEOUT_S` (a D-Bus service that never replies) all mean "no
password from the keyring" — never an exception, and after the first failure this process
does not ask again (no repeated delay).  Nothing here logs a password or a user name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

SERVICE = "cobbdesk"
TIMEOUT_S = 5.0  # a keyring that has not answered by then is treated as absent

_T = TypeVar("_T")
_lock = threading.Lock()
_found: dict[str, str] = {}  # user name -> password looked up or stored in this process
_unusable: list[bool] = []  # [True] once the keyring failed: not asked again


def _backend() -> Any:
    """The keyring module when a real backend is configured; None otherwise."""
    import keyring
    from keyring.backends import fail

    if isinstance(keyring.get_keyring(), fail.Keyring):
        return None
    return keyring


def _call(action: Callable[[Any], _T]) -> tuple[bool, _T | None]:
    """``(True, action(keyring))`` run on a daemon thread, or ``(False, None)`` when there is
    no backend, it raised or it took longer than :data:`TIMEOUT_S` (then marked unusable)."""
    if _unusable:
        return False, None
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            module = _backend()
            outcome.append((True, action(module)) if module is not None else (False, None))
        except Exception:  # any backend failure means "no keyring"
            outcome.append((False, None))

    worker = threading.Thread(target=run, name="cobbdesk-keyring", daemon=True)
    worker.start()
    worker.join(TIMEOUT_S)
    ok, value = outcome[0] if outcome else (False, None)
    if not ok:
        _unusable[:] = [True]
    return ok, value


def lookup(username: str) -> str | None:
    """The password stored under (:data:`SERVICE`, ``username``); None when there is none
    or no usable keyring.  Never raises."""
    with _lock:
        if username in _found:
            return _found[username]
    ok, value = _call(lambda k: k.get_password(SERVICE, username))
    if not ok or not isinstance(value, str) or not value:
        return None
    with _lock:
        _found[username] = value
    return value


def cached(username: str) -> str | None:
    """The password :func:`lookup` or :func:`store` had for ``username`` in this process,
    without asking the keyring; None when none."""
    with _lock:
        return _found.get(username)


def store(username: str, secret: str) -> bool:
    """Store ``secret`` under (:data:`SERVICE`, ``username``); False when there is no usable
    keyring (nothing stored).  Never raises."""
    ok, _ = _call(lambda k: k.set_password(SERVICE, username, secret))
    if ok:
        with _lock:
            _found[username] = secret
    return ok


def reset() -> None:
    """Forget what this process looked up and whether the keyring failed (tests, or after
    the user installed a keyring)."""
    with _lock:
        _found.clear()
        _unusable.clear()
