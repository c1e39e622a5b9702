"""The ``gridform`` command: ``app`` holds the parser and ``main``; ``args`` the shared
options; one module per group of commands (``training``, ``data``, ``topology``,
``attractor``, ``demo``). ``main`` and ``build_parser`` are imported when first used, so
``gridform --help`` starts without the rest of the package."""

from gridform.core.lazy import exports

__getattr__, __dir__ = exports(globals(), {"main": "gridform.cli.app",
                                           "build_parser": "gridform.cli.app"})
__all__ = ["build_parser", "main"]
