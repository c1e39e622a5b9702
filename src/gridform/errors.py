"""gridform's own error types, and the import of optional dependencies.

The command line maps these to exit code 2 with a one-line message; anything else that
escapes a command is a bug.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["DataError", "MissingExtraError", "UsageError", "require"]


class UsageError(ValueError):
    """Bad input from the command line (an option, a path, a combination of them)."""


class DataError(ValueError):
    """Input data that cannot be used as given; the message says what is wrong with it."""


class MissingExtraError(ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming ``gridform[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtraError(
            f"{module} is not installed, and this needs it: "
            f"pip install 'gridform[{extra}]' ({err})") from None
