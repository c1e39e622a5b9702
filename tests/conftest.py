"""Shared helpers and fixtures of the test suite.

The test folders mirror the packages of ``src/gridform`` and hold no ``__init__.py``:
pytest imports each test module by its file name, so every test module's name is unique
across folders, and ``from conftest import ...`` reaches this file from any of them.
"""

import contextlib
import io
import os
import tempfile

import numpy as np
import pytest

# The persistent compilation cache stays on (the programs it serves are the ones tested),
# but in a directory of this test session, never the user's.
os.environ["GRIDFORM_CACHE"] = tempfile.mkdtemp(prefix="gridform-test-cache-")

from gridform import Ratemaps
from gridform.core.environment import Box
from gridform.data.synthetic import lattice_ratemaps


def lattice_map(n=20, width=2.2, spacing=0.7, theta_deg=0.0, phase=(0.0, 0.0),
                kind="hex"):
    """One synthetic (n, n) map over a square box and its bin centres."""
    maps = lattice_ratemaps(spacing, theta_deg, phase, kind=kind, bins=n,
                            box=Box(width, width))
    return maps.rates[0], maps.x_centers


def as_ratemaps(maps, c):
    maps = np.asarray(maps)
    if maps.ndim == 2:
        maps = maps[None]
    return Ratemaps(maps, np.ones(maps.shape[1:]), c, c)


@pytest.fixture(scope="session")
def quick_reproduction(tmp_path_factory):
    """``gridform reproduce spectrum pattern multicell one-layer --quick``, run once for the
    claims' tests and the report's: its output directory and what it printed."""
    from gridform.cli.app import main

    out = tmp_path_factory.mktemp("reproduce") / "quick"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["reproduce", "spectrum", "pattern", "multicell", "one-layer", "--quick",
                     "--out", str(out)])
    assert code == 0, printed.getvalue()
    return out, printed.getvalue()


@pytest.fixture
def rng():
    return np.random.default_rng(0)
