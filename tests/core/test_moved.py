"""The import paths from before the layer folders: the same module, with a warning."""

import importlib
import subprocess
import sys

import pytest

from gridform._moved import MOVED, new_name


def test_new_name_maps_a_package_with_its_modules():
    assert new_name("gridform.sweep.engine") == "gridform.experiments.sweep.engine"
    assert new_name("gridform.sweep.report") == "gridform.presentation.sweep_report"
    assert new_name("gridform.sweep") == "gridform.experiments.sweep"
    assert new_name("gridform.reproduce_figures") == "gridform.presentation.figures"
    assert new_name("gridform.sweeps") is None and new_name("gridform.analysis") is None


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_gives_the_module_itself_and_warns(old):
    new = importlib.import_module(MOVED[old])
    with pytest.warns(DeprecationWarning, match=f"{old} has moved to {MOVED[old]}"):
        sys.modules.pop(old, None)
        assert importlib.import_module(old) is new
    assert new.__spec__.name == MOVED[old]  # the module keeps its own spec


def test_a_module_under_a_moved_package_is_not_loaded_twice():
    """``from gridform.sweep.spec import SweepSpec`` in a fresh interpreter is the class
    of the new path, not a second copy of the module."""
    code = ("import warnings; warnings.simplefilter('ignore')\n"
            "from gridform.sweep.spec import SweepSpec\n"
            "from gridform.experiments.sweep.spec import SweepSpec as New\n"
            "import gridform.reference as r, gridform.core.reference as c\n"
            "print(SweepSpec is New, r is c)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["True", "True"]
