"""keyring's test seam for CobbDesk's tests: in-memory backends set with ``keyring.set_keyring``
(no real keyring of the machine is read or written)."""

from __future__ import annotations

import keyring
from keyring.backend import KeyringBackend

from cobbdesk.core.store import os_keyring


def use_keyring(backend: KeyringBackend) -> None:
    """Make ``backend`` the keyring and forget what this process looked up before."""
    keyring.set_keyring(backend)
    os_keyring.reset()


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict; counts the look-ups."""

    priority = 10  # type: ignore[assignment]  # keyring reads a class attribute as well

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}
        self.lookups = 0

    def get_password(self, service: str, username: str) -> str | None:
        self.lookups += 1
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


class BrokenKeyring(MemoryKeyring):
    """A backend that fails as a misconfigured D-Bus service does."""

    def get_password(self, service: str, username: str) -> str | None:
        self.lookups += 1
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")
