"""gridform's own error types, and the import of optional dependencies.

The command line maps these to exit code 2 with a one-line message; anything else that
escapes a command is a bug.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["DataError", "MemoryLimitError", "MissingExtraError", "UsageError", "check_memory",
           "require"]


class UsageError(ValueError):
    """Bad input from the command line (an option, a path, a combination of them)."""


class DataError(ValueError):
    """Input data that cannot be used as given; the message says what is wrong with it."""


class MemoryLimitError(ValueError):
    """A request whose arrays would not fit in this machine's memory."""


def check_memory(nbytes: float, what: str, fraction: float = 0.5) -> None:
    """Refuse, before allocating, an array of ``nbytes`` larger than ``fraction`` of this
    machine's physical memory; the message gives both sizes and names ``what`` asked."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: no guard
        return
    if nbytes > fraction * total:
        raise MemoryLimitError(
            f"{what} would need {nbytes / 2**30:.1f} GiB, more than {fraction:.0%} of this "
            f"machine's {total / 2**30:.0f} GiB of memory; use fewer bins or cells")


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
