"""Names of a package loaded on first use (PEP 562), for packages whose submodules are heavy.

>>> getattr_ = lazy_getattr("json", {"decoder": ("JSONDecoder",)})
>>> getattr_("JSONDecoder").__name__
'JSONDecoder'
>>> getattr_("nothing")
Traceback (most recent call last):
...
AttributeError: module 'json' has no attribute 'nothing'
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, homes: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``homes`` maps each submodule to the names it
    provides; a name is imported from its submodule when first asked for, then cached in the
    package's namespace.  Raises AttributeError for any other name, as a module would."""
    module_of = {name: module for module, names in homes.items() for name in names}

    def getattr_(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace = sys.modules.get(package)
        if namespace is not None:
            setattr(namespace, name, value)
        return value

    return getattr_
