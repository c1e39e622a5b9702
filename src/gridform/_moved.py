"""The import paths that modules had before the package was grouped into layer folders.

``import gridform.plotting`` still works: it hands back ``gridform.presentation.plotting``
itself (one module object, not a copy) and warns with a :class:`DeprecationWarning` that
names the new path. These old paths go in the next release.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings

__all__ = ["MOVED", "install", "new_name"]

MOVED = {  # old module -> where it lives now; a package moves with all its modules
    "gridform.errors": "gridform.core.errors",
    "gridform._io": "gridform.core.io",
    "gridform.compile_cache": "gridform.core.compile_cache",
    "gridform._lazy": "gridform.core.lazy",
    "gridform.reference": "gridform.core.reference",
    "gridform.environment": "gridform.core.environment",
    "gridform.place_cells": "gridform.core.place_cells",
    "gridform.trajectories": "gridform.core.trajectories",
    "gridform.models": "gridform.core.models",
    "gridform.analysis.ratemaps": "gridform.core.ratemaps",
    "gridform.theory.pattern_run": "gridform.experiments.pattern_run",
    "gridform.reproduce": "gridform.experiments.reproduce",
    "gridform.sweep.report": "gridform.presentation.sweep_report",
    "gridform.sweep": "gridform.experiments.sweep",
    "gridform.plotting": "gridform.presentation.plotting",
    "gridform.htmlpage": "gridform.presentation.htmlpage",
    "gridform.report": "gridform.presentation.report",
    "gridform.reproduce_figures": "gridform.presentation.figures",
    "gridform.cli_args": "gridform.cli.args",
    "gridform.topology_cli": "gridform.cli.topology",
    "gridform.attractor_cli": "gridform.cli.attractor",
    "gridform.training.cli": "gridform.cli.training",
    "gridform.data.cli": "gridform.cli.data",
    "gridform.demo": "gridform.cli.demo",
}


_LONGEST_FIRST = sorted(MOVED, key=len, reverse=True)  # gridform.sweep.report before .sweep


def new_name(old: str) -> str | None:
    """Where the module once imported as ``old`` lives now, or None if it did not move."""
    if not old.startswith("gridform."):  # the finder is asked about every import
        return None
    for prefix in _LONGEST_FIRST:
        if old == prefix or old.startswith(prefix + "."):
            return MOVED[prefix] + old[len(prefix):]
    return None


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Answers an old path with the module at its new one.

    It sits first on ``sys.meta_path``: otherwise ``gridform.sweep.engine`` would be found
    again through the moved package's ``__path__`` and run a second time as a copy.
    """

    def find_spec(self, fullname, path=None, target=None):
        new = new_name(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec):
        new = new_name(spec.name)
        warnings.warn(f"{spec.name} has moved to {new}; import it from there",
                      DeprecationWarning, stacklevel=2)
        module = importlib.import_module(new)
        spec.loader_state = module.__spec__
        return module

    def exec_module(self, module):
        # the import system wrote the old path's spec onto the module; give back its own
        module.__spec__ = module.__spec__.loader_state


def install() -> None:
    """Put the finder first on ``sys.meta_path``, once."""
    if not any(isinstance(f, _OldPaths) for f in sys.meta_path):
        sys.meta_path.insert(0, _OldPaths())
