"""Lazy exports for the packages' ``__init__`` files: a name is imported when first used.

``gridform --help`` and every command then start without importing JAX, SciPy or Dask
unless the command needs them, while ``from gridform.training import train`` works as
before.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["exports"]


def exports(namespace: dict[str, Any], names: dict[str, str]
            ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package whose public ``names`` map to
    ``"module"`` or ``"module:attribute"`` (when the attribute has another name)."""

    def __getattr__(name: str) -> Any:
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        module, _, attribute = target.partition(":")
        value = getattr(importlib.import_module(module), attribute or name)
        namespace[name] = value  # imported once
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
