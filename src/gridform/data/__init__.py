"""Bring your own data: trajectories in, place cells from recordings, NWB in and out.

- :mod:`gridform.data.paths`: :class:`RecordedPath` from arrays, CSV, RatInABox or NWB;
  resampling, windows, ratemaps of a trained network along a path.
- :mod:`gridform.data.recorded`: :class:`RecordedPlaceCells`, a place-cell code from
  recorded ratemaps, usable as training targets.
- :mod:`gridform.data.assumptions`: do recorded place cells satisfy the theory's
  assumptions (translation invariance, centre-surround tuning, a ring)?
- :mod:`gridform.data.nwb`: NWB export and import (the ``gridform[nwb]`` extra).
- :mod:`gridform.data.synthetic`: recordings with known answers: place-cell populations
  for the assumption tests, ideal lattice ratemaps for calibrating scores.

RatInABox and pynwb are optional (``gridform[ratinabox]``, ``gridform[nwb]``), imported
only when used; without them a clear :class:`MissingExtraError` names the extra.
"""

from typing import TYPE_CHECKING

from gridform.core.lazy import exports

if TYPE_CHECKING:
    from gridform.data.assumptions import AssumptionReport, test_assumptions, write_assumptions
    from gridform.data.extras import DataError, MissingExtraError
    from gridform.data.paths import RecordedPath, network_ratemaps
    from gridform.data.recorded import RecordedPlaceCells, load_place_cell_maps
    from gridform.data.trajectory_files import load_path

__getattr__, __dir__ = exports(globals(), {
    "AssumptionReport": "gridform.data.assumptions",
    "test_assumptions": "gridform.data.assumptions",
    "write_assumptions": "gridform.data.assumptions",
    "DataError": "gridform.data.extras",
    "MissingExtraError": "gridform.data.extras",
    "RecordedPath": "gridform.data.paths",
    "network_ratemaps": "gridform.data.paths",
    "RecordedPlaceCells": "gridform.data.recorded",
    "load_place_cell_maps": "gridform.data.recorded",
    "load_path": "gridform.data.trajectory_files",
})

__all__ = ["AssumptionReport", "DataError", "MissingExtraError", "RecordedPath",
           "RecordedPlaceCells", "load_path", "load_place_cell_maps", "network_ratemaps",
           "test_assumptions", "write_assumptions"]
